from django.urls import path
from rest_framework.routers import SimpleRouter

from encryption.api.views import KeyViewSet, RamPolicyView

router = SimpleRouter()
router.register("keys", KeyViewSet, basename="key")
routers = [router]
urlpatterns = [path("ram-policy/", RamPolicyView.as_view(), name="api-ram-policy")]
