"""Each Celery worker says it is alive by stamping its name in Redis every few seconds.

A health probe then reads one sorted set instead of broadcasting a control ping and waiting out its timeout:
`/healthz` and the Overview answer in milliseconds whether or not a worker runs.
"""

import logging
import time

import redis
from celery import bootsteps
from django.conf import settings

PRESENCE_KEY = "console:workers"
STAMP_INTERVAL_SECONDS = 10.0
# A worker is "seen" while its last stamp is younger than this: three stamps may be missed before it counts as gone.
SEEN_FOR_SECONDS = STAMP_INTERVAL_SECONDS * 3

logger = logging.getLogger(__name__)


def redis_client(timeout: float) -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout)


def stamp(client: redis.Redis, hostname: str) -> None:
    now = time.time()
    with client.pipeline() as pipe:
        pipe.zadd(PRESENCE_KEY, {hostname: now})
        pipe.zremrangebyscore(PRESENCE_KEY, "-inf", now - SEEN_FOR_SECONDS)
        pipe.execute()


def seen_workers(client: redis.Redis) -> list[str]:
    """Names of the workers that stamped recently, newest first."""
    names = client.zrevrangebyscore(PRESENCE_KEY, "+inf", time.time() - SEEN_FOR_SECONDS)
    return [name.decode() for name in names]


class WorkerPresence(bootsteps.StartStopStep):
    """Stamps from the worker's own timer, so a stuck pool does not keep a dead worker looking alive for long."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_entry = None
        self.client = None

    def start(self, worker):
        self.client = redis_client(timeout=2.0)
        self._stamp(worker)
        self.timer_entry = worker.timer.call_repeatedly(STAMP_INTERVAL_SECONDS, self._stamp, (worker,))

    def stop(self, worker):
        if self.timer_entry is not None:
            self.timer_entry.cancel()
        try:
            self.client.zrem(PRESENCE_KEY, worker.hostname)
        except redis.RedisError:
            logger.warning("could not remove worker %s from the presence set", worker.hostname)

    # A cold shutdown terminates steps instead of stopping them: the worker is gone all the same.
    terminate = stop

    def _stamp(self, worker):
        try:
            stamp(self.client, worker.hostname)
        except redis.RedisError as error:
            logger.warning("worker presence not recorded: %s", type(error).__name__)
