"""One beat fires at a time: the lock in Redis, its lease, and what /healthz says about it."""

import time

import pytest
import redis

from console import beat_lock
from console.beat_lock import Leadership
from console.embedded_redis import EmbeddedRedis
from console.testing.waits import wait_until
from console.worker_presence import redis_client


@pytest.fixture
def shared_redis(settings):
    client = redis_client(timeout=1)
    client.delete(beat_lock.LOCK_KEY)
    yield client
    client.delete(beat_lock.LOCK_KEY)


def test_the_first_beat_takes_the_lock_naming_its_host_and_pid_and_the_second_stands_by(shared_redis, caplog):
    first = Leadership(shared_redis, lease_seconds=30)
    second = Leadership(shared_redis, lease_seconds=30, name="host-b pid 2")

    first.attempt()
    with caplog.at_level("WARNING", logger="console.beat_lock"):
        second.attempt()

    assert first.is_leader() and not second.is_leader()
    assert beat_lock.holder(shared_redis) == beat_lock.identity() == first.name
    assert f"beat lock held by {first.name}: this beat (host-b pid 2) stands by" in caplog.text
    assert 0 < shared_redis.pttl(beat_lock.LOCK_KEY) <= 30_000


def test_the_holder_renews_its_lease_and_a_stopped_holder_hands_over_at_once(shared_redis):
    first = Leadership(shared_redis, lease_seconds=30, name="host-a pid 1")
    second = Leadership(shared_redis, lease_seconds=30, name="host-b pid 2")
    first.attempt()
    shared_redis.pexpire(beat_lock.LOCK_KEY, 5_000)

    first.attempt()
    renewed_ttl = shared_redis.pttl(beat_lock.LOCK_KEY)
    first.stop()
    second.attempt()

    assert renewed_ttl > 5_000
    assert not first.is_leader() and second.is_leader()
    assert beat_lock.holder(shared_redis) == "host-b pid 2"


def test_a_holder_whose_lease_ran_out_is_replaced_and_stops_firing_at_its_next_renewal(shared_redis, caplog):
    first = Leadership(shared_redis, lease_seconds=1, name="host-a pid 1")
    second = Leadership(shared_redis, lease_seconds=1, name="host-b pid 2")
    first.attempt()
    second.attempt()
    assert first.is_leader() and not second.is_leader()

    time.sleep(1.1)  # the lease itself is what is under test: nothing renews it meanwhile
    second.attempt()
    with caplog.at_level("WARNING", logger="console.beat_lock"):
        first.attempt()

    assert second.is_leader() and not first.is_leader()
    assert "beat lock lost to host-b pid 2: this beat stops firing and stands by" in caplog.text


def test_a_holder_cut_off_from_redis_stops_firing_when_its_lease_runs_out(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis").start()
    client = redis.Redis.from_url(server.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    holder = Leadership(client, lease_seconds=1.5, name="host-a pid 1")
    holder.attempt()
    assert holder.is_leader()

    server.stop()
    holder.attempt()
    still_leader_within_the_lease = holder.is_leader()

    assert still_leader_within_the_lease
    wait_until(lambda: not holder.is_leader(), timeout=3, message="the cut-off holder to stop counting as leader")


def test_healthz_names_the_beat_holding_the_lock_to_signed_in_callers_only(shared_redis, client, client_as, viewer):
    Leadership(shared_redis, lease_seconds=30, name="beat-host-7 pid 4242").attempt()

    anonymous = client.get("/healthz").json()
    signed_in = client_as(viewer).get("/healthz").json()

    assert "beat_lock" not in anonymous and "beat-host-7" not in str(anonymous)
    assert signed_in["beat_lock"] == "held by beat-host-7 pid 4242"


def test_healthz_says_when_no_beat_holds_the_lock(shared_redis, client_as, viewer):
    assert client_as(viewer).get("/healthz").json()["beat_lock"] == "no beat holds the lock: no schedule fires"
