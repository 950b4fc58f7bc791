from django.urls import path

from encryption.views import cse_uploads as views_transfer
from encryption.views import keys as views
from encryption.views import master_keys as views_cse

app_name = "encryption"

_key = "<int:connection_id>/<str:region>/<str:key_id>/"

urlpatterns = [
    path("", views.key_list, name="key_list"),
    path("ram-policy/", views.ram_policy, name="ram_policy"),
    path("cse/", views_cse.cse_key_list, name="cse_key_list"),
    path("cse/new/", views_cse.cse_key_new, name="cse_key_new"),
    path("cse/import/", views_cse.cse_key_import, name="cse_key_import"),
    path("cse/<int:pk>/", views_cse.cse_key_detail, name="cse_key_detail"),
    path("cse/<int:pk>/delete/", views_cse.cse_key_delete, name="cse_key_delete"),
    path("cse/<int:pk>/public-key.pem", views_cse.cse_public_key, name="cse_public_key"),
    path("cse/uploads/<int:pk>/", views_transfer.cse_transfer, name="cse_transfer"),
    path("cse/uploads/<int:pk>/status.json", views_transfer.cse_transfer_status, name="cse_transfer_status"),
    path("byok/", views.byok_start, name="byok_start"),
    path("byok/parameters/", views.byok_parameters, name="byok_parameters"),
    path("byok/wrapping-key.pem", views.byok_public_key, name="byok_public_key"),
    path("byok/import/", views.byok_import, name="byok_import"),
    path("byok/generate/", views.byok_generate, name="byok_generate"),
    path("byok/done/", views.byok_done, name="byok_done"),
    path("<int:connection_id>/<str:region>/new/", views.key_create, name="key_create"),
    path(_key, views.key_detail, name="key_detail"),
    path(_key + "aliases/add/", views.key_alias_add, name="key_alias_add"),
    path(_key + "aliases/remove/", views.key_alias_remove, name="key_alias_remove"),
    path(_key + "enable/", views.key_enable, name="key_enable"),
    path(_key + "disable/", views.key_disable, name="key_disable"),
    path(_key + "schedule-deletion/", views.key_schedule_deletion, name="key_schedule_deletion"),
    path(_key + "cancel-deletion/", views.key_cancel_deletion, name="key_cancel_deletion"),
    path(_key + "rotate/", views.key_rotate, name="key_rotate"),
    path(_key + "import/", views.key_import, name="key_import"),
]
