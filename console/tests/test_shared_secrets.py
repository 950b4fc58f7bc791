"""Issue 17: hosts sharing a database share their secrets. With a non-SQLite DATABASE_URL every process refuses to
start unless SECRET_KEY and CONSOLE_ROOT_KEY are given, in the environment or by a file (a mounted secret), and
says which is missing; with the embedded SQLite database they are still generated into var/.

Each start is a real one: a process with the environment set, as a process manager would start it."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from console.env import generate_key_b64

# Nothing listens on port 1: a process that got past its settings finds no database and says nothing about it.
SHARED_DATABASE = "postgres://console@127.0.0.1:1/console"
SECRET_NAMES = ("SECRET_KEY", "CONSOLE_ROOT_KEY", "CONSOLE_PREVIOUS_ROOT_KEY")
MANAGE_CHECK = [sys.executable, "manage.py", "check"]


def start(command: list[str], tmp_path, **environment: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(SECRET_NAMES)}
    env.pop("REDIS_URL", None)
    env |= {"CONSOLE_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": SHARED_DATABASE, **environment}
    return subprocess.run(command, env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)


def assert_refused(started: subprocess.CompletedProcess, *phrases: str) -> None:
    assert started.returncode != 0
    for phrase in phrases:
        assert phrase in started.stderr
    assert "Traceback" not in started.stderr + started.stdout


def test_a_start_on_a_shared_database_without_either_secret_names_both_and_how_to_give_them(tmp_path):
    started = start(MANAGE_CHECK, tmp_path)

    assert_refused(
        started,
        "DATABASE_URL names a shared database",
        "missing: SECRET_KEY, CONSOLE_ROOT_KEY.",
        "set SECRET_KEY, or SECRET_KEY_FILE to the path of a file holding it",
        "set CONSOLE_ROOT_KEY, or CONSOLE_ROOT_KEY_FILE to the path of a file holding it",
    )
    assert not (tmp_path / "var" / "root-key").exists()
    assert not (tmp_path / "var" / "secret-key").exists()


def test_a_missing_root_key_is_named_alone(tmp_path):
    started = start(MANAGE_CHECK, tmp_path, SECRET_KEY=generate_key_b64())

    assert_refused(started, "missing: CONSOLE_ROOT_KEY.", "base64.urlsafe_b64encode(os.urandom(32))")
    assert "SECRET_KEY_FILE" not in started.stderr


def test_a_missing_secret_key_is_named_alone(tmp_path):
    started = start(MANAGE_CHECK, tmp_path, CONSOLE_ROOT_KEY=generate_key_b64())

    assert_refused(started, "missing: SECRET_KEY.", "SECRET_KEY_FILE")
    assert "CONSOLE_ROOT_KEY_FILE" not in started.stderr


def test_both_secrets_given_in_the_environment_start(tmp_path):
    started = start(MANAGE_CHECK, tmp_path, SECRET_KEY=generate_key_b64(), CONSOLE_ROOT_KEY=generate_key_b64())

    assert started.returncode == 0, started.stderr
    assert "System check identified no issues" in started.stdout


def test_secrets_from_mounted_files_start_with_their_trailing_newline_ignored(tmp_path):
    root_key, secret_key = tmp_path / "root-key", tmp_path / "secret-key"
    root_key.write_text(generate_key_b64() + "\n")
    secret_key.write_text(generate_key_b64() + "\n")
    read_back = [sys.executable, "manage.py", "shell", "--command", "from django.conf import settings as s; "
                 "print(len(s.CONSOLE_ROOT_KEY), repr(s.SECRET_KEY[-1]))"]  # fmt: skip

    started = start(read_back, tmp_path, SECRET_KEY_FILE=str(secret_key), CONSOLE_ROOT_KEY_FILE=str(root_key))

    assert started.returncode == 0, started.stderr
    assert started.stdout.split()[-2:] == ["32", repr(secret_key.read_text()[-2])]


def test_a_secret_given_both_as_a_value_and_as_a_file_is_refused(tmp_path):
    root_key = tmp_path / "root-key"
    root_key.write_text(generate_key_b64())

    started = start(
        MANAGE_CHECK,
        tmp_path,
        SECRET_KEY=generate_key_b64(),
        CONSOLE_ROOT_KEY=generate_key_b64(),
        CONSOLE_ROOT_KEY_FILE=str(root_key),
    )

    assert_refused(started, "CONSOLE_ROOT_KEY and CONSOLE_ROOT_KEY_FILE are both set: give the secret one way only.")


@pytest.mark.parametrize("content", [None, ""], ids=["missing file", "empty file"])
def test_a_secret_file_that_holds_nothing_is_refused(tmp_path, content):
    secret_key = tmp_path / "secret-key"
    if content is not None:
        secret_key.write_text(content)

    started = start(MANAGE_CHECK, tmp_path, SECRET_KEY_FILE=str(secret_key), CONSOLE_ROOT_KEY=generate_key_b64())

    assert_refused(started, f"SECRET_KEY_FILE names {secret_key}, which")


def test_a_root_key_file_that_is_not_a_key_is_refused_without_showing_it(tmp_path):
    root_key = tmp_path / "root-key"
    root_key.write_text("not-a-key-but-a-password\n")

    started = start(MANAGE_CHECK, tmp_path, SECRET_KEY=generate_key_b64(), CONSOLE_ROOT_KEY_FILE=str(root_key))

    assert_refused(started, "CONSOLE_ROOT_KEY must decode to 32 bytes")
    assert "not-a-key-but-a-password" not in started.stderr


def test_the_embedded_sqlite_database_still_generates_its_secrets_into_var(tmp_path):
    started = start(MANAGE_CHECK, tmp_path, DATABASE_URL="")

    assert started.returncode == 0, started.stderr
    assert (tmp_path / "var" / "root-key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "var" / "secret-key").stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "celery", "-A", "console", "worker", "--pool", "solo"],
        [sys.executable, "-m", "celery", "-A", "console", "beat"],
        [sys.executable, "-m", "gunicorn", "console.wsgi", "--bind", "127.0.0.1:0"],
    ],
    ids=["worker", "beat", "web"],
)
def test_workers_beat_and_the_web_server_refuse_alike_with_the_message_alone(tmp_path, command):
    started = start(command, tmp_path, SECRET_KEY=generate_key_b64())

    assert_refused(started, "DATABASE_URL names a shared database", "missing: CONSOLE_ROOT_KEY.")
