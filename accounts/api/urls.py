from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api.views import ApiTokenViewSet, CurrentUserView, ObtainTokenView, OwnPasswordView, UserViewSet

router = SimpleRouter()
router.register("users", UserViewSet, basename="user")
router.register("tokens", ApiTokenViewSet, basename="token")
urlpatterns = [
    path("me/", CurrentUserView.as_view(), name="api-me"),
    path("me/password/", OwnPasswordView.as_view(), name="api-me-password"),
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
]
