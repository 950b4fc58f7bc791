"""Liveness of the parts the console needs; each check answers "ok" or a short error string."""

import time
import urllib.error
import urllib.request

import redis
from django.conf import settings
from django.db import connection

from console import beat_lock, worker_presence

HEARTBEAT_KEY = "console:heartbeat"
# Every part is local or on the same network: one that takes longer than this to answer is not healthy, and a
# probe that monitors call every few seconds must not hang on it.
CHECK_TIMEOUT_SECONDS = 0.5


def _redis_client():
    return worker_presence.redis_client(timeout=CHECK_TIMEOUT_SECONDS)


def check_db() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure is reported, not raised
        return f"error: {type(error).__name__}"
    return "ok"


def check_redis() -> str:
    try:
        _redis_client().ping()
    except redis.RedisError as error:
        return f"error: {_redis_error_summary(error)}"
    return "ok"


def _redis_error_summary(error: redis.RedisError) -> str:
    # Connection errors carry the host and port, which is useful and not secret; a URL password never is part of it.
    return str(error).splitlines()[0][:200] or type(error).__name__


def check_worker() -> str:
    try:
        seen = worker_presence.seen_workers(_redis_client())
    except redis.RedisError as error:
        return f"error: {_redis_error_summary(error)}"
    if not seen:
        return f"error: no Celery worker seen in the last {worker_presence.SEEN_FOR_SECONDS:.0f} s"
    return "ok"


def record_heartbeat() -> None:
    _redis_client().set(HEARTBEAT_KEY, str(time.time()))


def check_beat() -> str:
    try:
        raw = _redis_client().get(HEARTBEAT_KEY)
    except redis.RedisError as error:
        return f"error: {_redis_error_summary(error)}"
    allowed_age = settings.HEARTBEAT_INTERVAL_SECONDS * 3 + 30
    if raw is None:
        return "error: no scheduled heartbeat recorded yet"
    age = time.time() - float(raw)
    if age > allowed_age:
        return f"error: last scheduled heartbeat {int(age)} s ago"
    return "ok"


def beat_lock_holder() -> str:
    """Which beat fires the schedules; it names a host, so it is shown to signed-in callers only."""
    try:
        current = beat_lock.holder(_redis_client())
    except redis.RedisError as error:
        return f"error: {_redis_error_summary(error)}"
    return f"held by {current}" if current else "no beat holds the lock: no schedule fires"


def check_localcloud() -> str:
    """Any OSS answer counts, an AccessDenied for this unsigned request included."""
    url = f"http://{settings.LOCALCLOUD_HOST}:{settings.LOCALCLOUD_PORT}/"
    try:
        with urllib.request.urlopen(url, timeout=CHECK_TIMEOUT_SECONDS) as response:
            headers = response.headers
    except urllib.error.HTTPError as error:
        headers = error.headers
    except (OSError, ValueError) as error:
        return f"error: {getattr(error, 'reason', error)}"
    if "x-oss-request-id" not in headers:
        return "error: the service on that port is not localcloud"
    return "ok"


def check_all() -> dict[str, str]:
    """Every part's state; broker-dependent checks are skipped when Redis itself is down."""
    report = {"db": check_db(), "redis": check_redis()}
    if report["redis"] == "ok":
        report["worker"] = check_worker()
        report["beat"] = check_beat()
    else:
        report["worker"] = report["beat"] = "error: redis unreachable"
    if settings.LOCALCLOUD_ENABLED:
        report["localcloud"] = check_localcloud()
    return report


def is_healthy(report: dict[str, str]) -> bool:
    return all(value == "ok" for value in report.values())
