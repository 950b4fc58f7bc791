import logging

from django.conf import settings
from django.contrib.auth import logout, middleware
from django.shortcuts import render
from django.utils import timezone

from cloud.errors import CloudError, ServiceError

log = logging.getLogger(__name__)


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    """Every page needs a login; the API answers 401/403 itself instead of redirecting to the login form."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


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
