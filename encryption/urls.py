from django.urls import path

from encryption.views import cse_uploads, keys, master_keys

app_name = "encryption"

_key = "<int:connection_id>/<str:region>/<str:key_id>/"

urlpatterns = [
    path("", keys.key_list, name="key_list"),
    path("ram-policy/", keys.ram_policy, name="ram_policy"),
    path("cse/", master_keys.cse_key_list, name="cse_key_list"),
    path("cse/new/", master_keys.cse_key_new, name="cse_key_new"),
    path("cse/import/", master_keys.cse_key_import, name="cse_key_import"),
    path("cse/<int:pk>/", master_keys.cse_key_detail, name="cse_key_detail"),
    path("cse/<int:pk>/delete/", master_keys.cse_key_delete, name="cse_key_delete"),
    path("cse/<int:pk>/public-key.pem", master_keys.cse_public_key, name="cse_public_key"),
    path("cse/uploads/<int:pk>/", cse_uploads.cse_transfer, name="cse_transfer"),
    path("cse/uploads/<int:pk>/status.json", cse_uploads.cse_transfer_status, name="cse_transfer_status"),
    path("byok/", keys.byok_start, name="byok_start"),
    path("byok/parameters/", keys.byok_parameters, name="byok_parameters"),
    path("byok/wrapping-key.pem", keys.byok_public_key, name="byok_public_key"),
    path("byok/import/", keys.byok_import, name="byok_import"),
    path("byok/generate/", keys.byok_generate, name="byok_generate"),
    path("byok/done/", keys.byok_done, name="byok_done"),
    path("<int:connection_id>/<str:region>/new/", keys.key_create, name="key_create"),
    path(_key, keys.key_detail, name="key_detail"),
    path(_key + "aliases/add/", keys.key_alias_add, name="key_alias_add"),
    path(_key + "aliases/remove/", keys.key_alias_remove, name="key_alias_remove"),
    path(_key + "enable/", keys.key_enable, name="key_enable"),
    path(_key + "disable/", keys.key_disable, name="key_disable"),
    path(_key + "schedule-deletion/", keys.key_schedule_deletion, name="key_schedule_deletion"),
    path(_key + "cancel-deletion/", keys.key_cancel_deletion, name="key_cancel_deletion"),
    path(_key + "rotate/", keys.key_rotate, name="key_rotate"),
    path(_key + "import/", keys.key_import, name="key_import"),
]
