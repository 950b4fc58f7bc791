import time

import pytest

from console.embedded_redis import EmbeddedRedis


@pytest.fixture
def private_redis(tmp_path, settings):
    server = EmbeddedRedis(tmp_path / "redis").start()
    settings.REDIS_URL = server.url
    yield server
    server.stop()


def test_healthz_needs_no_login_and_reports_every_part(client, db):
    response = client.get("/healthz")

    assert set(response.json()) == {"db", "redis", "worker", "beat", "localcloud"}
    assert response.json()["db"] == "ok"
    assert response.json()["redis"] == "ok"


def test_healthz_is_503_when_no_worker_stamped_its_presence_lately(client_as, viewer):
    from console import worker_presence

    redis = worker_presence.redis_client(timeout=1)
    redis.delete(worker_presence.PRESENCE_KEY)
    redis.zadd(worker_presence.PRESENCE_KEY, {"celery@gone": time.time() - worker_presence.SEEN_FOR_SECONDS - 1})

    response = client_as(viewer).get("/healthz")

    assert response.status_code == 503
    assert response.json()["worker"] == "error: no Celery worker seen in the last 30 s"


def test_healthz_counts_a_worker_whose_stamp_is_recent(client, db):
    from console import worker_presence

    worker_presence.stamp(worker_presence.redis_client(timeout=1), "celery@alive")

    assert client.get("/healthz").json()["worker"] == "ok"


def test_healthz_reports_a_stopped_redis_as_an_error_with_503(client_as, viewer, private_redis):
    client = client_as(viewer)
    assert client.get("/healthz").json()["redis"] == "ok"

    private_redis.stop()
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["db"] == "ok"
    assert body["redis"].startswith("error:")
    assert str(private_redis.port) in body["redis"]
    assert body["worker"] == "error: redis unreachable"


def test_healthz_never_shows_secrets(client, db, settings):
    body = client.get("/healthz").content.decode()

    assert settings.SECRET_KEY not in body
    assert "root" not in body.lower()


def test_healthz_reports_localcloud_down_when_nothing_listens(client_as, viewer, settings):
    from console.embedded_redis import free_port

    settings.LOCALCLOUD_PORT = free_port()
    response = client_as(viewer).get("/healthz")

    assert response.status_code == 503
    assert response.json()["localcloud"].startswith("error:")


def test_healthz_reports_a_running_localcloud(client, localcloud):
    assert client.get("/healthz").json()["localcloud"] == "ok"


def test_healthz_leaves_out_localcloud_when_disabled(client, db, settings):
    settings.LOCALCLOUD_ENABLED = False

    assert "localcloud" not in client.get("/healthz").json()


def test_anonymous_callers_learn_only_ok_or_failing_per_part(client, db, settings):
    from console.embedded_redis import free_port

    settings.LOCALCLOUD_PORT = free_port()
    response = client.get("/healthz")

    assert response.status_code == 503
    assert set(response.json().values()) <= {"ok", "failing"} and response.json()["localcloud"] == "failing"
    assert str(settings.LOCALCLOUD_PORT) not in response.content.decode()
