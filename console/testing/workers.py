"""Real Celery worker and beat processes for the slow tests, sharing the test's database, Redis and settings."""


def subprocess_env(settings, **extra) -> dict[str, str]:
    """The environment a worker or beat process needs to share this test's database, Redis and settings."""
    import os

    from django.db import connection

    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{database['NAME']}"
    else:
        url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "JOBS_PAGE_SIZE": str(settings.JOBS_PAGE_SIZE),
        "LOG_LEVEL": "WARNING",
        **{name: str(value) for name, value in extra.items()},
    }


def start_worker_process(settings, **extra):
    """A real `celery worker` process (prefork, one child), so it can be killed like in production."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    celery = Path(sys.executable).with_name("celery")
    return subprocess.Popen(
        [
            str(celery),
            "-A",
            "console",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=root,
        env=subprocess_env(settings, **extra),
        start_new_session=True,
    )


def start_beat_process(settings, log_path, **extra):
    """A real `celery beat` process, logging to `log_path`; it looks at its schedule at least every second."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    celery = Path(sys.executable).with_name("celery")
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [str(celery), "-A", "console", "beat", "--loglevel", "WARNING", "--max-interval", "1"],
            cwd=root,
            env=subprocess_env(settings, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
