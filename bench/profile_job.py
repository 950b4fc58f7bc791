"""Where a re-encryption job's worker spends its CPU per object: the pages of one job run in this process (as a
Celery worker's task would run them, with the job's threads) under cProfile, against a private localcloud answering
at the highest --latency-ms.

Prints CPU per object in the worker, Redis commands, database queries and OSS requests per object, and the
functions that cost the most, whole (cumulative) and in themselves, over every thread the pages ran on.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import threading
import time
from concurrent.futures import thread as futures_thread
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db.backends import utils as db_utils

from bench.reencrypt import fresh_bucket, localcloud, prepare, private_redis, report_location
from jobs import selectors
from jobs.engine import limits, page_worker
from jobs.models import Job, JobPage
from jobs.services import jobs as services

OBJECTS = 600
CONCURRENCY = 16
TOP = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("profile")
    group.add_argument("--profile-objects", type=int, default=OBJECTS, help=f"objects profiled (default {OBJECTS})")


def main(options: argparse.Namespace) -> None:
    count = max(1, options.profile_objects)
    workdir = Path(settings.VAR_DIR) / "profile"
    workdir.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    latency_ms = max(options.latency_ms)
    with private_redis(workdir / "redis") as redis, localcloud(workdir, redis.url, CONCURRENCY, latency_ms) as stage:
        setup = prepare(workdir, *stage, redis, CONCURRENCY, latency_ms, "profile")
        bucket = fresh_bucket(setup, "profile", count)
        spec = services.Spec(
            target_mode=Job.TARGET_EXPLICIT,
            target_method="kms",
            target_algorithm="AES256",
            target_key_id=setup.key_id,
            concurrency=CONCURRENCY,
            requests_per_second=0,
            kms_per_second=0,
            report_bucket=report_location(setup, "profile"),
        )
        job = services.create_job(actor=None, connection=setup.connection, bucket=bucket, spec=spec)
        limits.client().config_resetstat()
        with counted_queries() as queries, profiled_threads() as profiles:
            started_cpu, started = time.process_time(), time.perf_counter()
            run_every_page(job)
            cpu, seconds = time.process_time() - started_cpu, time.perf_counter() - started
        redis_commands = sum(stat["calls"] for stat in limits.client().info("commandstats").values())
        counts = selectors.progress(job).counts()
    done = max(1, counts["objects_done"])
    print(
        f"\n{done} objects in {seconds:.1f} s on {CONCURRENCY} threads, localcloud {latency_ms} ms away; worker CPU "
        f"{1000 * cpu / done:.2f} ms per object (cProfile's own included); per object: "
        f"{counts['requests'] / done:.2f} OSS requests, {redis_commands / done:.1f} Redis commands "
        f"(Lua scripts' inner calls included), {queries['count'] / done:.2f} database queries"
    )
    stats = merged(profiles)
    stats.dump_stats(workdir / "job.prof")
    for order in ("cumulative", "tottime"):
        text = io.StringIO()
        stats.stream = text
        stats.sort_stats(order).print_stats(TOP)
        print(f"\ntop {TOP} by {order} (every thread):{text.getvalue()}")
    print(f"whole profile: {workdir / 'job.prof'} (python -m pstats)")


def run_every_page(job: Job) -> None:
    """Run the pages in order in this process, as workers would: each page queues the next as it lists."""
    number = 0
    while True:
        page_worker.run_page(job.pk, number)
        job.refresh_from_db()
        if job.state in Job.FINISHED_STATES or not JobPage.objects.filter(job=job, number=number + 1).exists():
            return
        number += 1


@contextmanager
def counted_queries():
    """Database queries of every thread (each thread has its own connection, so Django's wrappers would not)."""
    counts, lock = {"count": 0}, threading.Lock()
    original = db_utils.CursorWrapper._execute_with_wrappers

    def counting(self, *args, **kwargs):
        with lock:
            counts["count"] += 1
        return original(self, *args, **kwargs)

    db_utils.CursorWrapper._execute_with_wrappers = counting
    try:
        yield counts
    finally:
        db_utils.CursorWrapper._execute_with_wrappers = original


@contextmanager
def profiled_threads():
    """cProfile on this thread and around every work item of the job's thread pools (cProfile sees one thread)."""
    profiles: list[cProfile.Profile] = []
    local = threading.local()
    original = futures_thread._WorkItem.run

    def run(self):
        if not hasattr(local, "profile"):
            local.profile = cProfile.Profile()
            profiles.append(local.profile)
        local.profile.enable()
        try:
            return original(self)
        finally:
            local.profile.disable()

    main = cProfile.Profile()
    profiles.append(main)
    futures_thread._WorkItem.run = run
    main.enable()
    try:
        yield profiles
    finally:
        main.disable()
        futures_thread._WorkItem.run = original


def merged(profiles: list[cProfile.Profile]) -> pstats.Stats:
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        stats.add(profile)
    return stats
