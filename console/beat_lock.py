"""One beat fires schedules at a time: the holder of a lock in Redis, kept alive by a lease it renews.

Every beat process runs a `Leadership` thread. While the lock is free it takes it (set with the lease as expiry,
the value naming its host and pid); while it holds it, it renews the lease every third of it. A beat that dies
stops renewing, the lease runs out, and a standing-by beat takes the lock at its next attempt: within about one
lease of a SIGKILL, at once after a clean stop (the lock is released). A holder counts itself leader only until its
own last renewal plus the lease, so one cut off from Redis stops firing before anyone else can take over.
"""

import logging
import os
import socket
import threading
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

LOCK_KEY = "console:beat:leader"

# Compare-and-act in one step: the holder named in the value renews its lease, anyone takes a free lock (as SET NX
# PX would), and only the holder releases it.
_TAKE_OR_RENEW = """
local current = redis.call('get', KEYS[1])
if current == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if current then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def identity() -> str:
    """This process as the lock names it: `host pid N`."""
    return f"{socket.gethostname()} pid {os.getpid()}"


def holder(client: redis.Redis) -> str | None:
    """Who holds the lock now, or None when no beat does."""
    value = client.get(LOCK_KEY)
    return value.decode() if value is not None else None


class Leadership:
    """Takes and keeps the beat lock from a daemon thread; `is_leader()` is what the scheduler asks before firing."""

    def __init__(self, client: redis.Redis, lease_seconds: float, name: str | None = None):
        self.client = client
        self.lease_seconds = lease_seconds
        self.name = name or identity()
        self._leader_until = 0.0  # time.monotonic() up to which this process may fire
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="beat-leadership", daemon=True)
        self._last_seen_holder = None

    @classmethod
    def from_settings(cls) -> "Leadership":
        lease = settings.CONSOLE_BEAT_LEASE_SECONDS
        # A call that outlives a third of the lease would leave too little of it to renew in time.
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=lease / 3, socket_connect_timeout=lease / 3)
        return cls(client, lease)

    def start(self) -> "Leadership":
        self.attempt()
        self._thread.start()
        return self

    def is_leader(self) -> bool:
        return time.monotonic() < self._leader_until

    def attempt(self) -> None:
        """Renew the lease when holding the lock, else try to take it; log only when the situation changes."""
        was_holding = self._last_seen_holder == self.name
        started = time.monotonic()
        try:
            held = bool(self.client.eval(_TAKE_OR_RENEW, 1, LOCK_KEY, self.name, int(self.lease_seconds * 1000)))
            current = self.name if held else holder(self.client)
        except redis.RedisError as error:
            if was_holding:
                logger.warning(
                    "beat lock not renewed (%s); firing stops if Redis stays unreachable for the lease",
                    type(error).__name__,
                )
            return
        if held:
            self._leader_until = started + self.lease_seconds
            if not was_holding:
                logger.warning("beat lock taken by %s: this beat fires the schedules", self.name)
        else:
            self._leader_until = 0.0
            if was_holding:
                logger.warning("beat lock lost to %s: this beat stops firing and stands by", current or "nobody")
            elif current != self._last_seen_holder:
                logger.warning("beat lock held by %s: this beat (%s) stands by", current or "nobody", self.name)
        self._last_seen_holder = current

    def stop(self) -> None:
        """Stop renewing and release the lock, so a standing-by beat takes over at its next attempt."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()
        self._leader_until = 0.0
        try:
            self.client.eval(_RELEASE, 1, LOCK_KEY, self.name)
        except redis.RedisError:
            logger.warning("beat lock not released; it expires with its lease")

    def _run(self) -> None:
        while not self._stopped.wait(self.lease_seconds / 3):
            self.attempt()
