"""/api/v1/: one router over every app's viewsets, plus each app's other routes, the schema and its docs."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import APIRootView, DefaultRouter

from accounts.api import urls as accounts_api
from audit.api import urls as audit_api
from buckets.api import urls as buckets_api
from console.api.permissions import SIGNED_IN
from encryption.api import urls as encryption_api
from jobs.api import urls as jobs_api

# Each app's api/urls.py has a `router` for its viewsets and `urlpatterns` for its other views.
APPS = (accounts_api, audit_api, buckets_api, encryption_api, jobs_api)


class ApiRootView(APIRootView):
    """The list of resources, for anyone signed in."""

    action_permissions = {"get": SIGNED_IN}


router = DefaultRouter()
router.APIRootView = ApiRootView
for app in APPS:
    router.registry.extend(app.router.registry)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    *(pattern for app in APPS for pattern in app.urlpatterns),
    *router.urls,
]
