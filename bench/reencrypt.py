"""Re-encryption to SSE-KMS under a named key, side by side on one localcloud: (a) a sequential oss2 script that
keeps what the job keeps (HEAD, GetObjectAcl, then a conditional CopyObject keeping metadata, tags, ACL and storage
class), (b) the same script on a thread pool, (c) our job on 2 Celery workers; each at every simulated network
latency asked for (--latency-ms, LOCALCLOUD_LATENCY_MS in localcloud: 0 and 20 ms by default).

Every run starts from the same objects (4 KiB, unencrypted, a Content-Type, one x-oss-meta header and a tag; every
fourth with its own ACL) in a fresh bucket, which is what resetting them between runs amounts to, and is checked
afterwards by a HEAD per object. (b) and (c) keep the same number of objects in flight. Worker memory is compared
between a run of N objects and one of 10 N (at the first latency). Nothing here fails the build: a run that breaks
is reported and the bench goes on.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import oss2
import psutil
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.utils import timezone

from bench.localcloud_throughput import _wait_until_answering
from buckets.models import Bucket, Connection
from cloud.kms import KmsClient
from console.celery import app
from console.embedded_redis import EmbeddedRedis, free_port
from jobs import selectors
from jobs.engine import limits
from jobs.models import Job
from jobs.services import jobs as services
from localcloud.accesskeys import create_access_key

ROOT = Path(__file__).resolve().parent.parent
OBJECT_SIZE = 4 * 1024
DEFAULT_OBJECTS = 2000
CONTENT_TYPE = "text/csv"
USER_META = {"x-oss-meta-owner": "bench"}
TAGGING = "team=bench"
OWN_ACL = "private"  # every fourth object's, where the others inherit the bucket's
# What a CopyObject with x-oss-metadata-directive REPLACE would otherwise drop.
CONTENT_HEADERS = ("Content-Type", "Content-Disposition", "Content-Encoding", "Content-Language", "Cache-Control",
                   "Expires")  # fmt: skip
ALIAS = "alias/bench-reencrypt"
WORKERS = 2
# Targets per simulated latency (ms): (c) / (b) and (c) / (a) objects/s (issue 16).
TARGETS_VS_TUNED = {0: 1.0, 20: 1.3}
TARGETS_VS_NAIVE = {20: 6.0}
TARGET_CPU_VS_TUNED = 1.5  # the workers' CPU per object over (b)'s client CPU per object, at most
FLAT_MEMORY_RATIO = 1.25
RSS_SAMPLE_SECONDS = 0.2
MAX_ATTEMPTS = 5
MIB = 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reencrypt")
    group.add_argument("--objects", type=int, help="objects per run (default: reencrypt 2000, scale 20000 beside 2000)")
    group.add_argument(
        "--concurrency", type=int, default=16, help="objects in flight in (b) and (c), across workers (default 16)"
    )
    group.add_argument("--quick", action="store_true", help="a smoke run: no memory check unless asked for")
    group.add_argument(
        "--memory-check",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the job again on 10x the objects and compare worker memory (default: on unless --quick)",
    )
    group.add_argument(
        "--latency-ms",
        type=int,
        nargs="+",
        default=[0, 20],
        help="simulated network latencies localcloud answers with, each a full set of runs (default: 0 20)",
    )


@dataclass
class Run:
    label: str
    objects: int
    seconds: float = 0.0
    encrypted: int = 0  # under the named key, by HEAD afterwards
    kept: int = 0  # Content-Type and user metadata as before
    server_cpu: float = 0.0  # localcloud CPU seconds during the run
    client_cpu: float = 0.0  # the script's (this process) or the workers' CPU seconds
    requests_per_object: float = 0.0  # OSS requests, the listing's included
    peak_rss: int = 0  # (c): the workers' peak RSS, bytes
    error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error and self.seconds > 0

    @property
    def rate(self) -> float:
        return self.objects / self.seconds if self.ok else 0.0


@dataclass
class Setup:
    workdir: Path
    endpoint: str
    server: psutil.Process
    redis_url: str
    redis: psutil.Process
    connection: Connection
    auth: oss2.Auth
    key_id: str
    concurrency: int
    payload: bytes
    latency_ms: int
    started: float = field(default_factory=time.monotonic)

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.0f} s] {message}", flush=True)

    def bucket(self, name: str, pool_size: int | None = None) -> oss2.Bucket:
        session = oss2.Session(pool_size=pool_size) if pool_size else None
        return oss2.Bucket(self.auth, self.endpoint, name, session=session)


def main(options: argparse.Namespace) -> None:
    logging.getLogger("oss2").setLevel(logging.WARNING)
    count, concurrency = max(1, options.objects or DEFAULT_OBJECTS), max(1, options.concurrency)
    memory_check = options.memory_check if options.memory_check is not None else not options.quick
    workdir = Path(settings.VAR_DIR) / "reencrypt"
    workdir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    call_command("migrate", verbosity=0)
    by_latency: dict[int, list[Run]] = {}
    with private_redis(workdir / "redis") as redis:
        for number, latency_ms in enumerate(dict.fromkeys(options.latency_ms)):
            with localcloud(workdir, redis.url, concurrency, latency_ms) as stage:
                setup = prepare(workdir, *stage, redis, concurrency, latency_ms)
                setup.say(
                    f"{count} objects of {OBJECT_SIZE // 1024} KiB per run, to SSE-KMS under {ALIAS}, "
                    f"{concurrency} in flight for (b) and (c), localcloud answering {latency_ms} ms late; "
                    "each run gets a fresh bucket with the same objects"
                )
                runs = [
                    measure(setup, "a", count, "(a) oss2, sequential", naive_script),
                    measure(setup, "b", count, f"(b) oss2, {concurrency} threads", tuned_script),
                    job_run(setup, "c", count),
                ]
                if memory_check and number == 0:
                    runs.append(job_run(setup, "c-10x", 10 * count))
                report(setup, runs, (load_before, os.getloadavg()[0]))
                by_latency[latency_ms] = runs
    summary(by_latency, concurrency)
    shutil.rmtree(workdir / "localcloud", ignore_errors=True)


# The stage: Redis, localcloud, a connection, a key, buckets of objects


@contextmanager
def private_redis(data_dir: Path) -> Iterator[EmbeddedRedis]:
    """An embedded Redis of our own, so the bench's tasks never reach a running console's workers."""
    redis = EmbeddedRedis(data_dir).start()
    settings.REDIS_URL = settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = redis.url
    settings.CACHES["default"]["LOCATION"] = redis.url
    app.conf.update(broker_url=redis.url, result_backend=redis.url)
    _forget_connections()
    try:
        yield redis
    finally:
        redis.stop()


def _forget_connections() -> None:
    """Django's cache and Celery's broker pool and result backend keep the Redis they first connected to; when an
    earlier benchmark of this run had its own (stopped since), they must connect again, to this one."""
    if hasattr(caches._connections, "default"):
        del caches["default"]
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None  # a thread-safe result backend is kept here, any other per thread
    vars(app._local).pop("backend", None)


@contextmanager
def localcloud(
    workdir: Path, redis_url: str, concurrency: int, latency_ms: int
) -> Iterator[tuple[str, psutil.Process]]:
    """localcloud in its own process, as production runs it, answering `latency_ms` late, with a thread for every
    request in flight (the job's workers may each hold `concurrency` threads) and room for listings beside the
    copies; its KMS keeps a replay cache in Redis."""
    port = free_port()
    threads = max(settings.LOCALCLOUD_THREADS, 2 * concurrency + 8)
    env = {
        **os.environ,
        "LOCALCLOUD_DATA_DIR": str(workdir / "localcloud"),
        "REDIS_URL": redis_url,
        "LOCALCLOUD_LATENCY_MS": str(latency_ms),
    }
    command = [sys.executable, "manage.py", "localcloud", "--port", str(port), "--threads", str(threads)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(endpoint, server)
        yield endpoint, psutil.Process(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


def prepare(
    workdir: Path,
    endpoint: str,
    server: psutil.Process,
    redis: EmbeddedRedis,
    concurrency: int,
    latency_ms: int,
    benchmark: str = "reencrypt",
) -> Setup:
    """A connection and a named key of their own for this benchmark and latency (one database serves them all)."""
    access_key_id, secret = create_access_key(f"bench {benchmark}")
    connection = Connection(
        name=f"bench-{benchmark}-{os.getpid()}-{latency_ms}ms", oss_endpoint=endpoint, region=settings.LOCALCLOUD_REGION
    )
    connection.set_credentials(access_key_id, secret)
    connection.save()
    kms = KmsClient(connection)
    key, _ = kms.create_key(description="re-encryption bench")
    kms.create_alias(key.key_id, f"alias/bench-{benchmark}-{latency_ms}ms")
    return Setup(
        workdir=workdir,
        endpoint=endpoint,
        server=server,
        redis_url=redis.url,
        redis=psutil.Process(redis.process.pid),
        connection=connection,
        auth=oss2.Auth(access_key_id, secret),
        key_id=key.key_id,
        concurrency=concurrency,
        payload=os.urandom(OBJECT_SIZE),
        latency_ms=latency_ms,
    )


class Retries:
    """Requests repeated after a connection error or a 5xx: localcloud on a loaded machine now and then resets a
    connection. Every client here retries like the job's engine does, and the report says how often."""

    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()

    def call(self, operation, *args, **kwargs):
        for attempt in range(MAX_ATTEMPTS):
            try:
                return operation(*args, **kwargs)
            except (oss2.exceptions.RequestError, oss2.exceptions.ServerError) as error:
                if attempt == MAX_ATTEMPTS - 1 or (error.status >= 0 and error.status < 500):
                    raise
                with self._lock:
                    self.count += 1
                time.sleep(0.1 * 2**attempt)
        raise AssertionError("unreachable")


retries = Retries()


def key_of(index: int) -> str:
    return f"data/{index:07d}.csv"


def fresh_bucket(setup: Setup, name: str, count: int) -> str:
    """A new bucket with objects 0..count-1, each time the same bytes and headers; the console knows the bucket."""
    name = f"bench-{name}-{setup.latency_ms}ms"
    setup.say(f"bucket {name}: putting {count} objects")
    retries.call(setup.bucket(name).create_bucket)
    Bucket.objects.create(
        connection=setup.connection, name=name, region=setup.connection.region, refreshed_at=timezone.now()
    )
    bucket = setup.bucket(name, pool_size=setup.concurrency)
    headers = {"Content-Type": CONTENT_TYPE, **USER_META, "x-oss-tagging": TAGGING}

    def put(index: int) -> None:
        own_acl = {"x-oss-object-acl": OWN_ACL} if index % 4 == 0 else {}
        content = index.to_bytes(8, "big") + setup.payload[8:]
        retries.call(bucket.put_object, key_of(index), content, headers={**headers, **own_acl})

    started, retried = time.monotonic(), retries.count
    with ThreadPoolExecutor(setup.concurrency) as pool:
        list(pool.map(put, range(count)))
    again = f", {retries.count - retried} retried" if retries.count > retried else ""
    setup.say(f"bucket {name}: {count / (time.monotonic() - started):.0f} PUT/s{again}")
    return name


def verify(setup: Setup, name: str, run: Run) -> None:
    """HEAD every object: encrypted under the named key, Content-Type, user metadata and tag as they were."""
    bucket = setup.bucket(name, pool_size=setup.concurrency)

    def check(index: int) -> tuple[bool, bool]:
        headers = retries.call(bucket.head_object, key_of(index)).headers
        encrypted = (
            headers.get("x-oss-server-side-encryption") == "KMS"
            and headers.get("x-oss-server-side-encryption-key-id") == setup.key_id
        )
        kept = (
            headers.get("Content-Type") == CONTENT_TYPE
            and all(headers.get(name) == value for name, value in USER_META.items())
            and headers.get("x-oss-tagging-count") == "1"
        )
        return encrypted, kept

    with ThreadPoolExecutor(setup.concurrency) as pool:
        results = list(pool.map(check, range(run.objects)))
    run.encrypted = sum(encrypted for encrypted, _ in results)
    run.kept = sum(kept for _, kept in results)
    setup.say(f"{run.label}: {run.encrypted}/{run.objects} under the key, {run.kept} with metadata kept")


def cpu_seconds(processes: list[psutil.Process], children: bool = True) -> float:
    """User and system CPU seconds of the processes, and of their children unless told otherwise."""
    total = 0.0
    for process in processes:
        try:
            for each in [process, *(process.children(recursive=True) if children else ())]:
                times = each.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


# (a) and (b): the scripts


def sse_headers(key_id: str) -> dict[str, str]:
    return {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": key_id}


def rewrite(bucket: oss2.Bucket, key: str, key_id: str) -> None:
    """What a careful script does: HEAD and GetObjectAcl, then a CopyObject onto itself, only if unchanged since
    the HEAD, replacing the metadata with what it was (tags are copied by default), the object's own ACL and its
    storage class, and the new SSE: three round trips in turn, as the job's were before it overlapped them."""
    head = retries.call(bucket.head_object, key)
    acl = retries.call(bucket.get_object_acl, key).acl
    kept = {
        name: value
        for name, value in head.headers.items()
        if name in CONTENT_HEADERS or name.lower().startswith("x-oss-meta-")
    }
    headers = {
        **kept,
        "x-oss-metadata-directive": "REPLACE",
        "x-oss-copy-source-if-match": head.headers["ETag"],
        "x-oss-object-acl": acl,
        "x-oss-storage-class": head.headers.get("x-oss-storage-class", "Standard"),
        **sse_headers(key_id),
    }
    retries.call(bucket.copy_object, bucket.bucket_name, key, key, headers=headers)


def naive_script(setup: Setup, name: str) -> None:
    bucket = setup.bucket(name)
    for info in oss2.ObjectIterator(bucket, max_keys=1000):
        rewrite(bucket, info.key, setup.key_id)


def tuned_script(setup: Setup, name: str) -> None:
    bucket = setup.bucket(name, pool_size=setup.concurrency)
    with ThreadPoolExecutor(setup.concurrency) as pool:
        futures = [
            pool.submit(rewrite, bucket, info.key, setup.key_id) for info in oss2.ObjectIterator(bucket, max_keys=1000)
        ]
        for future in futures:
            future.result()


def measure(setup: Setup, name: str, count: int, label: str, script: Callable[[Setup, str], None]) -> Run:
    run = Run(label, count, requests_per_object=3 + 1 / 1000)  # HEAD, GetObjectAcl, CopyObject; a listing per 1,000
    try:
        bucket = fresh_bucket(setup, name, count)
        setup.say(f"{label}: running")
        me = psutil.Process()  # without its children: localcloud, Redis, workers
        server_before, client_before = cpu_seconds([setup.server]), cpu_seconds([me], children=False)
        retried = retries.count
        started = time.perf_counter()
        script(setup, bucket)
        run.seconds = time.perf_counter() - started
        run.server_cpu = cpu_seconds([setup.server]) - server_before
        run.client_cpu = cpu_seconds([me], children=False) - client_before
        if retries.count > retried:
            run.notes.append(f"{retries.count - retried} requests retried after a reset or a 5xx")
        setup.say(f"{label}: {run.rate:.0f} objects/s")
        verify(setup, bucket, run)
    except Exception as error:  # noqa: BLE001 - a bench reports a broken run and goes on
        run.error = f"{type(error).__name__}: {error}"
        setup.say(f"{label}: failed: {run.error}")
    return run


# (c): the job on Celery workers


@contextmanager
def celery_workers(setup: Setup, tag: str) -> Iterator[list[psutil.Process]]:
    """WORKERS fresh worker processes (prefork, one child each) on the bench's Redis and database."""
    celery = str(Path(sys.executable).with_name("celery"))
    env = {**os.environ, "REDIS_URL": setup.redis_url, "LOG_LEVEL": "WARNING"}
    names = [f"bench{number}-{tag}@%h" for number in range(1, WORKERS + 1)]
    started = []
    for number, name in enumerate(names, start=1):
        log = open(setup.workdir / f"worker-{tag}-{number}.log", "w")  # noqa: SIM115 - closed with the process
        command = [
            celery, "-A", "console", "worker", "--concurrency", "1", "--pool", "prefork", "-Q", "celery",
            "--loglevel", "WARNING", "-n", name,
        ]  # fmt: skip
        started.append((subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    try:
        _wait_for_workers(started, [name.split("@")[0] for name in names])
        yield [psutil.Process(process.pid) for process, _ in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, log in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def _wait_for_workers(started: list, prefixes: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process, _ in started):
            raise RuntimeError("a Celery worker exited during start-up (see its log in the work dir)")
        replies = app.control.ping(timeout=0.5)
        answered = {name.split("@")[0] for reply in replies for name in reply}
        if all(prefix in answered for prefix in prefixes):
            return
    raise RuntimeError(f"the Celery workers did not answer within {timeout:.0f} s")


class PeakRss:
    """The highest total RSS of some process trees, sampled on a thread."""

    def __init__(self, processes: list[psutil.Process]):
        self.processes = processes
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss", daemon=True)

    def total(self) -> int:
        total = 0
        for process in self.processes:
            try:
                total += sum(each.memory_info().rss for each in [process, *process.children(recursive=True)])
            except psutil.Error:
                continue
        return total

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.total())
            self._stop.wait(RSS_SAMPLE_SECONDS)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.total())


def job_run(setup: Setup, name: str, count: int) -> Run:
    """Our job over a fresh bucket of `count` objects, on fresh workers whose peak RSS the run records."""
    label = f"(c) job, {WORKERS} workers" if name == "c" else "(c) job, 10x objects"
    run = Run(label, count)
    redis = limits.client()
    redis_cpu = 0.0
    try:
        bucket = fresh_bucket(setup, name, count)
        report_bucket = report_location(setup, name)
        with celery_workers(setup, name) as workers:
            setup.say(f"{label}: {WORKERS} workers ready, running")
            spec = services.Spec(
                target_mode=Job.TARGET_EXPLICIT,
                target_method="kms",
                target_algorithm="AES256",
                target_key_id=setup.key_id,
                # The job-wide cap on objects in flight, shared by both workers through Redis.
                concurrency=setup.concurrency,
                requests_per_second=0,
                kms_per_second=0,
                report_bucket=report_bucket,  # the per-object completion report is part of the work measured
            )
            redis.config_resetstat()
            with PeakRss(workers) as memory:
                server_before, client_before = cpu_seconds([setup.server]), cpu_seconds(workers)
                parents_before = cpu_seconds(workers, children=False)
                redis_before = cpu_seconds([setup.redis])
                started = time.time()
                job = services.create_job(actor=None, connection=setup.connection, bucket=bucket, spec=spec)
                job = _wait_for(job, setup, timeout=120 + count / 5)
                run.server_cpu = cpu_seconds([setup.server]) - server_before
                run.client_cpu = cpu_seconds(workers) - client_before
                parents_cpu = cpu_seconds(workers, children=False) - parents_before
                redis_cpu = cpu_seconds([setup.redis]) - redis_before
            run.peak_rss = memory.peak
        redis_calls = sum(stat["calls"] for stat in redis.info("commandstats").values())
        if job.state not in Job.FINISHED_STATES:
            services.cancel_job(job, None)
            raise RuntimeError(f"job {job.pk} still {job.state} after the time allowed")
        run.seconds = job.finished_at.timestamp() - started
        counts = selectors.progress(job).counts()
        run.requests_per_object = counts["requests"] / max(1, counts["objects_done"])
        run.notes.append(
            f"job {job.pk} {job.state}: {counts['reencrypted']} re-encrypted, {counts['failed']} failed, "
            f"{counts['requests'] / max(1, counts['objects_done']):.1f} OSS requests per object, "
            f"{counts['kms_calls']} KMS calls, {redis_calls / count:.1f} Redis commands per object "
            f"(Redis CPU {1000 * redis_cpu / count:.2f} ms per object)"
        )
        setup.say(f"{label}: {run.rate:.0f} objects/s, {run.notes[-1]}")
        run.notes.append(
            f"of the workers' CPU, {1000 * parents_cpu / count:.2f} ms per object is the Celery parent processes' "
            "(broker polling, heartbeats), the rest the pool children running the pages"
        )
        run.notes.append(completion_report_figures(job, count))
        setup.say(f"{label}: {run.notes[-1]}")
        verify(setup, bucket, run)
    except Exception as error:  # noqa: BLE001 - a bench reports a broken run and goes on
        run.error = f"{type(error).__name__}: {error}"
        setup.say(f"{label}: failed: {run.error}")
    return run


def report_location(setup: Setup, name: str) -> str:
    """An empty bucket the job's completion report goes to."""
    name = f"bench-{name}-{setup.latency_ms}ms-report"
    retries.call(setup.bucket(name).create_bucket)
    Bucket.objects.create(
        connection=setup.connection, name=name, region=setup.connection.region, refreshed_at=timezone.now()
    )
    return name


def completion_report_figures(job: Job, count: int) -> str:
    """The report's size per object, and how fast the console streams it back from the cloud."""
    where = selectors.completion_report(job)
    started, size = time.monotonic(), 0
    for chunk in selectors.completion_report_download(job):
        size += len(chunk)
    seconds = time.monotonic() - started
    return (
        f"completion report: {where.rows} rows in {where.parts} parts, {size / count:.0f} B per object (gzip), "
        f"downloaded at {size / MIB / max(seconds, 1e-6):.1f} MiB/s ({where.rows / max(seconds, 1e-6):.0f} rows/s)"
    )


def _wait_for(job: Job, setup: Setup, timeout: float) -> Job:
    deadline = time.monotonic() + timeout
    said = time.monotonic()
    while time.monotonic() < deadline:
        job.refresh_from_db(fields=["state", "finished_at"])
        if job.state in Job.FINISHED_STATES:
            return job
        if time.monotonic() - said > 15:
            said = time.monotonic()
            setup.say(f"job {job.pk}: {selectors.progress(job).objects_done}/{job.total_objects or '?'} objects")
        time.sleep(0.25)  # finished_at times the run; polling only has to notice
    return job


# The figures


def report(setup: Setup, runs: list[Run], load: tuple[float, float]) -> None:
    naive, tuned, job = runs[:3]
    cores = os.cpu_count() or 1
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(
        f"\nre-encryption to SSE-KMS ({ALIAS}) of {OBJECT_SIZE // 1024} KiB objects on one localcloud ({database}) "
        f"answering {setup.latency_ms} ms late; (b) and (c) keep {setup.concurrency} objects in flight; each run on "
        "a fresh bucket holding the same objects"
    )
    print(f"machine: {cores} CPUs, load average {load[0]:.1f} before, {load[1]:.1f} after (other tenants count)")
    print(
        f"{'run':<24} {'objects':>8} {'seconds':>8} {'objects/s':>10} {'KMS+key':>8} {'meta':>6} "
        f"{'server CPU':>11} {'client CPU':>11} {'CPU ceiling':>12}"
    )
    print(f"{'':<24} {'':>8} {'':>8} {'':>10} {'':>8} {'':>6} {'ms/object':>11} {'ms/object':>11} {'objects/s':>12}")
    for run in runs:
        if run.error:
            print(f"{run.label:<24} {run.objects:>8}   failed: {run.error}")
            continue
        server, client = 1000 * run.server_cpu / run.objects, 1000 * run.client_cpu / run.objects
        ceiling = f"{1000 * cores / (server + client):>12.0f}" if server + client else f"{'':>12}"
        print(
            f"{run.label:<24} {run.objects:>8} {run.seconds:>8.1f} {run.rate:>10.1f} {run.encrypted:>8} "
            f"{run.kept:>6} {server:>11.2f} {client:>11.2f} {ceiling}"
        )
    for run in runs:
        for note in run.notes:
            print(f"  {run.label}: {note}")
    print("  KMS+key: objects under the named key by HEAD afterwards; meta: Content-Type, x-oss-meta and the tag kept.")
    print("  client CPU: this process for (a) and (b), the workers and their pool children for (c);")
    print(f"  CPU ceiling: the rate at which localcloud and the client would fill all {cores} CPUs.")
    print(f"\nratios at {setup.latency_ms} ms (targets in brackets)")
    print(_ratio_line("(c) / (b) objects/s", job, tuned, TARGETS_VS_TUNED.get(setup.latency_ms)))
    print(_ratio_line("(c) / (a) objects/s", job, naive, TARGETS_VS_NAIVE.get(setup.latency_ms)))
    print(_cpu_line(job, tuned))
    print(f"\nworker memory: peak RSS of the {WORKERS} workers with their pool children, sampled every "
          f"{RSS_SAMPLE_SECONDS} s")  # fmt: skip
    for run in runs[2:]:
        print(
            f"  {run.objects:>8} objects  {run.peak_rss / MIB:8.1f} MiB"
            if run.peak_rss
            else f"  {run.objects:>8} objects  n/a"
        )
    if len(runs) < 4:
        print("  (no 10x run: --quick or --no-memory-check)")
    elif job.ok and runs[3].ok and job.peak_rss and runs[3].peak_rss:
        ratio = runs[3].peak_rss / job.peak_rss
        mark = "PASS" if ratio <= FLAT_MEMORY_RATIO else "MISS"
        print(f"  10x objects / 1x   {ratio:8.2f}  [<= {FLAT_MEMORY_RATIO}: flat]  {mark}")
    else:
        print(f"  10x objects / 1x        n/a  [<= {FLAT_MEMORY_RATIO}: flat]  MISS (a run failed)")


def _ratio_line(name: str, run: Run, base: Run, target: float | None) -> str:
    wanted = f"[>= {target}]" if target else "[no target]"
    if not (run.ok and base.ok):
        return f"{name:<22}   n/a  {wanted}  MISS"
    ratio = run.rate / base.rate
    complete = run.encrypted == run.objects and base.encrypted == base.objects
    mark = ("PASS" if ratio >= target and complete else "MISS") if target else ""
    suffix = "" if complete else " (not every object was re-encrypted)"
    return f"{name:<22} {ratio:5.2f}  {wanted}  {mark}{suffix}"


def _cpu_line(job: Run, tuned: Run) -> str:
    name, wanted = "(c) / (b) CPU/object", f"[<= {TARGET_CPU_VS_TUNED}]"
    if not (job.ok and tuned.ok and tuned.client_cpu):
        return f"{name:<22}   n/a  {wanted}  MISS"
    ratio = (job.client_cpu / job.objects) / (tuned.client_cpu / tuned.objects)
    mark = "PASS" if ratio <= TARGET_CPU_VS_TUNED else "MISS"
    return f"{name:<22} {ratio:5.2f}  {wanted}  {mark}  (the workers' CPU against the 16-thread script's)"


def summary(by_latency: dict[int, list[Run]], concurrency: int) -> None:
    """One line per latency: the three rates, the ratios against their targets, CPU and requests per object."""
    print(f"\nsummary: objects/s of (a) sequential, (b) {concurrency} threads, (c) the job on {WORKERS} workers")
    print(
        f"{'latency':>8} {'(a)':>7} {'(b)':>7} {'(c)':>7} {'c/b':>6} {'target':>7} {'c/a':>6} {'target':>7} "
        f"{'c CPU':>7} {'b CPU':>7} {'c/b CPU':>8} {'c req':>6}"
    )
    print(f"{'ms':>8} {'':>7} {'':>7} {'':>7} {'':>6} {'':>7} {'':>6} {'':>7} {'ms/obj':>7} {'ms/obj':>7} "
          f"{'[<=1.5]':>8} {'/obj':>6}")  # fmt: skip
    for latency_ms, runs in by_latency.items():
        naive, tuned, job = runs[:3]
        cpu_ratio = (
            f"{_cpu_per_object(job) / _cpu_per_object(tuned):8.2f}"
            if job.ok and tuned.ok and tuned.client_cpu
            else f"{'n/a':>8}"
        )
        print(
            f"{latency_ms:>8} {naive.rate:>7.1f} {tuned.rate:>7.1f} {job.rate:>7.1f} {_rate_ratio(job, tuned)} "
            f"{_target(TARGETS_VS_TUNED, latency_ms)} {_rate_ratio(job, naive)} "
            f"{_target(TARGETS_VS_NAIVE, latency_ms)} "
            f"{_cpu_per_object(job):>7.2f} {_cpu_per_object(tuned):>7.2f} {cpu_ratio} {job.requests_per_object:>6.2f}"
        )
    print("  (a) and (b) make 3 OSS requests per object (HEAD, GetObjectAcl, CopyObject) and a listing per 1,000;")
    print("  (c)'s count is the job's own (progress), its listing and completion report included.")


def _rate_ratio(run: Run, base: Run) -> str:
    return f"{run.rate / base.rate:6.2f}" if run.ok and base.ok else f"{'n/a':>6}"


def _target(targets: dict[int, float], latency_ms: int) -> str:
    return f"{'>= ' + str(targets[latency_ms]) if latency_ms in targets else '-':>7}"


def _cpu_per_object(run: Run) -> float:
    return 1000 * run.client_cpu / run.objects
