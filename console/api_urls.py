"""/api/v1/: one router over every app's viewsets, plus auth, schema and docs."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts.api import urls as accounts_api
from accounts.api.views import CurrentUserView, ObtainTokenView

router = DefaultRouter()
for app_router in (accounts_api.router,):
    router.registry.extend(app_router.registry)

urlpatterns = [
    path("me/", CurrentUserView.as_view(), name="api-me"),
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *router.urls,
]
