"""Waits on an observable state, never on a duration."""

import time


def wait_until(condition, what: str, timeout: float = 60.0):
    """Wait for `condition()` to hold (a state to be reached, not a duration to be met); its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"still not {what} after {timeout} s")
