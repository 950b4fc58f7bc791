"""Shared fixtures: the embedded Redis for the run, one user per role plus an outsider, API clients, a worker.

Fixtures live in conftest.py files and are found by pytest, never imported; plain helpers live in console/testing."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from console.embedded_redis import EmbeddedRedis

pytest_plugins = ["console.testing.browser", "console.testing.job_queue"]

_embedded_redis: EmbeddedRedis | None = None


def pytest_configure(config):
    """Without REDIS_URL the run gets a private embedded Redis, so it never touches a running console's."""
    global _embedded_redis
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    use_file_test_database(settings)
    if os.environ.get("REDIS_URL"):
        return
    _embedded_redis = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="console-test-redis-"))).start()
    use_redis(_embedded_redis.url)


def pytest_unconfigure(config):
    if _embedded_redis is not None:
        _embedded_redis.stop()
        shutil.rmtree(_embedded_redis.data_dir, ignore_errors=True)


def use_file_test_database(settings) -> None:
    """SQLite's in-memory test database fails concurrent writers at once ("table is locked"), while a file
    database makes them wait as in production; localcloud's server threads and Celery workers write at once."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        test_dir = Path(tempfile.mkdtemp(prefix="console-test-db-"))
        database.setdefault("TEST", {})["NAME"] = str(test_dir / "test.sqlite3")


def use_redis(url: str) -> None:
    """Point settings, the cache and the Celery app at `url` before any of them connects."""
    from django.conf import settings

    from console.celery import app

    settings.REDIS_URL = settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = url
    settings.CACHES["default"]["LOCATION"] = url
    app.conf.update(broker_url=url, result_backend=url)


@pytest.fixture
def localcloud(transactional_db, settings, tmp_path):
    """A running localcloud on a free loopback port, sharing the test database; yields its endpoint.

    Settings point at it, so the console's health check and clients find it like in `make up`.
    """
    from django.db import connections

    from localcloud.server import BackgroundServer

    settings.LOCALCLOUD_DATA_DIR = tmp_path / "localcloud"
    # Server threads then close their connections after each request, so none outlives the test database.
    connections.settings["default"]["CONN_MAX_AGE"] = 0
    server = BackgroundServer().start()
    settings.LOCALCLOUD_HOST, settings.LOCALCLOUD_PORT = server.server.bind_addr[:2]
    yield server.endpoint
    server.stop()


@pytest.fixture
def make_user(db):
    from accounts.services import create_user

    def make(username: str, role: str | None):
        if role is None:
            from django.contrib.auth import get_user_model

            return get_user_model().objects.create_user(username=username, password="not-used-Passw0rd")
        return create_user(actor=None, username=username, role=role, password="Correct-Horse-42").user

    return make


@pytest.fixture
def viewer(make_user):
    return make_user("victor-viewer", "viewer")


@pytest.fixture
def operator(make_user):
    return make_user("olga-operator", "operator")


@pytest.fixture
def admin(make_user):
    return make_user("ada-admin", "admin")


@pytest.fixture
def outsider(make_user):
    """Logged in, but holding no role."""
    return make_user("oscar-outsider", None)


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def api_as(api_client):
    def login(user):
        api_client.force_authenticate(user)
        return api_client

    return login


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def cloud_connection(localcloud, settings):
    """A console connection to the test's localcloud, with a fresh AccessKey pair, as an Admin would add it."""
    from buckets.models import Connection
    from localcloud.accesskeys import create_access_key

    settings.LOCALCLOUD_EXTRA_REGIONS = ["cn-shanghai"]
    access_key_id, secret = create_access_key("console tests")
    connection = Connection(name="local", oss_endpoint=localcloud, region=settings.LOCALCLOUD_REGION)
    connection.set_credentials(access_key_id, secret)
    connection.save()
    return connection


@pytest.fixture
def worker(transactional_db, settings):
    """A Celery worker consuming the test's broker in threads, as `make up` runs one (acks late, no eager mode)."""
    from celery.contrib.testing.worker import start_worker

    from console.celery import app

    settings.JOBS_PAGE_SIZE = 10
    with start_worker(app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30) as running:
        yield running
