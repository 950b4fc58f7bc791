"""Two real beat processes against one Redis and one database: one fires, the other stands by and takes over when
the first is killed. What they fire is counted where workers would receive it, in the broker's queue."""

import datetime
import json
import os
import signal
import time

import pytest
import redis
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from console import beat_lock
from console.embedded_redis import EmbeddedRedis
from console.testing.waits import wait_until
from console.testing.workers import start_beat_process

pytestmark = pytest.mark.slow

LEASE_SECONDS = 3
HEARTBEAT_SECONDS = 1


@pytest.fixture
def broker(tmp_path, settings):
    """A Redis of this test's own: no worker empties its queue, so every message beat sends stays there."""
    server = EmbeddedRedis(tmp_path / "redis").start()
    settings.REDIS_URL = server.url
    yield redis.Redis.from_url(server.url)
    server.stop()


@pytest.fixture
def beats(broker, settings, tmp_path, transactional_db):
    """Starts beats sharing the broker and the database, each logging to its own file; all are killed at the end."""
    started = []

    def start(name):
        log = tmp_path / f"{name}.log"
        process = start_beat_process(
            settings, log, CONSOLE_BEAT_LEASE_SECONDS=LEASE_SECONDS, HEARTBEAT_INTERVAL_SECONDS=HEARTBEAT_SECONDS
        )
        started.append(process)
        return process, log

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture
def due_hourly_entry(transactional_db):
    """A beat entry every hour, last run an hour and a minute ago: due the moment a beat looks at it."""
    return PeriodicTask.objects.create(
        name="hourly",
        task="console.tests.hourly",
        interval=IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS),
        last_run_at=timezone.now() - datetime.timedelta(minutes=61),
    )


def sent(broker, task: str) -> int:
    """How many messages for `task` wait in the default queue."""
    return sum(json.loads(message)["headers"]["task"] == task for message in broker.lrange("celery", 0, -1))


def holder_pid(broker) -> int | None:
    value = beat_lock.holder(broker)
    return int(value.rsplit(" pid ", 1)[1]) if value else None


def heartbeats_after(broker, count: int, timeout: float = 30) -> None:
    wait_until(
        lambda: sent(broker, "console.tasks.heartbeat") >= count,
        timeout=timeout,
        message=f"{count} heartbeats sent",
        observe=lambda: sent(broker, "console.tasks.heartbeat"),
    )


def test_of_two_beats_one_holds_the_lock_and_fires_each_period_once_while_the_other_stands_by(
    broker, beats, due_hourly_entry
):
    first, first_log = beats("first")
    second, second_log = beats("second")
    wait_until(lambda: holder_pid(broker) in (first.pid, second.pid), timeout=60, message="a beat to take the lock")
    holder, standby_log = (first, second_log) if holder_pid(broker) == first.pid else (second, first_log)
    wait_until(
        lambda: f"pid {holder.pid}: this beat" in standby_log.read_text() and "stands by" in standby_log.read_text(),
        timeout=30,
        message="the other beat to say who holds the lock and that it stands by",
        observe=standby_log.read_text,
    )

    heartbeats_after(broker, 1)
    counted_from, window_start = sent(broker, "console.tasks.heartbeat"), time.monotonic()
    heartbeats_after(broker, counted_from + 8)
    window = time.monotonic() - window_start

    # One beat sends 8 heartbeats in 8 periods; two would send them in 4.
    assert window >= 7 * HEARTBEAT_SECONDS, f"8 heartbeats in {window:.1f} s"
    assert sent(broker, "console.tests.hourly") == 1
    assert holder_pid(broker) == holder.pid and first.poll() is None and second.poll() is None


def test_a_killed_holder_is_replaced_within_the_lease_and_the_successor_does_not_fire_its_period_again(
    broker, beats, due_hourly_entry
):
    first, first_log = beats("first")
    second, second_log = beats("second")
    wait_until(lambda: holder_pid(broker) in (first.pid, second.pid), timeout=60, message="a beat to take the lock")
    (holder, _), (successor, successor_log) = sorted(
        [(first, first_log), (second, second_log)], key=lambda beat: beat[0].pid != holder_pid(broker)
    )
    wait_until(lambda: sent(broker, "console.tests.hourly") == 1, timeout=30, message="the due entry to be sent")
    wait_until(lambda: "stands by" in successor_log.read_text(), timeout=60, message="the other beat to stand by")

    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait(10)
    killed_at = time.monotonic()
    wait_until(lambda: holder_pid(broker) == successor.pid, timeout=3 * LEASE_SECONDS, message="the other to take over")
    taken_over_after = time.monotonic() - killed_at
    heartbeats_after(broker, sent(broker, "console.tasks.heartbeat") + 3)

    # At most the lease left at the kill, plus the standby's attempt interval (a third of the lease).
    assert taken_over_after <= LEASE_SECONDS * 4 / 3 + 0.5, f"taken over after {taken_over_after:.1f} s"
    assert f"beat lock taken by {beat_lock.holder(broker)}" in successor_log.read_text()
    # It stood by with the entry still due, as loaded at its start; it read the holder's last run before firing.
    assert sent(broker, "console.tests.hourly") == 1
