from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as accounts_views
from console import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("overview/buckets/", views.overview_buckets, name="overview_buckets"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", accounts_views.SignInView.as_view(), name="login"),
    path("accounts/login/code/", accounts_views.login_code, name="login_code"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", accounts_views.password_change, name="password_change"),
    path("accounts/two-factor/", accounts_views.two_factor, name="two_factor"),
    path("accounts/two-factor/setup/", accounts_views.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/confirm/", accounts_views.two_factor_confirm, name="two_factor_confirm"),
    path("accounts/two-factor/disable/", accounts_views.two_factor_disable, name="two_factor_disable"),
    path("users/", include("accounts.urls")),
    path("", include("buckets.urls")),
    path("keys/", include("encryption.urls")),
    path("audit/", include("audit.urls")),
    path("jobs/", include("jobs.urls")),
    path("api/v1/", include("console.api.urls")),
]

handler403 = views.permission_denied
