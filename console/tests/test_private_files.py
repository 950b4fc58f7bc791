"""Issue 14: var/ holds sessions, API tokens, secrets and plaintext blobs, so it is the console user's alone, and
the console refuses to start on a var/ that group or others may read."""

import os
import shutil
import stat
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow

WRITE_A_BLOB_AND_A_REDIS_DUMP = """
from console.embedded_redis import EmbeddedRedis
from django.conf import settings
from localcloud.storage import blob_store

with blob_store().writer() as blob:
    blob.write(b"plaintext of an unencrypted object")
    blob.commit()
redis = EmbeddedRedis(settings.VAR_DIR / "redis").start()
try:
    redis_client = __import__("redis").Redis.from_url(redis.url)
    redis_client.set("console:1:anything", "value")
    redis_client.save()
finally:
    redis.stop()
"""


def run(command: list[str], var_dir) -> subprocess.CompletedProcess:
    """`command` as `make up` would run it, on `var_dir`, with the embedded defaults."""
    embedded_defaults = ("REDIS_URL", "DATABASE_URL", "SECRET_KEY", "CONSOLE_ROOT_KEY")
    env = {key: value for key, value in os.environ.items() if key not in embedded_defaults}
    env |= {"CONSOLE_VAR_DIR": str(var_dir)}
    env.pop("LOCALCLOUD_DATA_DIR", None)
    return subprocess.run(command, env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)


def manage(var_dir, *arguments: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *arguments], var_dir)


def readable_by_others(var_dir) -> list[str]:
    found = [var_dir, *var_dir.rglob("*")]
    return [f"{stat.filemode(path.stat().st_mode)} {path}" for path in found if path.stat().st_mode & 0o077]


def test_nothing_the_console_and_localcloud_write_under_var_is_open_to_group_or_others(tmp_path):
    var_dir = tmp_path / "var"

    assert manage(var_dir, "migrate", "--verbosity", "0").returncode == 0
    assert manage(var_dir, "collectstatic", "--noinput", "--verbosity", "0").returncode == 0
    written = manage(var_dir, "shell", "--command", WRITE_A_BLOB_AND_A_REDIS_DUMP)

    assert written.returncode == 0, written.stderr
    names = {path.name for path in var_dir.rglob("*")}
    assert {"console.sqlite3", "secret-key", "root-key", "dump.rdb", "blobs", "console.css"} <= names
    assert readable_by_others(var_dir) == []


@pytest.fixture(scope="module")
def first_started_var_dir(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("first-start") / "var"
    assert manage(var_dir, "migrate", "--verbosity", "0").returncode == 0
    return var_dir


@pytest.fixture
def var_dir(first_started_var_dir, tmp_path):
    """A var/ the console has written once, as after a first start (a copy, modes kept, for each test)."""
    return shutil.copytree(first_started_var_dir, tmp_path / "var")


def test_the_start_check_refuses_a_var_dir_others_may_read_and_names_it(var_dir):
    var_dir.chmod(0o755)

    checked = manage(var_dir, "check")

    assert checked.returncode == 1
    assert f"console.E001) {var_dir} is open to group or others (mode drwxr-xr-x)" in checked.stderr


def test_the_start_check_refuses_a_database_others_may_read_and_names_it(var_dir):
    (var_dir / "console.sqlite3").chmod(0o644)

    checked = manage(var_dir, "check")

    assert checked.returncode == 1
    assert f"{var_dir / 'console.sqlite3'} is open to group or others (mode -rw-r--r--)" in checked.stderr


def test_a_worker_refuses_to_start_on_a_var_dir_others_may_read(var_dir):
    var_dir.chmod(0o750)

    started = run([sys.executable, "-m", "celery", "-A", "console", "worker", "--pool", "solo"], var_dir)

    assert started.returncode != 0
    assert f"{var_dir} is open to group or others (mode drwxr-x---)" in started.stderr


def test_the_start_check_passes_on_a_private_var_dir(var_dir):
    checked = manage(var_dir, "check")

    assert checked.returncode == 0, checked.stderr
