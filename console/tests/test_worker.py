"""A real Celery worker consuming from the real Redis broker: no eager mode."""

import pytest
from celery.contrib.testing.worker import start_worker

from console import health
from console.celery import app
from console.tasks import heartbeat

pytestmark = pytest.mark.slow


@pytest.fixture
def celery_worker_thread(transactional_db):
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


def test_worker_runs_the_scheduled_heartbeat_task_from_the_broker(celery_worker_thread):
    health._redis_client().delete(health.HEARTBEAT_KEY)
    assert health.check_beat() == "error: no scheduled heartbeat recorded yet"

    heartbeat.apply_async().get(timeout=20)

    assert health.check_beat() == "ok"


def test_healthz_is_ok_when_every_part_is_alive(celery_worker_thread, localcloud, client):
    heartbeat.apply_async().get(timeout=20)

    response = client.get("/healthz")

    assert response.json() == {"db": "ok", "redis": "ok", "worker": "ok", "beat": "ok", "localcloud": "ok"}
    assert response.status_code == 200


def test_a_worker_stamps_its_presence_while_it_runs_and_removes_it_when_it_stops(transactional_db):
    from console import worker_presence

    redis = worker_presence.redis_client(timeout=1)
    redis.delete(worker_presence.PRESENCE_KEY)
    with start_worker(app, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=10) as worker:
        assert worker_presence.seen_workers(redis) == [worker.hostname]
        assert health.check_worker() == "ok"

    assert worker_presence.seen_workers(redis) == []
    assert health.check_worker().startswith("error: no Celery worker seen")
