"""`make bench`: localcloud throughput, measured side by side in one run on this machine.

Runs against a private localcloud (temporary data directory and SQLite database), so it never
touches a running console. Prints absolute figures and the ratios that matter.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

WORKDIR = Path(tempfile.mkdtemp(prefix="console-bench-"))
os.environ.update(
    CONSOLE_VAR_DIR=str(WORKDIR),
    DATABASE_URL=f"sqlite:///{WORKDIR / 'bench.sqlite3'}",
    LOCALCLOUD_DATA_DIR=str(WORKDIR / "localcloud"),
    DJANGO_SETTINGS_MODULE="console.settings",
)
os.environ.pop("LOG_LEVEL", None)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from bench import localcloud_throughput  # noqa: E402

if __name__ == "__main__":
    started = time.monotonic()
    localcloud_throughput.main()
    print(f"\nbench finished in {time.monotonic() - started:.0f} s (work dir {WORKDIR})")
