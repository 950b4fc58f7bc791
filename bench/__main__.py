"""`make bench`: benchmarks measured side by side in one run on this machine.

`python -m bench` runs them all; `python -m bench reencrypt --objects 200 --quick`, `python -m bench scale --objects
100000` or `python -m bench pages` runs one (see --help).
They run against private services (a temporary data directory and Redis, and an SQLite database, or a fresh
database on the PostgreSQL server DATABASE_URL names, dropped afterwards), so they never touch a running
console. Each prints absolute figures and the ratios that matter.
"""

import argparse
import atexit
import base64
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

WORKDIR = Path(tempfile.mkdtemp(prefix="console-bench-"))


def private_database_url() -> str:
    """SQLite in the work dir; with a PostgreSQL DATABASE_URL, a new database on that server for this run."""
    url = os.environ.get("DATABASE_URL", "")
    if not urlsplit(url).scheme.startswith(("postgres", "pgsql")):
        return f"sqlite:///{WORKDIR / 'bench.sqlite3'}"
    import psycopg

    name = f"console_bench_{int(time.time())}_{os.getpid()}"
    server = urlsplit(url)
    maintenance = urlunsplit(server._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    return urlunsplit(server._replace(path=f"/{name}"))


os.environ.update(
    CONSOLE_VAR_DIR=str(WORKDIR),
    DATABASE_URL=private_database_url(),
    LOCALCLOUD_DATA_DIR=str(WORKDIR / "localcloud"),
    DJANGO_SETTINGS_MODULE="console.settings",
)
os.environ.pop("LOG_LEVEL", None)
# A database of its own, so secrets of its own: a PostgreSQL one is refused without them (docs/operations.md).
for secret_name in ("SECRET_KEY", "CONSOLE_ROOT_KEY"):
    if not os.environ.get(secret_name) and not os.environ.get(f"{secret_name}_FILE"):
        os.environ[secret_name] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from bench import localcloud_throughput, pages, profile_job, reencrypt, scale  # noqa: E402

BENCHMARKS = {
    "localcloud": lambda options: localcloud_throughput.main(),
    "reencrypt": reencrypt.main,
    "scale": scale.main,
    "profile": profile_job.main,
    "pages": pages.main,
}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "benchmarks", nargs="*", metavar="BENCHMARK", help=f"any of {', '.join(BENCHMARKS)} (default: all)"
    )
    reencrypt.add_arguments(parser)
    pages.add_arguments(parser)
    profile_job.add_arguments(parser)
    options = parser.parse_args(argv)
    unknown = [name for name in options.benchmarks if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}")
    options.benchmarks = options.benchmarks or list(BENCHMARKS)
    return options


if __name__ == "__main__":
    options = parse(sys.argv[1:])
    started = time.monotonic()
    for number, name in enumerate(options.benchmarks):
        if number:
            print()
        print(f"== {name} ==", flush=True)
        BENCHMARKS[name](options)
    print(f"\nbench finished in {time.monotonic() - started:.0f} s (work dir {WORKDIR})")
