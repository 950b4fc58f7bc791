"""Transient cloud failures retried for the console's own requests (a page, an API call, a check before a job).

An idempotent call is tried up to ATTEMPTS times with jittered exponential backoff before its CloudError reaches
the caller (a 502). A caller with its own policy, the job engine with its rate limits, marks its calls with
`retried_by_caller()` so they are tried once here: retries are never multiplied.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from cloud.errors import CloudError

ATTEMPTS = 4  # the first try and 3 retries
BACKOFF_BASE_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 2.0

_caller_retries: ContextVar[bool] = ContextVar("caller_retries", default=False)


@contextmanager
def retried_by_caller() -> Iterator[None]:
    """Calls in this block are tried once: the caller retries them under its own policy."""
    token = _caller_retries.set(True)
    try:
        yield
    finally:
        _caller_retries.reset(token)


def backoff_seconds(attempt: int) -> float:
    """Full jitter: clients failing together do not come back together."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))


def call(operation: Callable, *args, **kwargs):
    """`operation(*args, **kwargs)`, tried again on a transient CloudError (only for calls safe to repeat)."""
    attempts = 1 if _caller_retries.get() else ATTEMPTS
    for attempt in range(attempts):
        try:
            return operation(*args, **kwargs)
        except CloudError as error:
            if not error.transient or attempt == attempts - 1:
                raise
            time.sleep(max(backoff_seconds(attempt), error.qos_delay_ms / 1000))
    raise AssertionError("unreachable")


def idempotent(method: Callable) -> Callable:
    """Marks a client method safe to repeat: it reads, or sets a state that a second call sets again."""

    @functools.wraps(method)
    def retried(*args, **kwargs):
        return call(method, *args, **kwargs)

    return retried
