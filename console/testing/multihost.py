"""Several "hosts" on this machine, as a team runs the console across machines (docs/deployment.md).

Each host has its own `CONSOLE_VAR_DIR` (a private temporary directory) and its own processes; all hosts share only
what separate machines would: one PostgreSQL database (fresh for the cluster, dropped after it), one Redis (a private
redis-server the cluster starts, so the machine's own Redis and a running console are never touched), one localcloud
reached over HTTP, and the same `SECRET_KEY` and `CONSOLE_ROOT_KEY` in every host's environment.

A process is started the way the deployment guide runs it, never by a command line of the harness's own:
`Host.start_procfile("web")` runs that entry of Procfile.platform with honcho (`honcho start -e <host env file>
web`), and
`Host.start_unit("console-worker.service")` runs the unit's ExecStartPre and ExecStart lines from
docs/deploy/systemd/, with the variables of its `Environment=` lines and the host's environment file in place of
its `EnvironmentFile=`. Each process logs to a file; readiness waits fail with the tail of that log.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import requests

from console.embedded_redis import EmbeddedRedis, free_port
from console.env import generate_key_b64

ROOT = Path(__file__).resolve().parents[2]
# The platform Procfile of docs/deployment.md (the plain Procfile is `make up`'s, for one machine).
PROCFILE = ROOT / "Procfile.platform"
UNITS_DIR = ROOT / "docs" / "deploy" / "systemd"
# Where the example units expect the console's checkout (with its .venv); the harness runs them from this one.
UNIT_INSTALL_DIR = "/opt/console"
POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
# What a process inherits from the test run; everything else comes from the host's environment file, as under
# systemd, so a DATABASE_URL or REDIS_URL of the test run never leaks into a host.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
STOP_SECONDS = 20.0


def postgres_reachable(timeout: float = 2.0) -> bool:
    server = urlsplit(POSTGRES_SERVER)
    try:
        socket.create_connection((server.hostname, server.port), timeout).close()
    except OSError:
        return False
    return True


@contextmanager
def fresh_postgres_database(prefix: str = "console_multihost") -> Iterator[str]:
    """A new, empty database on the local PostgreSQL server; its URL. Dropped afterwards, connections or not."""
    import psycopg

    name = f"{prefix}_{int(time.time())}_{os.getpid()}"
    maintenance = f"{POSTGRES_SERVER}/postgres"
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(POSTGRES_SERVER)._replace(scheme="postgres", path=f"/{name}"))
    finally:
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class NotReady(AssertionError):
    """A process did not reach the awaited state; the message carries its log tail."""


@dataclass
class HostProcess:
    """One process of a host (a honcho running one Procfile entry, or a unit's command), logging to a file."""

    name: str
    popen: subprocess.Popen
    log: Path
    start_again: Callable[[], HostProcess]

    def pids(self) -> set[int]:
        """Its processes now: the main one and every descendant (a honcho's entry, a worker's pool)."""
        try:
            descendants = psutil.Process(self.popen.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return set()
        return {self.popen.pid, *(descendant.pid for descendant in descendants)}

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_offset(self) -> int:
        return len(self.log_text())

    def count_in_log(self, pattern: str, since: int = 0) -> int:
        return len(re.findall(pattern, self.log_text()[since:]))

    def wait_for(self, what: str, predicate: Callable[[], bool], timeout: float = 90.0) -> None:
        """Poll until `predicate()`; on timeout or if the process ended first, fail with its log tail."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.popen.poll() is not None:
                raise NotReady(self._story(f"exited with status {self.popen.returncode} before {what}"))
            if time.monotonic() >= deadline:
                raise NotReady(self._story(f"not {what} after {timeout:g} s"))
            time.sleep(0.2)

    def wait_for_log(self, pattern: str, what: str, timeout: float = 90.0, since: int = 0) -> None:
        self.wait_for(what, lambda: re.search(pattern, self.log_text()[since:]) is not None, timeout)

    def wait_for_http(self, url: str, timeout: float = 90.0) -> None:
        """Until `url` answers anything at all (a 503 from /healthz still means the web process serves)."""

        def answers() -> bool:
            try:
                requests.get(url, timeout=2, allow_redirects=False)
            except requests.RequestException:
                return False
            return True

        self.wait_for(f"answering {url}", answers, timeout)

    def _story(self, what: str) -> str:
        return f"{self.name} {what}; last lines of {self.log}:\n{self.log_tail()}"

    def process_groups(self) -> list[int]:
        """The groups to signal, the main process's first. A unit's command is one group; honcho runs each entry
        from a process of its own, in a session of its own, so the entry's processes are its grandchildren, found
        by walking all of its descendants."""
        groups = [self.popen.pid]
        for pid in self.pids() - {self.popen.pid}:
            try:
                group = os.getpgid(pid)
            except ProcessLookupError:
                continue
            if group not in groups:
                groups.append(group)
        return groups

    def kill(self) -> None:
        """SIGKILL to every process of it at once, as when its host loses power: nothing gets to clean up."""
        for group in reversed(self.process_groups()):
            _signal_group(group, signal.SIGKILL)
        self.popen.wait(timeout=STOP_SECONDS)

    def stop(self) -> None:
        """SIGTERM to the main process (a worker finishes its current objects), SIGKILL if it outlasts the wait."""
        self.wait_stopped(self.terminate())

    def terminate(self) -> list[int]:
        """SIGTERM to the main process, as systemd and honcho stop one; the groups to kill if it does not end."""
        if self.popen.poll() is not None:
            return []
        groups = self.process_groups()
        self.popen.send_signal(signal.SIGTERM)
        return groups

    def wait_stopped(self, groups: list[int]) -> None:
        try:
            self.popen.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            for group in reversed(groups):  # the main process, its pool or a honcho's entry: all of it
                _signal_group(group, signal.SIGKILL)
            self.popen.wait(timeout=STOP_SECONDS)


def _signal_group(group: int, signal_number: int) -> None:
    try:
        os.killpg(group, signal_number)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Unit:
    """What the harness takes from a systemd unit: its commands and the environment it names."""

    path: Path
    environment: dict[str, str]
    environment_files: list[str]
    exec_start_pre: list[str]
    exec_start: str


def read_unit(path: Path) -> Unit:
    environment, environment_files, exec_start_pre, exec_start = {}, [], [], ""
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section != "[Service]":
            continue
        key, _, value = line.partition("=")
        if key == "Environment":
            environment.update(word.split("=", 1) for word in shlex.split(value))
        elif key == "EnvironmentFile":
            environment_files.append(value.removeprefix("-"))
        elif key == "ExecStartPre":
            exec_start_pre.append(value)
        elif key == "ExecStart":
            exec_start = value
    if not exec_start:
        raise ValueError(f"{path} has no ExecStart")
    return Unit(path, environment, environment_files, exec_start_pre, exec_start)


def unit_command(line: str, environment: dict[str, str], hostname: str) -> list[str]:
    """A unit's command line as systemd runs it: `${VAR}` replaced inside a word, `$VAR` as a word split on
    spaces, `%H` the host name; the install directory is this checkout."""
    words = []
    for word in shlex.split(line.replace("%H", hostname).replace(UNIT_INSTALL_DIR, str(ROOT))):
        if re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", word):
            words += environment.get(word[1:], "").split()
        else:
            words.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda match: environment.get(match[1], ""), word))
    return words


@dataclass
class Host:
    """One machine: a private var dir, an environment file (what an operator writes in /etc/console/console.env),
    and the processes started on it."""

    name: str
    directory: Path
    environment: dict[str, str]
    processes: list[HostProcess] = field(default_factory=list)

    @property
    def env_file(self) -> Path:
        return self.directory / "console.env"

    def write_env_file(self) -> None:
        self.env_file.write_text("".join(f"{name}={value}\n" for name, value in sorted(self.environment.items())))

    def base_environment(self) -> dict[str, str]:
        return {name: os.environ[name] for name in INHERITED if name in os.environ}

    def start_procfile(self, entry: str) -> HostProcess:
        """The Procfile's `entry` under honcho, with this host's environment file."""
        again = partial(self.start_procfile, entry)
        return self._start(f"{self.name}/{entry} (Procfile)", self._honcho(entry), self.base_environment(), again)

    def run_procfile(self, entry: str, extra_environment: dict | None = None, timeout: float = 300.0) -> str:
        """A Procfile entry that runs to its end (`release`); its output, or a failure showing it."""
        environment = self.base_environment() | (extra_environment or {})
        done = subprocess.run(
            self._honcho(entry), cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise AssertionError(f"on host {self.name}, the Procfile's {entry} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def _honcho(self, entry: str) -> list[str]:
        honcho = str(Path(sys.executable).with_name("honcho"))
        return [honcho, "start", "--no-colour", "-f", str(PROCFILE), "-e", str(self.env_file), entry]

    def start_unit(self, unit_name: str) -> HostProcess:
        """The unit's ExecStartPre commands, in order, then its ExecStart, as systemd would run them here."""
        unit = read_unit(UNITS_DIR / unit_name)
        environment = self.base_environment() | unit.environment | self.environment
        for line in unit.exec_start_pre:
            command = unit_command(line, environment, self.name)
            done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise NotReady(f"{self.name}/{unit_name}: ExecStartPre {line!r} failed:\n{done.stdout}\n{done.stderr}")
        command = unit_command(unit.exec_start, environment, self.name)
        again = partial(self.start_unit, unit_name)
        return self._start(f"{self.name}/{unit_name}", command, environment, again)

    def _start(self, name: str, command: list[str], environment: dict, again: Callable[[], HostProcess]) -> HostProcess:
        log = self.directory / f"{re.sub(r'[^A-Za-z0-9.-]+', '-', name)}.log"
        with log.open("ab") as output:
            popen = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        process = HostProcess(name, popen, log, again)
        self.processes.append(process)
        return process

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.environment['PORT']}"


class Cluster:
    """The shared services and the hosts using them. Use as a context manager: leaving it stops every process,
    Redis, drops the database and deletes the hosts' directories."""

    def __init__(self, database_url: str, redis: EmbeddedRedis, workdir: Path):
        self.database_url = database_url
        self.redis = redis
        self.workdir = workdir
        self.secret_key = generate_key_b64()
        self.root_key = generate_key_b64()
        self.hosts: list[Host] = []

    @classmethod
    @contextmanager
    def started(cls) -> Iterator[Cluster]:
        workdir = Path(tempfile.mkdtemp(prefix="console-multihost-"))
        redis = EmbeddedRedis(workdir / "redis").start()
        try:
            with fresh_postgres_database() as database_url:
                cluster = cls(database_url, redis, workdir)
                try:
                    yield cluster
                finally:
                    cluster.stop_all()
        finally:
            redis.stop()
            shutil.rmtree(workdir, ignore_errors=True)

    def host(self, name: str, **settings: str | int) -> Host:
        """A new host whose environment file holds the shared settings, its own var dir and `settings`."""
        directory = self.workdir / name
        directory.mkdir(mode=0o700)
        environment = {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "SECRET_KEY": self.secret_key,
            "CONSOLE_ROOT_KEY": self.root_key,
            "CONSOLE_VAR_DIR": str(directory / "var"),
            "PORT": str(free_port()),
            **{key: str(value) for key, value in settings.items()},
        }
        host = Host(name, directory, environment)
        host.write_env_file()
        self.hosts.append(host)
        return host

    def stop_all(self) -> None:
        """Every process told to stop at once, then each waited for (and killed if it lingers)."""
        processes = [process for host in self.hosts for process in host.processes]
        stopping = [(process, process.terminate()) for process in processes]
        for process, groups in stopping:
            process.wait_stopped(groups)


def wait_for_celery_worker(process: HostProcess, since: int = 0, timeout: float = 90.0) -> None:
    process.wait_for_log(r"celery@\S+ ready\.|@\S+ ready\.", "ready to take tasks", timeout, since)


def wait_for_beat(process: HostProcess, since: int = 0, timeout: float = 90.0) -> None:
    process.wait_for_log(r"beat: Starting\.\.\.", "scheduling", timeout, since)


def wait_for_web(process: HostProcess, host: Host, timeout: float = 90.0) -> None:
    process.wait_for_http(f"{host.web_url}/healthz", timeout)


class ConsoleUser:
    """A person at a browser on one web host: a cookie jar, the CSRF token Django set, forms posted as pages do."""

    def __init__(self, base_url: str, session: requests.Session | None = None):
        self.base_url = base_url
        self.session = session or requests.Session()

    def at(self, base_url: str) -> ConsoleUser:
        """The same browser (same cookies) talking to another web host, as behind a load balancer."""
        return ConsoleUser(base_url, self.session)

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base_url + path, allow_redirects=False, timeout=60)

    def post_form(self, path: str, form: dict) -> requests.Response:
        # The form's page sets the CSRF cookie; Django accepts its value in this header for any form post.
        headers = {"X-CSRFToken": self.session.cookies.get("csrftoken", ""), "Referer": self.base_url + path}
        return self.session.post(self.base_url + path, data=form, headers=headers, allow_redirects=False, timeout=60)

    def log_in(self, username: str, password: str) -> None:
        self.get("/accounts/login/")
        answer = self.post_form("/accounts/login/", {"username": username, "password": password})
        if answer.status_code != 302:
            raise AssertionError(f"signing in as {username} at {self.base_url} answered {answer.status_code}")

    def api_token(self, username: str, password: str) -> ApiClient:
        answer = requests.post(
            f"{self.base_url}/api/v1/auth/token/", json={"username": username, "password": password}, timeout=60
        )
        if answer.status_code != 200:
            raise AssertionError(f"token for {username}: {answer.status_code} {answer.text[:300]}")
        return ApiClient(self.base_url, answer.json()["token"])


class ApiClient:
    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.headers = {"Authorization": f"Token {token}"}

    def get(self, path: str) -> dict:
        answer = requests.get(self.base_url + path, headers=self.headers, timeout=60)
        answer.raise_for_status()
        return answer.json()

    def post(self, path: str, body: dict) -> dict:
        answer = requests.post(self.base_url + path, json=body, headers=self.headers, timeout=60)
        if answer.status_code >= 400:
            raise AssertionError(f"POST {path} answered {answer.status_code}: {answer.text[:500]}")
        return answer.json()

    def post_files(self, path: str, fields: dict, files: dict[str, tuple[str, bytes]]) -> requests.Response:
        """A multipart/form-data post, as a file is uploaded; the whole answer, whose status and headers matter."""
        answer = requests.post(self.base_url + path, data=fields, files=files, headers=self.headers, timeout=300)
        if answer.status_code >= 400:
            raise AssertionError(f"POST {path} answered {answer.status_code}: {answer.text[:500]}")
        return answer
