"""A simulated network for tests and benchmarks (settings.LOCALCLOUD_LATENCY_MS and LOCALCLOUD_LATENCY_JITTER_MS,
docs/localcloud.md): every OSS and KMS answer waits that long before the request is handled, as a round trip to
the real service costs time but no CPU on either side.

The wait sleeps in the request's own server thread, so concurrent requests wait side by side, not in turn, as long
as the server has a thread for each (localcloud/server.py). The settings are read per request, so a test or a
benchmark may switch them while localcloud runs.
"""

import random
from time import sleep

from django.conf import settings


def delay_seconds() -> float:
    """This request's wait: the latency, moved by a uniform draw within ± the jitter, never below zero."""
    latency_ms = settings.LOCALCLOUD_LATENCY_MS
    jitter_ms = settings.LOCALCLOUD_LATENCY_JITTER_MS
    if not latency_ms and not jitter_ms:
        return 0.0
    return max(0.0, latency_ms + random.uniform(-jitter_ms, jitter_ms)) / 1000


def wait() -> None:
    seconds = delay_seconds()
    if seconds:
        sleep(seconds)
