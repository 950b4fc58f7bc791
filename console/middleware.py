import logging

from django.conf import settings
from django.contrib.auth import logout, middleware
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts import services as accounts
from cloud.errors import CloudError, ServiceError

log = logging.getLogger(__name__)


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    """Every page needs a login; the API answers 401/403 itself instead of redirecting to the login form."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class TwoFactorMiddleware:
    """A session past the password but owing its second factor opens only the page where it can give it: the code
    step for a user with an authenticator, the set-up pages for one whose role requires an authenticator and who
    has none yet. Every other page sends it there (then back with `next`); logging out stays open.

    The API takes such a session for no one (its token authentication is not asked for a code): DRF's session
    authentication reads the user this middleware leaves on the request.
    """

    CODE_STEP = ("login_code",)
    SET_UP = ("two_factor", "two_factor_setup", "two_factor_confirm")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        pages = self._pages_open_to(request.user)
        if pages is None:
            return None
        request.owes_second_factor = True
        if request.path_info.startswith("/api/"):
            request.user = AnonymousUser()
            return None
        if request.resolver_match.view_name in (*pages, "logout") or not getattr(view_func, "login_required", True):
            return None
        return redirect(f"{reverse(pages[0])}?{urlencode({'next': request.get_full_path()})}")

    def _pages_open_to(self, user) -> tuple[str, ...] | None:
        if not user.is_authenticated or user.is_verified():
            return None
        if accounts.has_two_factor(user):
            return self.CODE_STEP
        if accounts.two_factor_required(user):
            return self.SET_UP
        return None


class PasswordChangeMiddleware:
    """A user whose password was generated for them (at creation or by an Admin's reset) opens only the password
    change page until they have chosen their own; every other page sends them there (then back with `next`), and
    logging out stays open. It waits for the second factor: TwoFactorMiddleware leads first.

    The API answers such a session 403 itself (console.api.permissions), naming the way out.
    """

    OPEN_PAGES = ("password_change", "logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(request, "owes_second_factor", False) or request.path_info.startswith("/api/"):
            return None
        if not accounts.password_change_required(request.user):
            return None
        request.owes_password_change = True
        if request.resolver_match.view_name in self.OPEN_PAGES or not getattr(view_func, "login_required", True):
            return None
        return redirect(f"{reverse('password_change')}?{urlencode({'next': request.get_full_path()})}")


class SessionExpiryMiddleware:
    """Signs out a session idle for SESSION_IDLE_MINUTES, and any session SESSION_MAX_HOURS after it began.

    SESSION_COOKIE_AGE alone ends a session a fixed time after it was last saved, idle or not, and a session saved
    now and then (a message, a wizard step) would outlive any cap. The stamps are seconds since the epoch in the
    session; a session without them (signed in before this check
    existed, or just now) starts its clock at its first request. The last-activity stamp is written at most once
    a minute, so pages that poll do not save the session on every request.
    """

    SIGNED_IN_AT = "signed_in_at"
    LAST_ACTIVITY_AT = "last_activity_at"
    STAMP_EVERY_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            self._expire_or_stamp(request)
        return self.get_response(request)

    def _expire_or_stamp(self, request):
        now = timezone.now().timestamp()
        session = request.session
        idle_seconds = now - session.get(self.LAST_ACTIVITY_AT, now)
        age_seconds = now - session.setdefault(self.SIGNED_IN_AT, now)
        if idle_seconds > settings.SESSION_IDLE_MINUTES * 60 or age_seconds > settings.SESSION_MAX_HOURS * 3600:
            logout(request)
        elif idle_seconds >= self.STAMP_EVERY_SECONDS or self.LAST_ACTIVITY_AT not in session:
            session[self.LAST_ACTIVITY_AT] = now


class ServiceErrorPageMiddleware:
    """A safety net for pages: a ServiceError (an OSS or KMS refusal included) that a view did not handle becomes
    an error page with the cloud's code, message and request id instead of a 500. The API has its own handler."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ServiceError) or request.path_info.startswith("/api/"):
            return None
        log.warning("%s %s refused: %s", request.method, request.path_info, exception.message)
        context = {"error": exception, "cloud": exception if isinstance(exception, CloudError) else None}
        return render(request, "console/service_error.html", context, status=exception.status_code)
