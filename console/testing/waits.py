"""Waits on an observable state, never on a duration: a test that sleeps to let something happen is slow when
the machine is fast and flaky when it is slow; one that polls the state it needs is neither."""

import time
from collections.abc import Callable
from typing import Any


def wait_until(
    predicate: Callable[[], Any],
    *,
    message: str,
    timeout: float = 60.0,
    interval: float = 0.1,
    observe: Callable[[], Any] | None = None,
) -> Any:
    """Poll `predicate()` until its value is truthy; that value.

    On timeout, fail saying what was awaited (`message`, e.g. "job 3 to finish") and the last value observed:
    `observe()` when given (called once, at the failure, to tell the state a boolean predicate hides), else the
    predicate's own last value.
    """
    deadline = time.monotonic() + timeout
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    observed = observe() if observe is not None else last
    raise AssertionError(f"timed out after {timeout:g} s waiting for {message}; last observed: {observed!r}")
