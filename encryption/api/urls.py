from django.urls import path
from rest_framework.routers import SimpleRouter

from encryption.api.views.keys import KeyViewSet, RamPolicyView
from encryption.api.views.master_keys import MasterKeyViewSet

router = SimpleRouter()
router.register("keys", KeyViewSet, basename="key")
router.register("cse-keys", MasterKeyViewSet, basename="cse-key")
urlpatterns = [path("ram-policy/", RamPolicyView.as_view(), name="api-ram-policy")]
