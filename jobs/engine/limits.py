"""Limits shared by every worker through Redis: a token bucket per connection for OSS requests and KMS calls,
and a semaphore per job for the objects in flight.

Both live in Lua scripts so each check-and-take is one atomic step, whichever worker asks.

A bucket obeys the cloud's throttling (additive increase, multiplicative decrease): a throttled answer from OSS or
KMS halves the rate every worker of that connection takes tokens at, and the rate climbs back by a twentieth of
its ceiling per second. One cut per second at most, so the answers of many requests in flight at once, all
refused by the same burst of throttling, count once. The ceiling is the job's cap, or UNCAPPED_CEILING where it
has none.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager

import redis
from django.conf import settings

DECREASE_FACTOR = 0.5
RECOVERY_PER_SECOND = 0.05  # of the ceiling: from half the ceiling back to all of it in 10 s
MIN_RATE = 1.0
CUT_INTERVAL_SECONDS = 1.0
# Where a job has no cap, throttling still needs a rate to halve. KMS allows about 1,000 symmetric cryptographic
# calls per second per account and region (not raisable); OSS's total QPS per account is 10,000 but only about
# 2,000 for keys in sequence. 1,000 is under both.
UNCAPPED_CEILING = 1000.0

# The rate a bucket runs at now: its cap, unless throttling lowered it (then climbing back towards the ceiling).
_CURRENT_RATE = f"""
local function current_rate(cap, lowered, lowered_at, now)
  lowered = tonumber(lowered)
  if not lowered then return cap end
  local ceiling = cap > 0 and cap or {UNCAPPED_CEILING}
  local rate = lowered + math.max(0, now - tonumber(lowered_at)) * ceiling * {RECOVERY_PER_SECOND}
  if rate >= ceiling then return cap end
  return rate
end
"""

_TOKEN_BUCKET = (
    _CURRENT_RATE
    + """
local key, cap = KEYS[1], tonumber(ARGV[1])
local now, wanted = tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tokens', 'at', 'lowered', 'lowered_at')
local rate = current_rate(cap, state[3], state[4], now)
if rate <= 0 then
  return '0'
end
local burst = math.max(rate, wanted)
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
)

_SLOW_DOWN = (
    _CURRENT_RATE
    + f"""
local key, cap, now = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', key, 'lowered', 'lowered_at')
local rate = current_rate(cap, state[1], state[2], now)
if rate <= 0 then
  rate = {UNCAPPED_CEILING}
end
if state[2] and now - tonumber(state[2]) < {CUT_INTERVAL_SECONDS} then
  return tostring(rate)
end
rate = math.max({MIN_RATE}, rate * {DECREASE_FACTOR})
redis.call('HSET', key, 'lowered', rate, 'lowered_at', now)
redis.call('EXPIRE', key, 60)
return tostring(rate)
"""
)

_RATE_NOW = (
    _CURRENT_RATE
    + """
local state = redis.call('HMGET', KEYS[1], 'lowered', 'lowered_at')
return tostring(current_rate(tonumber(ARGV[1]), state[1], state[2], tonumber(ARGV[2])))
"""
)

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

# Seconds since the epoch, as every worker of the connection reads them (tests wind it forward).
clock = time.time

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
    """Take `count` tokens from a bucket refilled at `rate` per second (no cap when rate is 0, unless throttling
    lowered it); returns the wait.

    Tokens are taken at once even when the bucket runs short (it goes into debt), so callers queue fairly.
    """
    if count <= 0:
        return 0.0
    wait = float(_script("bucket", _TOKEN_BUCKET)(keys=[_key(bucket)], args=[max(0, rate), clock(), count]))
    if wait > 0:
        time.sleep(wait)
    return wait


def slow_down(bucket: str, rate: int) -> float:
    """The cloud throttled a request of this bucket: halve its rate for every worker (once a second at most).
    Returns the rate it runs at now."""
    return float(_script("slow down", _SLOW_DOWN)(keys=[_key(bucket)], args=[max(0, rate), clock()]))


def throttled_rate(bucket: str, rate: int) -> float | None:
    """The rate throttling holds this bucket to while it climbs back to `rate` (its cap, 0: none); None when the
    bucket runs at its cap."""
    now = float(_script("rate now", _RATE_NOW)(keys=[_key(bucket)], args=[max(0, rate), clock()]))
    return None if now == max(0, rate) else now


def _key(bucket: str) -> str:
    return f"console:rate:{bucket}"


def oss_bucket(connection_id: int) -> str:
    return f"oss:{connection_id}"


def kms_bucket(connection_id: int) -> str:
    return f"kms:{connection_id}"


def take_oss(connection_id: int, rate: int, count: int = 1) -> float:
    return take(oss_bucket(connection_id), rate, count)


def take_kms(connection_id: int, rate: int, count: int = 1) -> float:
    return take(kms_bucket(connection_id), rate, count)


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
