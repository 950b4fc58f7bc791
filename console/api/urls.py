"""/api/v1/: one router over every app's viewsets, plus each app's extra routes, auth, schema and docs."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import APIRootView, DefaultRouter

from accounts.api import urls as accounts_api
from accounts.api.views import CurrentUserView, ObtainTokenView
from audit.api import urls as audit_api
from buckets.api import urls as buckets_api
from console.api.permissions import SIGNED_IN
from encryption.api import urls as encryption_api
from jobs.api import urls as jobs_api


class ApiRootView(APIRootView):
    """The list of resources, for anyone signed in."""

    action_permissions = {"get": SIGNED_IN}


router = DefaultRouter()
router.APIRootView = ApiRootView
for app_router in (
    accounts_api.router,
    audit_api.router,
    *buckets_api.routers,
    *encryption_api.routers,
    *jobs_api.routers,
):
    router.registry.extend(app_router.registry)

urlpatterns = [
    path("me/", CurrentUserView.as_view(), name="api-me"),
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *buckets_api.urlpatterns,
    *encryption_api.urlpatterns,
    *jobs_api.urlpatterns,
    *router.urls,
]
