"""Where a connection may point: the console calls its endpoints with the connection's credentials, on any
user's behalf (Test connection, refresh), so an endpoint outside `CONSOLE_ENDPOINT_ALLOW` is never called.

Patterns are shell-style host patterns (`*.aliyuncs.com`, `oss.internal.example`); `loopback` stands for
every loopback address (localcloud, a tunnel). A metadata address or a private range is reachable only by
naming it.
"""

import ipaddress
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from django.conf import settings

from cloud.errors import ServiceError

LOOPBACK = "loopback"


class EndpointNotAllowed(ServiceError):
    """A ServiceError, so every door answers it as the refusal of a request (400)."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed(host: str, patterns: list[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(
        _is_loopback(host) if pattern == LOOPBACK else fnmatchcase(host, pattern.lower()) for pattern in patterns
    )


def check_endpoint(url: str) -> None:
    """Refuse an endpoint whose host no allow pattern matches, naming the setting that would allow it."""
    host = urlsplit(url).hostname or ""
    patterns = settings.CONSOLE_ENDPOINT_ALLOW
    if not allowed(host, patterns):
        raise EndpointNotAllowed(
            f"The console may not call {host or url!r}: CONSOLE_ENDPOINT_ALLOW allows {', '.join(patterns)}."
        )
