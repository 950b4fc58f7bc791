"""Bucket scale (issue 16, item 8): a bucket of N objects of 1 KiB in several prefixes, scanned and then
re-encrypted on 2 Celery workers, beside the same on 2,000 objects: both complete; worker memory within 10 % of
the 2,000-object run; no database row per successful object; time per object within 1.25x; the progress total known
before a tenth of the job is done; the job page and the jobs list under 200 ms while the job runs.

The objects are made in localcloud's storage directly: one PUT per prefix through oss2, then rows that each name a
hard link to that object's blob file. Each object has its own blob name, so a CopyObject replacing one deletes
only its own link; unencrypted blobs are not bound to their key, so every copy reads back as the original.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.services import create_user
from bench.reencrypt import (
    WORKERS,
    PeakRss,
    Setup,
    celery_workers,
    localcloud,
    prepare,
    private_redis,
    retries,
)
from buckets.models import Bucket
from jobs import selectors
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services
from localcloud.models import StoredObject
from localcloud.storage import blob_store

BASELINE_OBJECTS = 2000
DEFAULT_OBJECTS = 20_000
OBJECT_SIZE = 1024
CONCURRENCY = 16
PREFIXES = ("logs/2025/", "logs/2026/", "images/", "exports/csv/", "archive/")
PAGE_SAMPLE_SECONDS = 1.0
PASSWORD = "Correct-Horse-Battery-42"  # given, so the user is not sent to change it first
MIB = 1024 * 1024
TARGET_MEMORY_GROWTH = 0.10
TARGET_TIME_RATIO = 1.25
TARGET_TOTAL_KNOWN_FRACTION = 0.10
TARGET_PAGE_SECONDS = 0.2


@dataclass
class ScaleRun:
    objects: int
    scan_seconds: float = 0.0
    scan_state: str = ""
    scan_rows: int = 0
    seconds: float = 0.0
    state: str = ""
    reencrypted: int = 0
    rows: int = 0  # ObjectOutcome rows of the re-encryption job
    requests_per_object: float = 0.0
    peak_rss: int = 0
    total_known_at: float | None = None  # the fraction of the job done when progress first had a total
    page_seconds: dict[str, list[float]] = field(default_factory=dict)
    error: str = ""

    @property
    def seconds_per_object(self) -> float:
        return self.seconds / self.objects


def main(options: argparse.Namespace) -> None:
    count = options.objects or DEFAULT_OBJECTS
    workdir = Path(settings.VAR_DIR) / "scale"
    workdir.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    with private_redis(workdir / "redis") as redis, localcloud(workdir, redis.url, CONCURRENCY, 0) as stage:
        setup = prepare(workdir, *stage, redis, CONCURRENCY, 0, "scale")
        settings.LOCALCLOUD_DATA_DIR = workdir / "localcloud"  # where the clones' blobs go: localcloud's own
        browser = Client()
        browser.force_login(create_user(actor=None, username="bench-scale", role="admin", password=PASSWORD).user)
        setup.say(f"{count} and {BASELINE_OBJECTS} objects of 1 KiB in {len(PREFIXES)} prefixes, {WORKERS} workers")
        runs = [scale_run(setup, browser, BASELINE_OBJECTS), scale_run(setup, browser, count)]
    report(*runs)
    shutil.rmtree(workdir / "localcloud", ignore_errors=True)


def scale_run(setup: Setup, browser: Client, count: int) -> ScaleRun:
    run = ScaleRun(count)
    try:
        bucket = filled_bucket(setup, count)
        with celery_workers(setup, f"scale{count}") as workers:
            scan = run_job(setup, bucket, Job.SCAN)
            run.scan_seconds, run.scan_state = scan.finished_at.timestamp() - scan.created_at.timestamp(), scan.state
            run.scan_rows = ObjectOutcome.objects.filter(job=scan).count()
            setup.say(f"{count}: scan {scan.state} in {run.scan_seconds:.0f} s, {run.scan_rows} outcome rows")
            with PeakRss(workers) as memory:
                job = run_job(setup, bucket, Job.REENCRYPT, run, browser)
            run.peak_rss = memory.peak
        run.seconds, run.state = job.finished_at.timestamp() - job.created_at.timestamp(), job.state
        counts = selectors.progress(job).counts()
        run.reencrypted = counts["reencrypted"]
        run.requests_per_object = counts["requests"] / max(1, counts["objects_done"])
        run.rows = ObjectOutcome.objects.filter(job=job).count()
        setup.say(
            f"{count}: re-encryption {job.state} in {run.seconds:.0f} s ({count / run.seconds:.0f} objects/s), "
            f"{run.reencrypted} re-encrypted, {run.rows} outcome rows, workers' peak RSS {run.peak_rss / MIB:.0f} MiB"
        )
    except Exception as error:  # noqa: BLE001 - a bench reports a broken run and goes on
        run.error = f"{type(error).__name__}: {error}"
        setup.say(f"{count}: failed: {run.error}")
    return run


def filled_bucket(setup: Setup, count: int) -> str:
    """A new bucket holding `count` 1 KiB objects spread over PREFIXES, the console knowing it."""
    name = f"bench-scale-{count}"
    retries.call(setup.bucket(name).create_bucket)
    Bucket.objects.create(
        connection=setup.connection, name=name, region=setup.connection.region, refreshed_at=timezone.now()
    )
    started = time.monotonic()
    for number, prefix in enumerate(PREFIXES):
        share = count // len(PREFIXES) + (1 if number < count % len(PREFIXES) else 0)
        seed = f"{prefix}seed"
        retries.call(
            setup.bucket(name).put_object,
            seed,
            os.urandom(OBJECT_SIZE),
            headers={"Content-Type": "text/plain", "x-oss-meta-owner": "bench"},
        )
        clone(name, seed, prefix, share - 1)
    setup.say(f"bucket {name}: {count} objects in {time.monotonic() - started:.0f} s")
    return name


def clone(bucket: str, seed: str, prefix: str, count: int) -> None:
    """`count` copies of `seed` as `<prefix>NNNNNNN`, each row naming its own hard link to the seed's blob."""
    original = StoredObject.objects.get(bucket__name=bucket, key=seed)
    fields = {
        field.attname: getattr(original, field.attname)
        for field in StoredObject._meta.concrete_fields
        if not field.primary_key and field.attname not in ("key", "blob")
    }
    store = blob_store()
    source = store.path(original.blob)
    rows = []
    for index in range(count):
        blob = uuid.uuid4().hex
        target = store.path(blob)
        target.parent.mkdir(exist_ok=True)
        os.link(source, target)
        rows.append(StoredObject(**fields, key=f"{prefix}{index:07d}", blob=blob))
        if len(rows) == 5000:
            StoredObject.objects.bulk_create(rows, batch_size=1000)
            rows = []
    StoredObject.objects.bulk_create(rows, batch_size=1000)


def run_job(setup: Setup, bucket: str, kind: str, run: ScaleRun | None = None, browser: Client | None = None) -> Job:
    """Start a scan or a re-encryption of the whole bucket to the named key, and wait for its end; for the
    re-encryption, note when the total became known and time the pages meanwhile."""
    spec = services.Spec(
        kind=kind,
        target_mode=Job.TARGET_EXPLICIT,
        target_method="kms",
        target_algorithm="AES256",
        target_key_id=setup.key_id,
        concurrency=CONCURRENCY,
        requests_per_second=0,
        kms_per_second=0,
        verify=False,
    )
    job = services.create_job(actor=None, connection=setup.connection, bucket=bucket, spec=spec)
    sampler = PageSampler(browser, job, run.page_seconds) if browser and run else None
    if sampler:
        sampler.start()
    said = time.monotonic()
    try:
        while True:
            job.refresh_from_db()
            progress = selectors.progress(job)
            if run and run.total_known_at is None and job.total_known:
                run.total_known_at = progress.objects_done / max(1, job.total_objects)
            if job.state in Job.FINISHED_STATES:
                return job
            if time.monotonic() - said > 30:
                said = time.monotonic()
                setup.say(f"{kind} {job.pk}: {progress.objects_done}/{job.total_objects or '?'} objects")
            time.sleep(0.2)
    finally:
        if sampler:
            sampler.stop()


class PageSampler:
    """Times the job's page and the jobs list through Django's test client while the job runs."""

    def __init__(self, browser: Client, job: Job, seconds: dict[str, list[float]]):
        self.urls = {
            "job page": reverse("jobs:job_detail", args=[job.pk]),
            "jobs list": reverse("jobs:job_list"),
        }
        self.browser, self.seconds = browser, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="pages", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(PAGE_SAMPLE_SECONDS):
                for name, url in self.urls.items():
                    started = time.perf_counter()
                    response = self.browser.get(url)
                    seconds = time.perf_counter() - started
                    label = name if response.status_code == 200 else f"{name} (answered {response.status_code})"
                    self.seconds.setdefault(label, []).append(seconds)
        finally:
            connection.close()


def report(baseline: ScaleRun, run: ScaleRun) -> None:
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"\nbucket scale: {run.objects} against {baseline.objects} objects of 1 KiB in {len(PREFIXES)} prefixes, "
          f"{WORKERS} workers, {CONCURRENCY} in flight, re-encrypted to SSE-KMS ({database})")  # fmt: skip
    print(f"{'objects':>8} {'scan s':>8} {'scan':>10} {'job s':>8} {'job':>10} {'ms/object':>10} {'peak RSS':>9} "
          f"{'rows':>6} {'req/obj':>8} {'total known at':>15}")  # fmt: skip
    for each in (baseline, run):
        if each.error:
            print(f"{each.objects:>8}  failed: {each.error}")
            continue
        known = f"{100 * each.total_known_at:.1f} % done" if each.total_known_at is not None else "never seen"
        print(
            f"{each.objects:>8} {each.scan_seconds:>8.1f} {each.scan_state:>10} {each.seconds:>8.1f} "
            f"{each.state:>10} {1000 * each.seconds_per_object:>10.2f} {each.peak_rss / MIB:>8.0f}M {each.rows:>6} "
            f"{each.requests_per_object:>8.2f} {known:>15}"
        )
    for each in (baseline, run):
        for name, samples in each.page_seconds.items():
            print(
                f"  {each.objects:>8} objects, {name} while running: {len(samples)} samples, p50 "
                f"{1000 * statistics.median(samples):.0f} ms, p95 {1000 * _p95(samples):.0f} ms, "
                f"max {1000 * max(samples):.0f} ms"
            )
        if each.scan_rows:
            print(f"  {each.objects:>8} objects: the scan kept {each.scan_rows} outcome rows (one per non-compliant)")
    print("\ntargets (issue 16, item 8)")
    if baseline.error or run.error:
        print("  MISS: a run failed")
        return
    both = all(each.state == Job.COMPLETED and each.reencrypted == each.objects for each in (baseline, run))
    _line("both complete, every object re-encrypted", both)
    growth = run.peak_rss / baseline.peak_rss - 1
    _line(f"worker memory {100 * growth:+.1f} % against {baseline.objects} [<= +10 %]", growth <= TARGET_MEMORY_GROWTH)
    _line(f"database rows per successful object: {run.rows / run.objects:.4f} [none]", run.rows == 0)
    ratio = run.seconds_per_object / baseline.seconds_per_object
    _line(f"time per object {ratio:.2f}x the {baseline.objects}-object run's [<= 1.25x]", ratio <= TARGET_TIME_RATIO)
    known = run.total_known_at
    _line(
        f"progress total known at {100 * known:.1f} % done [< 10 %]" if known is not None else "total never seen",
        known is not None and known < TARGET_TOTAL_KNOWN_FRACTION,
    )
    for name, samples in run.page_seconds.items():
        slowest = max(samples)
        _line(
            f"{name} under 200 ms while running: max {1000 * slowest:.0f} ms",
            slowest < TARGET_PAGE_SECONDS and "answered" not in name,
        )


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def _line(text: str, passed: bool) -> None:
    print(f"  {'PASS' if passed else 'MISS'}  {text}")
