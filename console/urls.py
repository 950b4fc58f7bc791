from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import SignInView
from console import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("overview/buckets/", views.overview_buckets, name="overview_buckets"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("users/", include("accounts.urls")),
    path("", include("buckets.urls")),
    path("keys/", include("encryption.urls")),
    path("audit/", include("audit.urls")),
    path("jobs/", include("jobs.urls")),
    path("api/v1/", include("console.api.urls")),
]
