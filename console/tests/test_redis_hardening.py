"""Issue 14: the embedded Redis asks for a password and listens on loopback only; the cache never unpickles."""

import os
import pickle
import socket
import subprocess
import sys

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from buckets.services import buckets
from console.embedded_redis import free_port
from console.testing.waits import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def started_embedded_redis(tmp_path):
    """`manage.py embedded_redis` as `make up` runs it, on a fresh var/: its port, var/ and process."""
    port, var_dir = free_port(), tmp_path / "var"
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "EMBEDDED_REDIS_PASSWORD")}
    env |= {"CONSOLE_VAR_DIR": str(var_dir), "EMBEDDED_REDIS_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "embedded_redis"], env=env, cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL
    )
    wait_until(lambda: listening(port, process), message=f"embedded redis to listen on port {port}", timeout=20)
    yield port, var_dir, process
    process.terminate()
    process.wait(timeout=10)


def listening(port: int, process: subprocess.Popen) -> bool:
    assert process.poll() is None, f"embedded redis exited with code {process.returncode}"
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def test_the_embedded_redis_refuses_a_client_without_the_password(started_embedded_redis):
    port, _, _ = started_embedded_redis

    with socket.create_connection(("127.0.0.1", port), timeout=5) as plain_client:
        plain_client.sendall(b"GET console:1:anything\r\n")
        answer = plain_client.recv(200)

    assert answer.startswith(b"-NOAUTH")


def test_the_embedded_redis_listens_on_loopback_only_with_its_password_from_var(started_embedded_redis):
    port, var_dir, _ = started_embedded_redis
    password = (var_dir / "redis-password").read_text().strip()

    config = redis.Redis(port=port, password=password)

    assert config.config_get("bind") == {"bind": "127.0.0.1"}
    assert config.config_get("protected-mode") == {"protected-mode": "yes"}


def test_the_embedded_redis_password_is_not_on_its_command_line(started_embedded_redis):
    _, var_dir, process = started_embedded_redis
    password = (var_dir / "redis-password").read_text().strip()

    with open(f"/proc/{process.pid}/cmdline", "rb") as cmdline:
        assert password.encode() not in cmdline.read()


class CreatesAFile:
    """Unpickling this creates `path`: a stand-in for any code an attacker would run."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def test_a_pickle_planted_in_the_snapshot_key_the_bucket_list_reads_is_never_run(
    cloud_connection, client_as, viewer, tmp_path
):
    proof = tmp_path / "pickle-ran"
    planted_key = cache.make_key(buckets._status_key(cloud_connection))
    redis.Redis.from_url(settings.REDIS_URL).set(planted_key, pickle.dumps(CreatesAFile(proof)))

    assert cache.get(buckets._status_key(cloud_connection)) is None
    assert client_as(viewer).get("/buckets/").status_code == 200
    assert not proof.exists()


def test_the_cache_refuses_a_value_it_could_only_pickle(db):
    with pytest.raises(TypeError):
        cache.set("console-test:object", object())
