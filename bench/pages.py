"""Server time of every page of the console, opened over HTTP by a logged-in Admin, on the demo data of `make up`.

The console runs as the Procfile runs it, on the bench's private services: gunicorn (WEB_WORKERS processes of 4
threads), a Celery worker and beat, localcloud in its own process, a private Redis, and the bench's own database,
emptied first. The data is what `manage.py bootstrap` makes for `make up` (the connection `localcloud (demo)`, six
buckets, 300 objects in demo-logs, a disabled key), plus what the job, scan and key pages need to show something: a
compliance scan, a dry run and a re-encryption job of demo-logs, each run on the worker by `manage.py reencrypt
--wait`; a schedule; an RSA client-side master key and a large client-side encrypted upload that the worker carried
out; and, measured last, a key made step by step through the BYOK wizard, whose pages are timed at each step.

Each page gets WARMUP_REQUESTS requests, then --page-requests timed ones (30 by default), on one keep-alive
connection. Times are the server's: gunicorn's access log gives each request's duration, found by a number the
request carries in a header, so the client's own work does not count. The Overview's first request after the server
started on an empty cache is shown apart as the first visit. A page answering anything but 200 is a failure, not a
time. At the end the Overview and list pages over TARGET_P50_MS at p50 are named; nothing fails the build.
`console/tests/test_bench_pages.py` keeps the page list in step with the URLconf.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import redis
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files import File
from django.core.management import call_command
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from audit.models import AuditEvent
from bench.localcloud_throughput import _wait_until_answering
from bench.reencrypt import private_redis
from buckets.models import Bucket, Connection
from buckets.services import cse_transfer
from cloud.kms import KmsClient
from console import demo as demo_data
from console import health
from console.celery import app
from console.embedded_redis import free_port
from encryption.models import CseTransfer, MasterKey
from encryption.services import master_keys as masterkeys
from encryption.services.keys import KEY_SPECS
from jobs.models import Job, Schedule
from jobs.services import jobs as services
from jobs.services import schedules

ROOT = Path(__file__).resolve().parent.parent
TARGET_P50_MS = 150.0
WARMUP_REQUESTS = 3
WEB_THREADS = 4  # the Procfile's
REQUEST_HEADER = "X-Bench-Request"
# gunicorn's access log line per request: the number the bench sent, the status, the duration in microseconds.
ACCESS_LOG_FORMAT = "%({x-bench-request}i)s %(s)s %(D)s"
# The pages the target is about: those people open first and most.
LIST_PAGES = (
    "overview",
    "buckets:bucket_list",
    "encryption:key_list",
    "jobs:job_list",
    "jobs:schedule_list",
    "jobs:compliance",
    "audit:event_list",
    "buckets:connection_list",
    "accounts:user_list",
    "encryption:cse_key_list",
)
# Buckets and objects of buckets/demo.py that the detail pages show.
RICH_BUCKET = "demo-kms-named"  # KMS SM4 under alias/demo-app, objects in several states
JOB_BUCKET = "demo-logs"  # 300 unencrypted objects under an AES256 default
LOG_FOLDER = "access/2026/11/22/"  # where they are: a listing shows its first 100
UPLOAD_BUCKET = "demo-plain"
KMS_OBJECT = ("demo-kms-default", "reports/2026-11-weekly.csv")  # KMS, metadata and tags
CSE_OBJECT = (RICH_BUCKET, "contracts/2026/acme-master-agreement.pdf")  # client-side encryption metadata
LARGE_UPLOAD_KEY = "uploads/large-client-side.bin"
MASTER_KEY_NAME = "demo-rsa"
BYOK_ALIAS = "alias/bench-byok"
JOB_TIMEOUT_SECONDS = 600
PROGRESS_SECONDS = 15
URL_WIDTH = 72  # longer URLs are cut in the table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pages")
    group.add_argument(
        "--page-requests",
        type=int,
        default=30,
        metavar="N",
        help=f"timed requests per page, after {WARMUP_REQUESTS} warm-up ones (default 30)",
    )


# What the pages show: the demo data and what prepare_demo() adds to it


@dataclass(frozen=True)
class Demo:
    connection: Connection
    buckets: dict[str, Bucket]
    admin: object  # the user bootstrap made
    app_key_id: str
    retired_key_id: str
    scan: Job
    dry_run: Job
    job: Job
    schedule: Schedule
    master_key: MasterKey
    transfer: CseTransfer
    event: AuditEvent

    def bucket(self, name: str) -> int:
        return self.buckets[name].pk

    @property
    def region(self) -> str:
        return self.connection.region


def _no_args(demo: Demo) -> Sequence:
    return ()


def _no_query(demo: Demo) -> dict:
    return {}


@dataclass(frozen=True)
class Page:
    name: str
    url_name: str
    args: Callable[[Demo], Sequence] = _no_args
    query: Callable[[Demo], dict] = _no_query

    def url(self, demo: Demo) -> str:
        query = self.query(demo)
        return reverse(self.url_name, args=self.args(demo)) + (f"?{urlencode(query)}" if query else "")


def in_bucket(name: str) -> Callable[[Demo], Sequence]:
    return lambda demo: [demo.bucket(name)]


def object_key(key: str) -> Callable[[Demo], dict]:
    return lambda demo: {"key": key}


def key_scope(demo: Demo) -> dict:
    return {"connection": demo.connection.pk}


PAGES = (
    Page("Overview", "overview"),
    Page("Health", "healthz"),
    Page("Overview bucket card (after the page)", "overview_buckets"),
    # Buckets and objects
    Page("Buckets", "buckets:bucket_list"),
    Page("New bucket form", "buckets:bucket_create"),
    Page("Bucket detail", "buckets:bucket_detail", in_bucket(RICH_BUCKET)),
    Page("Bucket SSE form", "buckets:bucket_encryption", in_bucket(RICH_BUCKET)),
    Page("Objects, bucket root", "buckets:object_list", in_bucket(RICH_BUCKET)),
    Page("Objects, folder of 300", "buckets:object_list", in_bucket(JOB_BUCKET), lambda demo: {"prefix": LOG_FOLDER}),
    Page("Object detail (KMS)", "buckets:object_detail", in_bucket(KMS_OBJECT[0]), object_key(KMS_OBJECT[1])),
    Page("Object detail (client-side)", "buckets:object_detail", in_bucket(CSE_OBJECT[0]), object_key(CSE_OBJECT[1])),
    Page("Object SSE form", "buckets:object_encryption", in_bucket(KMS_OBJECT[0]), object_key(KMS_OBJECT[1])),
    Page("Object download", "buckets:object_download", in_bucket(KMS_OBJECT[0]), object_key(KMS_OBJECT[1])),
    Page("Upload form", "buckets:object_upload", in_bucket(UPLOAD_BUCKET)),
    # KMS keys
    Page("Keys", "encryption:key_list"),
    Page("Key detail", "encryption:key_detail", lambda demo: [demo.connection.pk, demo.region, demo.app_key_id]),
    Page("New key form", "encryption:key_create", lambda demo: [demo.connection.pk, demo.region]),
    Page(
        "Key deletion form",
        "encryption:key_schedule_deletion",
        lambda demo: [demo.connection.pk, demo.region, demo.retired_key_id],
    ),
    Page("RAM policy", "encryption:ram_policy"),
    Page("BYOK 1: new EXTERNAL key", "encryption:byok_start"),
    # Client-side encryption
    Page("CSE keys", "encryption:cse_key_list"),
    Page("CSE key detail", "encryption:cse_key_detail", lambda demo: [demo.master_key.pk]),
    Page("New CSE key (RSA)", "encryption:cse_key_new"),
    Page("New CSE key (KMS)", "encryption:cse_key_new", query=lambda demo: {"kind": MasterKey.KMS}),
    Page("Import CSE key", "encryption:cse_key_import"),
    Page("CSE key delete (confirm)", "encryption:cse_key_delete", lambda demo: [demo.master_key.pk]),
    Page("CSE public key (PEM)", "encryption:cse_public_key", lambda demo: [demo.master_key.pk]),
    Page("Large CSE upload", "encryption:cse_transfer", lambda demo: [demo.transfer.pk]),
    Page("Large CSE upload (JSON)", "encryption:cse_transfer_status", lambda demo: [demo.transfer.pk]),
    # Jobs, scans, compliance, schedules
    Page("Jobs", "jobs:job_list"),
    Page("Job detail (re-encryption)", "jobs:job_detail", lambda demo: [demo.job.pk]),
    Page("Dry-run detail", "jobs:job_detail", lambda demo: [demo.dry_run.pk]),
    Page("Scan detail", "jobs:job_detail", lambda demo: [demo.scan.pk]),
    Page("Job progress (JSON)", "jobs:job_progress", lambda demo: [demo.job.pk]),
    Page("Scan report (CSV)", "jobs:job_report", lambda demo: [demo.scan.pk]),
    Page("New job form", "jobs:job_new"),
    Page("New scan form", "jobs:scan_new"),
    Page("Rewrap form", "jobs:rewrap_new"),
    Page("Compliance", "jobs:compliance"),
    Page("Schedules", "jobs:schedule_list"),
    Page("New schedule form", "jobs:schedule_new"),
    Page("Schedule form", "jobs:schedule_edit", lambda demo: [demo.schedule.pk]),
    Page("Schedule delete (confirm)", "jobs:schedule_delete", lambda demo: [demo.schedule.pk]),
    # Audit log
    Page("Audit log", "audit:event_list"),
    Page("Audit log (CSV)", "audit:event_export"),
    # Administration
    Page("Connections", "buckets:connection_list"),
    Page("Connection detail", "buckets:connection_detail", lambda demo: [demo.connection.pk]),
    Page("New connection form", "buckets:connection_create"),
    Page("Connection form", "buckets:connection_edit", lambda demo: [demo.connection.pk]),
    Page("Connection delete (confirm)", "buckets:connection_delete", lambda demo: [demo.connection.pk]),
    Page("Users", "accounts:user_list"),
    Page("New user form", "accounts:user_create"),
    Page("User role form", "accounts:user_role", lambda demo: [demo.admin.pk]),
    Page("Your API tokens", "accounts:token_list"),
    Page("A user's API tokens", "accounts:user_tokens", lambda demo: [demo.admin.pk]),
    Page("Two-factor sign-in", "two_factor"),
    Page("Your password", "password_change"),
    # The REST API, as a script with the Admin's session reads it
    Page("API root", "api-root"),
    Page("API me", "api-me"),
    Page("API schema", "api-schema"),
    Page("API docs", "api-docs"),
    Page("API users", "user-list"),
    Page("API user", "user-detail", lambda demo: [demo.admin.pk]),
    Page("API tokens", "token-list"),
    Page("API sweeps", "sweep-list"),
    Page("API connections", "connection-list"),
    Page("API connection", "connection-detail", lambda demo: [demo.connection.pk]),
    Page("API buckets", "bucket-list"),
    Page("API bucket", "bucket-detail", in_bucket(RICH_BUCKET)),
    Page("API bucket encryption", "bucket-encryption", in_bucket(RICH_BUCKET)),
    Page("API bucket lifecycle", "bucket-lifecycle", in_bucket(RICH_BUCKET)),
    Page("API objects", "bucket-objects", in_bucket(JOB_BUCKET), lambda demo: {"prefix": LOG_FOLDER}),
    Page("API object", "bucket-object-detail", in_bucket(KMS_OBJECT[0]), object_key(KMS_OBJECT[1])),
    Page("API object content", "bucket-object-content", in_bucket(KMS_OBJECT[0]), object_key(KMS_OBJECT[1])),
    Page("API object versions", "bucket-object-versions", in_bucket(KMS_OBJECT[0]), object_key(KMS_OBJECT[1])),
    Page("API keys", "key-list", query=key_scope),
    Page("API key", "key-detail", lambda demo: [demo.app_key_id], key_scope),
    Page(
        "API RAM policy",
        "api-ram-policy",
        query=lambda demo: {
            "connection": demo.connection.pk,
            "bucket": RICH_BUCKET,
            "method": "KMS",
            "algorithm": "SM4",
            "key_id": demo_data.APP_KEY_ALIAS,
        },
    ),
    Page("API CSE keys", "cse-key-list"),
    Page("API CSE key", "cse-key-detail", lambda demo: [demo.master_key.pk]),
    Page("API jobs", "job-list"),
    Page("API job", "job-detail", lambda demo: [demo.job.pk]),
    Page("API scan outcomes", "job-outcomes", lambda demo: [demo.scan.pk]),
    Page("API scan report", "job-report", lambda demo: [demo.scan.pk]),
    Page("API schedules", "schedule-list"),
    Page("API schedule", "schedule-detail", lambda demo: [demo.schedule.pk]),
    Page("API audit events", "auditevent-list"),
    Page("API audit event", "auditevent-detail", lambda demo: [demo.event.pk]),
    Page("API audit export", "auditevent-export"),
)


@dataclass(frozen=True)
class WizardStep:
    """A form the bench posts to move the BYOK wizard on (its state lives in the session), then that step's pages."""

    action: str
    url_name: str
    form: Callable[[Demo], dict]
    pages: tuple[Page, ...]


BYOK_STEPS = (
    WizardStep(
        "create an EXTERNAL key",
        "encryption:byok_start",
        lambda demo: {
            "connection": demo.connection.pk,
            "region": "",
            "spec": KEY_SPECS[0],
            "alias": BYOK_ALIAS,
            "description": "made by the page benchmark",
        },
        (Page("BYOK 2: wrapping parameters", "encryption:byok_parameters"),),
    ),
    WizardStep(
        "fetch a wrapping key and an import token",
        "encryption:byok_parameters",
        lambda demo: {"wrapping_algorithm": "RSAES_OAEP_SHA_256"},
        (
            Page("BYOK 2: with wrapping key", "encryption:byok_parameters"),
            Page("BYOK wrapping key (PEM)", "encryption:byok_public_key"),
            Page("BYOK 3: import material", "encryption:byok_import"),
        ),
    ),
    WizardStep(
        "import material the console generates",
        "encryption:byok_generate",
        lambda demo: {"confirm": "on"},
        (Page("BYOK 4: done", "encryption:byok_done"),),
    ),
)

_POST_ONLY = (
    "logout",
    "accounts:user_deactivate",
    "accounts:user_activate",
    "accounts:user_unlock",
    "accounts:token_create",
    "accounts:token_revoke",
    "accounts:user_reset_two_factor",
    "two_factor_setup",
    "two_factor_confirm",
    "two_factor_disable",
    "buckets:bucket_refresh",
    "buckets:bucket_expire",
    "buckets:bucket_expiry_remove",
    "buckets:connection_test",
    "encryption:key_alias_add",
    "encryption:key_alias_remove",
    "encryption:key_enable",
    "encryption:key_disable",
    "encryption:key_cancel_deletion",
    "encryption:key_rotate",
    "encryption:key_import",
    "jobs:job_pause",
    "jobs:job_resume",
    "jobs:job_cancel",
    "jobs:job_retry",
    "jobs:job_run",
    "jobs:schedule_run_now",
    "jobs:sweep_start",
    "accounts:user_reset_password",
)
# Named routes that are no page for a logged-in Admin, and why. REST framework routes that refuse GET need no entry.
NOT_MEASURED = {name: "POST only" for name in _POST_ONLY} | {
    "login": "a logged-in user is sent on to the Overview; the bench opens it only to log in",
    "login_code": "only a session that still owes its second factor sees it; the bench's Admin has none",
    "encryption:byok_generate": "POST only; the bench posts it as a step of the BYOK wizard",
    "jobs:sweep_detail": "the demo data holds no sweep; its page adds up the scans' figures the scan pages show",
    "sweep-detail": "the demo data holds no sweep (the API sweep list is measured)",
    "bucket-expiry-plan": "the demo buckets are not versioned, so the plan is refused; on a versioned bucket it "
    "lists every version, as a scan does",
    "jobs:job_completion_report": "the demo's jobs name no report location: a download streams parts from the cloud",
    "job-completion-report-download": "as jobs:job_completion_report, through the API",
    "job-completion-report-parts": "as jobs:job_completion_report: the demo's jobs wrote no report parts",
}


# The URLconf, to keep the lists above complete (console/tests/test_bench_pages.py)


def urlconf_routes(patterns=None, namespace: str = "") -> Iterator[tuple[str, Callable]]:
    """Every named route as (namespace:name, view)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from urlconf_routes(pattern.url_patterns, inner)
        elif pattern.name:
            yield namespace + pattern.name, pattern.callback


def answers_get(view: Callable) -> bool:
    """Whether a route may answer GET. Class-based views say so; a function view might, so it must be listed."""
    actions = getattr(view, "actions", None)  # a REST framework viewset route
    if actions is not None:
        return "get" in actions
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return "get" in view_class.http_method_names and hasattr(view_class, "get")
    return True


def measured_url_names() -> set[str]:
    return {page.url_name for page in PAGES} | {page.url_name for step in BYOK_STEPS for page in step.pages}


def unaccounted_routes() -> list[str]:
    """Routes that may answer GET, that the bench neither measures nor explains in NOT_MEASURED."""
    accounted = measured_url_names() | set(NOT_MEASURED)
    return sorted({name for name, view in urlconf_routes() if answers_get(view)} - accounted)


def unknown_names() -> list[str]:
    """Names the lists above give that the URLconf no longer has."""
    return sorted((measured_url_names() | set(NOT_MEASURED)) - {name for name, _ in urlconf_routes()})


# The run


class Clock:
    def __init__(self):
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.0f} s] {message}", flush=True)


def main(options: argparse.Namespace) -> None:
    logging.getLogger("oss2").setLevel(logging.WARNING)
    count = max(1, options.page_requests)
    workdir = Path(settings.VAR_DIR) / "pages"
    workdir.mkdir(parents=True, exist_ok=True)
    clock = Clock()
    load_before = os.getloadavg()[0]
    with private_redis(workdir / "redis") as private, ExitStack() as stack:
        console = Console(workdir, private.url, stack)
        empty_database(clock)
        password = bootstrap(clock)
        console.start_services(clock)
        demo = prepare_demo(console, clock)
        wait_for_heartbeat(clock)
        empty_cache(private.url)
        web_url = console.start_web(clock)
        run = visit_every_page(web_url, demo, password, count, clock)
        run.read_server_times(AccessLog(console.access_log))
    report(run, console, count, (load_before, os.getloadavg()[0]))
    shutil.rmtree(workdir / "localcloud", ignore_errors=True)  # the objects, the large upload among them


class Console:
    """The console's processes as the Procfile names them, on the bench's private Redis, database and ports."""

    def __init__(self, workdir: Path, redis_url: str, stack: ExitStack):
        self.workdir = workdir
        self.stack = stack
        self.localcloud_port = free_port()
        self.web_port = free_port()
        self.web_workers = os.environ.get("WEB_WORKERS", "2")
        self.access_log = workdir / "web-access.log"
        # This process seeds the demo data and must find the same localcloud as the console's processes.
        settings.LOCALCLOUD_HOST = "127.0.0.1"
        settings.LOCALCLOUD_PORT = self.localcloud_port
        settings.LOCALCLOUD_DATA_DIR = workdir / "localcloud"
        self.env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "LOCALCLOUD_HOST": "127.0.0.1",
            "LOCALCLOUD_PORT": str(self.localcloud_port),
            "LOCALCLOUD_DATA_DIR": str(settings.LOCALCLOUD_DATA_DIR),
            "LOG_LEVEL": "WARNING",
            # Production settings served over plain HTTP on loopback, whatever the calling shell exports.
            "DEBUG": "off",
            "SECURE_COOKIES": "off",
            "ALLOWED_HOSTS": "127.0.0.1",
        }

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = self.stack.enter_context((self.workdir / f"{name}.log").open("w"))
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.stack.callback(stop, process)
        return process

    def start_services(self, clock: Clock) -> None:
        """localcloud, a worker and beat, as `make up` starts them after bootstrap."""
        celery = str(Path(sys.executable).with_name("celery"))
        concurrency = os.environ.get("WORKER_CONCURRENCY", "4")
        localcloud = self.start("localcloud", [sys.executable, "manage.py", "localcloud"])
        _wait_until_answering(f"http://127.0.0.1:{self.localcloud_port}", localcloud)
        worker = self.start(
            "worker", [celery, "-A", "console", "worker", "--loglevel", "WARNING", "--concurrency", concurrency]
        )
        self.start("beat", [celery, "-A", "console", "beat", "--loglevel", "WARNING"])
        wait_for_worker(worker)
        clock.say(f"localcloud on port {self.localcloud_port}, a Celery worker ({concurrency} processes) and beat up")

    def start_web(self, clock: Clock) -> str:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        command = [
            gunicorn, "console.wsgi", "--bind", f"127.0.0.1:{self.web_port}",
            "--workers", self.web_workers, "--threads", str(WEB_THREADS),
            "--access-logfile", str(self.access_log), "--access-logformat", ACCESS_LOG_FORMAT,
        ]  # fmt: skip
        wait_for_port(self.web_port, self.start("web", command))
        clock.say(f"gunicorn on port {self.web_port}: {self.web_workers} workers of {WEB_THREADS} threads")
        return f"http://127.0.0.1:{self.web_port}"


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the process for port {port} exited during start-up (see its log in the work dir)")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s")


def wait_for_worker(worker: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError("the Celery worker exited during start-up (see worker.log in the work dir)")
        if app.control.ping(timeout=0.5):
            return
    raise RuntimeError(f"the Celery worker did not answer within {timeout:.0f} s")


def wait_for_heartbeat(clock: Clock) -> None:
    """beat's first heartbeat comes an interval after it starts; until then /healthz answers 503."""
    deadline = time.monotonic() + 2 * settings.HEARTBEAT_INTERVAL_SECONDS + 30
    while health.check_beat() != "ok":
        if time.monotonic() > deadline:
            clock.say(f"beat recorded no heartbeat ({health.check_beat()}): /healthz will fail")
            return
        time.sleep(0.5)


def empty_database(clock: Clock) -> None:
    """The bench's own database, emptied: an earlier benchmark of this run leaves its connections and jobs there."""
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    clock.say(f"database {settings.DATABASES['default']['NAME']} migrated and emptied")


def empty_cache(redis_url: str) -> None:
    """Forget what the console cached while the data was made, as on a fresh start; the broker's keys stay."""
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=cache.make_key("*")):
        client.delete(key)


# The data


def bootstrap(clock: Clock) -> str:
    """`manage.py bootstrap`, the first step of `make up`: the admin and the demo data; returns the password."""
    said, complaints = io.StringIO(), io.StringIO()
    call_command("bootstrap", stdout=said, stderr=complaints)
    for line in said.getvalue().splitlines():
        clock.say(f"bootstrap: {line}")
    if not Connection.objects.filter(is_demo=True).exists():
        raise RuntimeError(f"bootstrap made no demo connection: {complaints.getvalue().strip()}")
    return os.environ.get("CONSOLE_ADMIN_PASSWORD") or (Path(settings.VAR_DIR) / "admin-password").read_text().strip()


def prepare_demo(console: Console, clock: Clock) -> Demo:
    connection = Connection.objects.get(is_demo=True)
    admin = get_user_model().objects.get(username=settings.CONSOLE_ADMIN_USER)
    scan = run_reencrypt(console, clock, "--scan")
    dry_run = run_reencrypt(console, clock, "--dry-run")
    job = run_reencrypt(console, clock)
    buckets = {bucket.name: bucket for bucket in Bucket.objects.filter(connection=connection)}
    kms = KmsClient(connection)
    master_key = masterkeys.generate_rsa(actor=admin, name=MASTER_KEY_NAME, description="RSA key of the demo")
    transfer = large_client_side_upload(console, buckets[UPLOAD_BUCKET], master_key, admin, clock)
    return Demo(
        connection=connection,
        buckets=buckets,
        admin=admin,
        app_key_id=kms.describe_key(demo_data.APP_KEY_ALIAS).key_id,
        retired_key_id=kms.describe_key(demo_data.RETIRED_KEY_ALIAS).key_id,
        scan=scan,
        dry_run=dry_run,
        job=job,
        schedule=nightly_scan(connection, admin),
        master_key=master_key,
        transfer=transfer,
        event=AuditEvent.objects.order_by("-pk").first(),
    )


def run_reencrypt(console: Console, clock: Clock, *flags: str) -> Job:
    """`manage.py reencrypt demo-logs [flags] --wait` as a person runs it: the job runs on the worker."""
    command = [sys.executable, "manage.py", "reencrypt", JOB_BUCKET, *flags, "--wait", "--json"]
    done = subprocess.run(
        command, cwd=ROOT, env=console.env, capture_output=True, text=True, timeout=JOB_TIMEOUT_SECONDS
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py reencrypt {JOB_BUCKET} {' '.join(flags)} failed: {done.stderr[-2000:]}")
    job = Job.objects.get(pk=json.loads(done.stdout)["id"])
    what = "dry run" if job.dry_run else job.get_kind_display().lower()
    clock.say(f"{what} {job.pk} of {JOB_BUCKET}: {job.get_state_display().lower()}, {job.total_objects} objects")
    return job


def large_client_side_upload(console: Console, bucket: Bucket, master_key: MasterKey, admin, clock: Clock):
    """A file just over CSE_MULTIPART_THRESHOLD, given to the function the upload form calls for large files:
    the web process encrypts and sends its parts, a worker completes it, and the transfer page follows it."""
    path = console.workdir / "large-upload.bin"
    with path.open("wb") as upload:
        for _ in range(settings.CSE_MULTIPART_THRESHOLD // (1024 * 1024) + 1):
            upload.write(os.urandom(1024 * 1024))
    try:
        with path.open("rb") as upload:
            transfer = cse_transfer.upload(
                bucket, LARGE_UPLOAD_KEY, File(upload), master_key, admin, content_type="application/octet-stream"
            )
    finally:
        path.unlink()
    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    while not transfer.finished and time.monotonic() < deadline:
        time.sleep(0.5)
        transfer.refresh_from_db()
    if transfer.state != CseTransfer.DONE:
        raise RuntimeError(f"the large client-side upload ended {transfer.state}: {transfer.error}")
    clock.say(f"client-side encrypted upload of {transfer.size / 2**20:.0f} MiB to {bucket.name} done on the worker")
    return transfer


def nightly_scan(connection: Connection, admin) -> Schedule:
    # Twelve hours from now, so beat cannot start it while the pages are timed.
    hour = (timezone.localtime().hour + 12) % 24
    return schedules.save_schedule(
        actor=admin,
        connection=connection,
        bucket=JOB_BUCKET,
        name=f"Nightly scan of {JOB_BUCKET}",
        spec=services.Spec(kind=Job.SCAN, select=Job.SELECT_ALL),
        crontab=f"0 {hour} * * *",
    )


# The visits


@dataclass(frozen=True)
class Answer:
    number: str  # the REQUEST_HEADER value, repeated by the access log
    status: int
    client_ms: float
    location: str


class Browser:
    """One logged-in Admin on one keep-alive connection, as a browser tab keeps it."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.numbers = itertools.count(1)

    def get(self, path: str) -> Answer:
        number = str(next(self.numbers))
        started = time.perf_counter()
        response = self.session.get(
            self.base_url + path, headers={REQUEST_HEADER: number}, allow_redirects=False, timeout=120
        )
        elapsed = 1000 * (time.perf_counter() - started)
        return Answer(number, response.status_code, elapsed, response.headers.get("Location", ""))

    def post(self, path: str, form: dict) -> requests.Response:
        # Django takes the CSRF cookie's value in this header for any form post.
        headers = {REQUEST_HEADER: str(next(self.numbers)), "X-CSRFToken": self.session.cookies.get("csrftoken", "")}
        return self.session.post(self.base_url + path, data=form, headers=headers, allow_redirects=False, timeout=120)

    def log_in(self, username: str, password: str) -> None:
        self.get(reverse("login"))  # for the CSRF cookie
        answer = self.post(reverse("login"), {"username": username, "password": password})
        if answer.status_code != 302:
            raise RuntimeError(f"logging in as {username} answered {answer.status_code}, not a redirect")


@dataclass
class Measured:
    name: str
    url_name: str
    url: str
    answers: list[Answer] = field(default_factory=list)
    failure: str = ""
    server_ms: list[float] = field(default_factory=list)

    @property
    def statuses(self) -> str:
        counts = Counter(answer.status for answer in self.answers)
        return ", ".join(f"{status}" if n == len(self.answers) else f"{status} x{n}" for status, n in counts.items())


@dataclass
class Run:
    first_visit: Measured
    pages: list[Measured]
    admin: str

    def read_server_times(self, log: AccessLog) -> None:
        measured = [self.first_visit, *self.pages]
        durations = log.durations({answer.number for page in measured for answer in page.answers})
        for page in measured:
            page.server_ms = [durations[answer.number] for answer in page.answers if answer.number in durations]
            if not page.failure and len(page.server_ms) < len(page.answers):
                page.failure = f"{len(page.answers) - len(page.server_ms)} requests missing from the access log"


def visit_every_page(web_url: str, demo: Demo, password: str, count: int, clock: Clock) -> Run:
    browser = Browser(web_url)
    browser.log_in(demo.admin.username, password)
    first = Measured("Overview, first visit", "overview", reverse("overview"))
    first.answers.append(browser.get(first.url))
    clock.say(f"logged in as {demo.admin.username}; timing every page, {count} requests each")
    measured = [measure(browser, page, page.url(demo), count) for page in progress(PAGES, clock)]
    for step in BYOK_STEPS:
        measured += take_step(browser, demo, step, count)
    return Run(first, measured, demo.admin.username)


def progress(pages: Sequence[Page], clock: Clock) -> Iterator[Page]:
    said = time.monotonic()
    for number, page in enumerate(pages):
        if time.monotonic() - said > PROGRESS_SECONDS:
            said = time.monotonic()
            clock.say(f"{number}/{len(pages)} pages timed")
        yield page


def measure(browser: Browser, page: Page, url: str, count: int) -> Measured:
    """Warm-up requests, then `count` timed ones; a page that answers anything but 200 is a failure."""
    measured = Measured(page.name, page.url_name, url)
    for _ in range(WARMUP_REQUESTS):
        answer = browser.get(url)
        if answer.status != 200:
            measured.failure = f"answered {answer.status}" + (f" to {answer.location}" if answer.location else "")
            return measured
    measured.answers = [browser.get(url) for _ in range(count)]
    if any(answer.status != 200 for answer in measured.answers):
        measured.failure = f"answered {measured.statuses}"
    return measured


def take_step(browser: Browser, demo: Demo, step: WizardStep, count: int) -> list[Measured]:
    response = browser.post(reverse(step.url_name), step.form(demo))
    if response.status_code != 302:
        failed = f"could not {step.action}: {step.url_name} answered {response.status_code}"
        return [Measured(page.name, page.url_name, page.url(demo), failure=failed) for page in step.pages]
    return [measure(browser, page, page.url(demo), count) for page in step.pages]


class AccessLog:
    """gunicorn's access log in ACCESS_LOG_FORMAT: each request's server time, found by the number it carried."""

    def __init__(self, path: Path):
        self.path = path

    def durations(self, numbers: set[str], timeout: float = 10) -> dict[str, float]:
        """Milliseconds per request number; gunicorn writes a line just after the answer, so wait for the last."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._read()
            if numbers <= found.keys() or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def _read(self) -> dict[str, float]:
        found = {}
        for line in self.path.read_text().splitlines():
            number, _, microseconds = (line.split() + ["", "", ""])[:3]
            if number.isdigit() and microseconds.isdigit():
                found[number] = int(microseconds) / 1000
        return found


# The figures


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def report(run: Run, console: Console, count: int, load: tuple[float, float]) -> None:
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(
        f"\nserver time per page (gunicorn's access log), logged in as Admin {run.admin!r}: {WARMUP_REQUESTS} "
        f"warm-up requests, then {count} timed, on one keep-alive connection"
    )
    print(
        f"console as the Procfile runs it: gunicorn {console.web_workers} workers x {WEB_THREADS} threads, a Celery "
        f"worker and beat, localcloud, Redis, {database}; demo data of `make up` plus a scan, a dry run and a job"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} before, {load[1]:.1f} after")
    width = max(len(page.name) for page in run.pages)
    url_width = min(URL_WIDTH, max(len(page.url) for page in run.pages))
    first = run.first_visit
    first_ms = f"{first.server_ms[0]:.1f} ms" if first.server_ms else "no time"
    print(f"\nfirst visit: Overview on a fresh server with an empty cache: {first_ms}, status {first.statuses}\n")
    print(f"{'page':<{width}}  {'URL':<{url_width}}  {'p50 ms':>8}  {'p95 ms':>8}  status")
    for page in run.pages:
        print(row(page, width, url_width))
    overhead = [
        answer.client_ms - server
        for page in run.pages
        if len(page.server_ms) == len(page.answers)  # else the pairs would not match
        for answer, server in zip(page.answers, page.server_ms, strict=True)
    ]
    if overhead:
        print(f"\nthe client saw {percentile(overhead, 0.5):.1f} ms more than the server at the median (loopback HTTP)")
    print_failures(run)
    print_slow_list_pages(run)


def row(page: Measured, width: int, url_width: int) -> str:
    url = page.url if len(page.url) <= url_width else page.url[: url_width - 3] + "..."
    if page.failure or not page.server_ms:
        return f"{page.name:<{width}}  {url:<{url_width}}  {'-':>8}  {'-':>8}  FAIL {page.failure}"
    p50, p95 = percentile(page.server_ms, 0.5), percentile(page.server_ms, 0.95)
    return f"{page.name:<{width}}  {url:<{url_width}}  {p50:>8.1f}  {p95:>8.1f}  {page.statuses}"


def print_failures(run: Run) -> None:
    failed = [page for page in [run.first_visit, *run.pages] if page.failure]
    if failed:
        print(f"\n{len(failed)} pages failed (the web process's log, web.log, is in the work dir):")
        for page in failed:
            print(f"  {page.name} {page.url}: {page.failure}")


def print_slow_list_pages(run: Run) -> None:
    """The Overview and list pages over the target at p50; a failed one counts as over."""
    listed = [page for page in run.pages if page.url_name in LIST_PAGES]
    slow = [page for page in listed if page.failure or percentile(page.server_ms, 0.5) >= TARGET_P50_MS]
    print(f"\nOverview and list pages at or over {TARGET_P50_MS:.0f} ms p50 (target: under {TARGET_P50_MS:.0f} ms):")
    if not slow:
        print(f"  none: all {len(listed)} under the target")
    for page in slow:
        print(f"  {page.name}: " + ("failed" if page.failure else f"{percentile(page.server_ms, 0.5):.0f} ms"))
