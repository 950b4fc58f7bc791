"""The one mapping of ServiceError to HTTP for the whole API."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from console.exceptions import ServiceError


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message}, status=exc.status_code)
    return drf_exception_handler(exc, context)
