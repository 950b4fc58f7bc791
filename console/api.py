"""The one mapping of service errors to HTTP for the whole API."""

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cloud.errors import CloudError, ServiceError


def exception_handler(exc, context):
    if isinstance(exc, CloudError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message}, status=exc.status_code)
    return drf_exception_handler(exc, context)


class Pagination(LimitOffsetPagination):
    """Offset pages of at most 1000 items, so no `limit` reaches the database as an out-of-range number."""

    max_limit = 1000
