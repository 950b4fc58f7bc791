"""Limits shared by every worker through Redis: a token bucket per connection for OSS requests and KMS calls,
and a semaphore per job for the objects in flight.

Both live in Lua scripts so each check-and-take is one atomic step, whichever worker asks.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager

import redis
from django.conf import settings

_TOKEN_BUCKET = """
local key, rate, burst = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local now, wanted = tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', key, 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
tokens = tokens - wanted
local wait = 0
if tokens < 0 then
  wait = -tokens / rate
end
redis.call('HSET', key, 'tokens', tokens, 'at', now)
redis.call('EXPIRE', key, 60)
return tostring(wait)
"""

_SEMAPHORE_ACQUIRE = """
local key, limit, now, expires, holder = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, expires, holder)
  redis.call('EXPIRE', key, 3600)
  return 1
end
return 0
"""

_clients: dict[str, redis.Redis] = {}
_scripts: dict[tuple[str, str], object] = {}


def client() -> redis.Redis:
    """One pooled client per Redis URL (tests point settings at their own Redis)."""
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    return _clients[url]


def _script(name: str, source: str):
    key = (settings.REDIS_URL, name)
    if key not in _scripts:
        _scripts[key] = client().register_script(source)
    return _scripts[key]


def take(bucket: str, rate: int, count: int = 1) -> float:
    """Take `count` tokens from a bucket refilled at `rate` per second (no cap when rate is 0); returns the wait.

    Tokens are taken at once even when the bucket runs short (it goes into debt), so callers queue fairly.
    """
    if rate <= 0 or count <= 0:
        return 0.0
    key = f"console:rate:{bucket}"
    wait = float(_script("bucket", _TOKEN_BUCKET)(keys=[key], args=[rate, max(rate, count), time.time(), count]))
    if wait > 0:
        time.sleep(wait)
    return wait


def take_oss(connection_id: int, rate: int, count: int = 1) -> float:
    return take(f"oss:{connection_id}", rate, count)


def take_kms(connection_id: int, rate: int, count: int = 1) -> float:
    return take(f"kms:{connection_id}", rate, count)


@contextmanager
def slot(job_id: int, limit: int, lease_seconds: float = 300.0, wait_seconds: float = 0.25):
    """Hold one of `limit` slots of a job while the block runs; a holder that dies frees its slot after the lease.

    Waiters block on a wake-up list that every release pushes to, instead of polling: one Redis call per wait.
    """
    key, wake, holder = f"console:job:{job_id}:slots", f"console:job:{job_id}:wake", uuid.uuid4().hex
    acquire = _script("semaphore", _SEMAPHORE_ACQUIRE)
    redis = client()
    while True:
        now = time.time()
        if acquire(keys=[key], args=[max(1, limit), now, now + lease_seconds, holder]):
            break
        redis.blpop([wake], timeout=wait_seconds)
    try:
        yield
    finally:
        with redis.pipeline() as pipe:
            pipe.zrem(key, holder)
            pipe.rpush(wake, 1)
            pipe.ltrim(wake, -max(1, limit), -1)
            pipe.expire(wake, 3600)
            pipe.execute()
