"""Fault injection for tests (settings.LOCALCLOUD_FAULTS, docs/localcloud.md): with the configured probability
a request is answered with a transient failure instead of being handled, or its connection is dropped.

The draw happens before the request is parsed or routed, so a faulted request has had no effect and a retry
is safe. The setting is read per request (parsed once per distinct value), so a test can switch it with the
`settings` fixture; LOCALCLOUD_FAULTS_SEED makes the sequence of draws reproducible.
"""

import errno
import functools
import logging
import random
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from console.env import parse_probabilities
from localcloud.errors import OssError
from localcloud.kms.errors import KmsError

log = logging.getLogger("localcloud")

THROTTLED = "Request was denied due to request throttling."
# OSS delays a request for QoS and says by how much, in milliseconds, in this header (OSS "Limits" page).
QOS_DELAY_HEADER = "x-oss-qos-delay-time"
QOS_DELAY_MS = 200


@dataclass(frozen=True)
class Fault:
    """An error answer (OSS error XML or KMS error JSON, by the request), or `status` 0: drop the connection.

    A fault with no OSS code (or no KMS code) leaves that service's requests alone: they are served as usual.
    """

    kind: str
    status: int = 0
    oss_code: str = ""
    oss_message: str = ""
    kms_code: str = ""
    kms_message: str = ""
    oss_headers: tuple[tuple[str, str], ...] = ()

    @property
    def drops_connection(self) -> bool:
        return self.status == 0

    def oss_error(self) -> OssError | None:
        if not self.oss_code:
            return None
        return OssError(self.status, self.oss_code, self.oss_message, headers=dict(self.oss_headers))

    def kms_error(self) -> KmsError | None:
        if not self.kms_code:
            return None
        return KmsError(self.status, self.kms_code, self.kms_message)


# OSS codes as OSS answers them; KMS ones from its common error codes (localcloud/kms/errors.py).
KINDS = {
    "503": Fault("503", 503, "ServiceUnavailable", "Service is unavailable, please try again later.",
                 "ServiceUnavailableTemporary", "Service Unavailable Temporary."),
    "500": Fault("500", 500, "InternalError", "We encountered an internal error. Please try again.",
                 "InternalFailure", "Internal Failure."),
    "throttle": Fault("throttle", 503, "Throttling", THROTTLED, "Throttling", THROTTLED),
    # OSS refuses requests above a QPS limit with 503 and tells how long it delays them; KMS is not involved.
    "qos": Fault("qos", 503, "TotalQpsLimitExceeded", "Max total qps limit is exceeded",
                 oss_headers=((QOS_DELAY_HEADER, str(QOS_DELAY_MS)),)),
    # KMS's shared quota per account and region, worded as KMS answers it; OSS requests are not involved.
    "kms-throttle": Fault("kms-throttle", 429, kms_code="Rejected.Throttling", kms_message="QPS Limit Exceeded"),
    "reset": Fault("reset"),
}  # fmt: skip


class ConnectionDropped(ConnectionResetError):
    """Raised out of the WSGI app for a `reset` fault. cheroot takes ECONNRESET for a client that went away:
    it sends nothing and closes the socket, so the client sees the connection end without a response."""

    def __init__(self):
        super().__init__(errno.ECONNRESET, "connection dropped by LOCALCLOUD_FAULTS")


_lock = threading.Lock()
_random = random.Random()
_UNSEEDED = object()
_seeded_with: object = _UNSEEDED


@functools.lru_cache(maxsize=32)
def _plan(raw: str) -> tuple[tuple[float, Fault], ...]:
    """(cumulative probability, fault) pairs; a draw below a bound gets the first such fault."""
    bound, plan = 0.0, []
    for kind, probability in parse_probabilities("LOCALCLOUD_FAULTS", raw, KINDS).items():
        if probability > 0:
            bound += probability
            plan.append((bound, KINDS[kind]))
    return tuple(plan)


def _draw() -> float:
    global _seeded_with
    seed = settings.LOCALCLOUD_FAULTS_SEED
    with _lock:
        if _seeded_with != seed:
            _random.seed(seed)  # None: from the operating system's randomness
            _seeded_with = seed
        return _random.random()


@receiver(setting_changed)
def _reseed_on_change(setting, **kwargs):
    """A test that sets the seed (or the faults) starts the seeded sequence afresh, whatever ran before."""
    global _seeded_with
    if setting in ("LOCALCLOUD_FAULTS", "LOCALCLOUD_FAULTS_SEED"):
        with _lock:
            _seeded_with = _UNSEEDED


def draw(environ) -> Fault | None:
    """The fault to inject into this request, if any; logged without headers or query string."""
    raw = getattr(settings, "LOCALCLOUD_FAULTS", "")
    if not raw:
        return None
    plan = _plan(raw)
    if not plan:
        return None
    value = _draw()
    fault = next((fault for bound, fault in plan if value < bound), None)
    if fault is not None:
        log.info("injected fault %s: %s %s", fault.kind, environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "/"))
    return fault
