"""Host names for localcloud in tests: a domain and every name under it resolve to loopback, in this process only.

oss2 and the KMS SDK call a host name endpoint as they would call OSS (`<bucket>.<domain>`, `kms.<region>.<domain>`);
no DNS or /etc/hosts change is needed, and nothing outside the test process sees the names. A worker started as a
separate process (console.testing.workers) does not either: use the in-process `worker` fixture with these names.
"""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

# RFC 2606 keeps `.test` for testing: no real host can answer it.
TEST_DOMAIN = "localcloud.test"
LOOPBACK = "127.0.0.1"


def is_under(host, domain: str) -> bool:
    """`host` is `domain` or a name under it (`<bucket>.<domain>`); DNS names compare without case."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    host = host.lower().rstrip(".")
    return host == domain or host.endswith(f".{domain}")


@contextmanager
def resolving_to_loopback(domain: str = TEST_DOMAIN) -> Iterator[str]:
    """While open, `domain` and every name under it resolve to 127.0.0.1 in this process; yields the domain."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        return real_getaddrinfo(LOOPBACK if is_under(host, domain) else host, *args, **kwargs)

    with mock.patch.object(socket, "getaddrinfo", getaddrinfo):
        yield domain


def endpoint_at(domain: str, localcloud_endpoint: str, host_prefix: str = "") -> str:
    """The endpoint `http://[<prefix>.]<domain>:<port>` of the localcloud serving `localcloud_endpoint`."""
    port = localcloud_endpoint.rsplit(":", 1)[1]
    host = f"{host_prefix}.{domain}" if host_prefix else domain
    return f"http://{host}:{port}"
