from django.urls import path
from rest_framework.routers import SimpleRouter

from encryption.api.cse_keys import MasterKeyViewSet
from encryption.api.views import KeyViewSet, RamPolicyView

router = SimpleRouter()
router.register("keys", KeyViewSet, basename="key")
router.register("cse-keys", MasterKeyViewSet, basename="cse-key")
routers = [router]
urlpatterns = [path("ram-policy/", RamPolicyView.as_view(), name="api-ram-policy")]
