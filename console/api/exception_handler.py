"""The one mapping of service errors to HTTP for the whole API."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cloud.errors import CloudError, ServiceError


def exception_handler(exc, context):
    if isinstance(exc, CloudError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message}, status=exc.status_code)
    return drf_exception_handler(exc, context)
