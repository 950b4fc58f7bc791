"""How every API list is paged."""

from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """Offset pages of at most 1000 items, so no `limit` reaches the database as an out-of-range number."""

    max_limit = 1000
