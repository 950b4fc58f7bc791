import logging

from django.contrib.auth import middleware
from django.shortcuts import render

from cloud.errors import CloudError, ServiceError

log = logging.getLogger(__name__)


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    """Every page needs a login; the API answers 401/403 itself instead of redirecting to the login form."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


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
