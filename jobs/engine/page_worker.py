"""The worker side of a job: claim a listing page, list it, hand the next page to another worker, process the
objects, and record the page as one checkpoint.

A page is claimed with a lease. A worker that dies leaves the lease to expire, and the recovery task hands the
page to another worker, which skips the objects already done: each finished object is noted in a Redis hash
that lives until the page is recorded. So nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

import datetime
import json
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cloud.errors import CloudError, ServiceError
from cloud.oss import ObjectEntry, ObjectVersion, OssClient
from cloud.sse import Sse
from jobs.engine import control, decisions, limits, object_worker, report
from jobs.models import Job, JobPage, ObjectOutcome

STATE_CHECK_SECONDS = 0.2
# A thread keeps its slot of the job's concurrency across objects for up to this long (a third of the lease at most):
# two Redis round trips per run of objects instead of per object, and still a fair share between the job's workers.
SLOT_HOLD_SECONDS = 2.0
PROGRESS_TTL_SECONDS = 7 * 24 * 3600
# Noncurrent versions are counted, not kept as rows: a page keeps the first few that failed, to say why.
HISTORY_FAILURES_KEPT = 20


def lease_seconds() -> float:
    return float(settings.JOBS_PAGE_LEASE_SECONDS)


def claim(job_id: int, number: int) -> JobPage | None:
    """Take the page if it waits or its last worker's lease ran out; None when someone else has it or it is done."""
    now = timezone.now()
    claimable = Q(state=JobPage.PENDING) | Q(state=JobPage.RUNNING, lease_until__lt=now)
    taken = JobPage.objects.filter(claimable, job_id=job_id, number=number).update(
        state=JobPage.RUNNING, lease_until=now + datetime.timedelta(seconds=lease_seconds())
    )
    return JobPage.objects.select_related("job__connection").get(job_id=job_id, number=number) if taken else None


def run_page(job_id: int, number: int) -> None:
    page = claim(job_id, number)
    if page is None:
        return
    job = page.job
    state = control.state_of(job)
    if state != Job.RUNNING:
        _stop(page, state)
        return
    try:
        entries, noncurrent = _list_versions(page) if job.versioned else (_list(page), [])
    except CloudError as error:
        # Not transient (call_with_retries retried those): a refused listing, e.g. a RAM policy without
        # oss:ListObjects, would fail again on every worker; the job fails saying why instead of staying Running.
        fail(job_id, f"Listing {job.bucket} failed: {error.message}")
        return
    done = ObjectProgress(page)
    remaining: list[ObjectEntry | ObjectVersion] = [entry for entry in entries if not done.has(entry.key)]
    remaining += [version for version in noncurrent if not done.has_version(version)]
    try:
        stopped_by = _process_all(page, remaining, done)
    except StopJob:
        return
    if stopped_by:
        _stop(page, stopped_by, done)
        return
    record(page, JobPage.DONE, done)


def _list(page: JobPage) -> list[ObjectEntry]:
    """This page's objects; the first time through, the next page is created and queued for any worker."""
    job = page.job
    if job.retry_keys:
        keys = job.retry_keys[page.number * job.page_size : (page.number + 1) * job.page_size]
        entries = [ObjectEntry(key, -1, "", None, "", "") for key in keys]
        more = (page.number + 1) * job.page_size < len(job.retry_keys)
        _queue_next(page, more, page.prefix_index, "")
        return entries
    prefixes = job.prefixes or [""]
    oss = OssClient(job.connection)
    listed = object_worker.call_with_retries(
        job, oss.list_objects, job.bucket, prefixes[page.prefix_index], page.start_token, job.page_size, delimiter=""
    )
    if listed.next_token:
        _queue_next(page, True, page.prefix_index, listed.next_token)
    else:
        _queue_next(page, page.prefix_index + 1 < len(prefixes), page.prefix_index + 1, "")
    JobPage.objects.filter(pk=page.pk).update(
        listed_objects=len(listed.objects), listed_bytes=sum(entry.size for entry in listed.objects)
    )
    return listed.objects


def _list_versions(page: JobPage) -> tuple[list[ObjectEntry], list[ObjectVersion]]:
    """This page of a versioned scan: its current versions as the objects to scan, and its noncurrent versions to
    count apart; delete markers are neither. The next page starts after the last version listed (its key and
    version id, as JSON in start_token)."""
    job = page.job
    prefixes = job.prefixes or [""]
    key_marker, version_id_marker = json.loads(page.start_token) if page.start_token else ("", "")
    oss = OssClient(job.connection)
    listed = object_worker.call_with_retries(
        job,
        oss.list_object_versions,
        job.bucket,
        prefixes[page.prefix_index],
        key_marker,
        version_id_marker,
        job.page_size,
    )
    if listed.next_key_marker:
        _queue_next(page, True, page.prefix_index, json.dumps([listed.next_key_marker, listed.next_version_id_marker]))
    else:
        _queue_next(page, page.prefix_index + 1 < len(prefixes), page.prefix_index + 1, "")
    versions = [version for version in listed.versions if not version.delete_marker]
    current = [
        ObjectEntry(v.key, v.size, v.etag, v.last_modified, v.storage_class, "") for v in versions if v.is_latest
    ]
    JobPage.objects.filter(pk=page.pk).update(
        listed_objects=len(current), listed_bytes=sum(entry.size for entry in current)
    )
    return current, [version for version in versions if not version.is_latest]


def _queue_next(page: JobPage, more: bool, prefix_index: int, token: str) -> None:
    if not more:
        Job.objects.filter(pk=page.job_id).update(listing_done=True)
        return
    _, created = JobPage.objects.get_or_create(
        job_id=page.job_id, number=page.number + 1, defaults={"prefix_index": prefix_index, "start_token": token}
    )
    if created:
        enqueue(page.job_id, page.number + 1)


def enqueue(job_id: int, number: int) -> None:
    from jobs.tasks import run_page_task

    transaction.on_commit(lambda: run_page_task.delay(job_id, number))


class ObjectProgress:
    """The objects of one page already done, in Redis until the page is recorded (survives a worker's death).

    A versioned scan's noncurrent versions are noted in a hash of their own, by key and version id: they are
    counted apart and are no rows of the report."""

    def __init__(self, page: JobPage):
        self.key = f"console:job:{page.job_id}:page:{page.number}"
        self.versions_key = f"{self.key}:noncurrent"
        self.redis = limits.client()
        self.done = self._load(self.key)
        self.noncurrent = self._load(self.versions_key) if page.job.versioned else {}
        self.expiring: set[str] = {
            name for name, noted in ((self.key, self.done), (self.versions_key, self.noncurrent)) if noted
        }

    def _load(self, key: str) -> dict[str, dict]:
        return {name.decode(): json.loads(value) for name, value in self.redis.hgetall(key).items()}

    def has(self, key: str) -> bool:
        return key in self.done

    def has_version(self, version: ObjectVersion) -> bool:
        return _version_name(version) in self.noncurrent

    def add(self, key: str, result: object_worker.Result) -> None:
        self.done[key] = result.as_dict()
        self._note(self.key, key, result)

    def add_version(self, version: ObjectVersion, result: object_worker.Result) -> None:
        name = _version_name(version)
        self.noncurrent[name] = result.as_dict()
        self._note(self.versions_key, name, result)

    def _note(self, hash_key: str, name: str, result: object_worker.Result) -> None:
        if hash_key in self.expiring:  # the hash exists, with its time to live, once an object was noted
            self.redis.hset(hash_key, name, json.dumps(result.as_dict()))
            return
        with self.redis.pipeline() as pipe:
            pipe.hset(hash_key, name, json.dumps(result.as_dict()))
            pipe.expire(hash_key, PROGRESS_TTL_SECONDS)
            pipe.execute()
        self.expiring.add(hash_key)

    def results(self) -> dict[str, dict]:
        return self.done

    def noncurrent_results(self) -> dict[str, dict]:
        """Results of the noncurrent versions, by JSON [key, version id]."""
        return self.noncurrent

    def forget(self) -> None:
        self.redis.delete(self.key, self.versions_key)


def _version_name(version: ObjectVersion) -> str:
    return json.dumps([version.key, version.version_id])


def _process_all(page: JobPage, entries: list[ObjectEntry | ObjectVersion], done: ObjectProgress) -> str:
    """Process the entries with the job's concurrency; returns the state that stopped it early, or ''."""
    job = page.job
    if not entries:
        return ""
    oss = OssClient(job.connection, pool_size=max(10, job.concurrency))
    rewrap = _rewrap_keys(job) if job.kind == Job.REWRAP else None
    sse = Sse(job.resolved_method, job.resolved_algorithm, job.resolved_key_id)
    target = decisions.Target(sse, job.default_key_id, rewrap)
    stop = {"state": ""}
    renewed = {"at": time.monotonic()}
    checked = {"at": 0.0}
    waiting = deque(entries)
    hold_seconds = min(SLOT_HOLD_SECONDS, lease_seconds() / 3)

    def next_entry() -> ObjectEntry | ObjectVersion | None:
        """The next object to do, or None once none is left or the job stopped running."""
        if stop["state"]:
            return None
        if time.monotonic() - checked["at"] > STATE_CHECK_SECONDS:  # pause and cancel within a fraction of a second
            checked["at"] = time.monotonic()
            state = control.state_of(job)
            if state != Job.RUNNING:
                stop["state"] = state
                return None
        try:
            return waiting.popleft()
        except IndexError:
            return None

    def work() -> None:
        """Take a slot, do objects while it is held, give it back to queue again: until no object is left."""
        while waiting and not stop["state"]:
            with limits.slot(job.pk, job.concurrency, lease_seconds=lease_seconds()):
                held_since = time.monotonic()
                while True:
                    entry = next_entry()
                    if entry is None:
                        return
                    if isinstance(entry, ObjectVersion):
                        done.add_version(entry, object_worker.look_at_version(job, oss, target, entry))
                    else:
                        result = object_worker.process(job, oss, target, entry if entry.size >= 0 else None, entry.key)
                        done.add(entry.key, result)
                    if time.monotonic() - renewed["at"] > lease_seconds() / 3:
                        renewed["at"] = time.monotonic()
                        _renew(page)
                    if time.monotonic() - held_since >= hold_seconds:
                        break

    threads = max(1, min(job.concurrency, len(entries)))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"job{job.pk}") as pool:
        for future in [pool.submit(work) for _ in range(threads)]:
            future.result()
    page.data_bytes = oss.data_bytes.total
    return stop["state"]


def _rewrap_keys(job: Job) -> object_worker.Rewrap:
    try:
        return object_worker.Rewrap.of(job)
    except ServiceError as error:  # a master key deleted or unusable: no object can be rewrapped
        fail(job.pk, error.message)
        raise StopJob from None


class StopJob(Exception):
    """The job failed as a whole; its pages stop."""


def fail(job_id: int, message: str) -> None:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.state in Job.FINISHED_STATES:
            return
        job.state, job.error, job.finished_at = Job.FAILED, message, timezone.now()
        job.active_seconds, job.running_since = job.running_seconds(), None
        job.save(update_fields=["state", "error", "finished_at", "active_seconds", "running_since"])
        job.pages.filter(state__in=(JobPage.PENDING, JobPage.RUNNING)).update(state=JobPage.CANCELLED, lease_until=None)
    control.publish(job)
    from jobs.services import jobs as services

    services.job_finished(job)


def _renew(page: JobPage) -> None:
    JobPage.objects.filter(pk=page.pk, state=JobPage.RUNNING).update(
        lease_until=timezone.now() + datetime.timedelta(seconds=lease_seconds())
    )


def _stop(page: JobPage, state: str, done: ObjectProgress | None = None) -> None:
    """Paused: hand the page back (its done objects stay noted). Cancelled: record what was done."""
    if state in (Job.CANCELLING, Job.CANCELLED) or state in Job.FINISHED_STATES:
        record(page, JobPage.CANCELLED, done or ObjectProgress(page))
        return
    JobPage.objects.filter(pk=page.pk).update(state=JobPage.PENDING, lease_until=None)
    if control.state_of(page.job) == Job.RUNNING:  # resumed while this page was stopping
        enqueue(page.job_id, page.number)


def record(page: JobPage, state: str, done: ObjectProgress) -> None:
    """The checkpoint: the page's report part (a cloud write, so before the transaction, which holds the database),
    then its counts and kept outcomes in one transaction, then maybe the job's end."""
    report_part = report.write_part(page, done.results())
    with transaction.atomic():
        _save(page, state, done, report_part)
    done.forget()
    finish_if_done(page.job_id)


def _save(page: JobPage, state: str, done: ObjectProgress, report_part: dict) -> None:
    """Write what the page's objects came to (in the caller's transaction)."""
    results = done.results()
    outcomes: dict[str, list[int]] = {}
    states: dict[str, list[int]] = {}
    for result in results.values():
        _add(outcomes, result["outcome"], result["size"])
        if result["state"]:
            _add(states, result["state"], result["size"])
    kept = [
        ObjectOutcome(
            job_id=page.job_id,
            key=key,
            size=result["size"],
            outcome=result["outcome"],
            state=result["state"],
            reason=result["reason"][:2000],
            code=result["code"][:100],
            request_id=result["request_id"][:100],
        )
        for key, result in results.items()
        if result["outcome"] in ObjectOutcome.KEPT
    ]
    JobPage.objects.filter(pk=page.pk).update(
        state=state,
        lease_until=None,
        outcomes=outcomes,
        states=states,
        history=_history(done.noncurrent_results()) | _purged(results),
        requests=sum(r["requests"] for r in results.values()),
        kms_calls=sum(r["kms_calls"] for r in results.values()),
        head_seconds=sum(r["head_seconds"] for r in results.values()),
        data_bytes=page.data_bytes,
        report_part=report_part,
    )
    ObjectOutcome.objects.bulk_create(kept, ignore_conflicts=True, batch_size=500)


def _history(noncurrent: dict[str, dict]) -> dict:
    """A versioned scan's noncurrent versions, by encryption state and by outcome, in versions and bytes; and the
    first versions that could not be read, as [key, version id, reason]."""
    if not noncurrent:
        return {}
    states: dict[str, list[int]] = {}
    outcomes: dict[str, list[int]] = {}
    failed = []
    for name, result in noncurrent.items():
        _add(outcomes, result["outcome"], result["size"])
        if result["state"]:
            _add(states, result["state"], result["size"])
        if result["outcome"] == ObjectOutcome.FAILED and len(failed) < HISTORY_FAILURES_KEPT:
            failed.append([*json.loads(name), result["reason"][:2000]])
    return {"states": states, "outcomes": outcomes, **({"failed": failed} if failed else {})}


def _purged(results: dict[str, dict]) -> dict:
    """Older versions a re-encryption deleted (a dry run: would delete) after the objects' current versions."""
    versions = sum(result.get("purged_versions", 0) for result in results.values())
    if not versions:
        return {}
    return {"purged": [versions, sum(result.get("purged_bytes", 0) for result in results.values())]}


def _add(totals: dict[str, list[int]], name: str, size: int) -> None:
    counts = totals.setdefault(name, [0, 0])
    counts[0] += 1
    counts[1] += max(size, 0)


def in_flight(job_id: int, open_pages: Iterable[int]) -> dict[str, list[int]]:
    """Outcomes of the objects done on the job's open pages (running, or handed back by a pause), not yet
    recorded: they are only in Redis so far."""
    totals: dict[str, list[int]] = {}
    redis = limits.client()
    for number in open_pages:
        for value in redis.hvals(f"console:job:{job_id}:page:{number}"):
            result = json.loads(value)
            _add(totals, result["outcome"], result["size"])
    return totals


def finish_if_done(job_id: int) -> Job | None:
    """End the job once no page waits or runs: cancelled, completed, or completed with errors.

    The job row is locked while deciding, so of two pages finishing together exactly one ends the job.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.state in Job.FINISHED_STATES or job.state == Job.PAUSED:
            return None
        open_pages = job.pages.filter(state__in=(JobPage.PENDING, JobPage.RUNNING))
        left: list[tuple[JobPage, ObjectProgress]] = []
        if job.state == Job.CANCELLING:
            if job.pages.filter(state=JobPage.RUNNING, lease_until__gte=timezone.now()).exists():
                return None
            # Pages a pause handed back (or a dead worker left) may have objects done: they count.
            for page in open_pages:
                left.append((page, ObjectProgress(page)))
                _save(page, JobPage.CANCELLED, left[-1][1], {})  # their report parts once the lock is released
            final = Job.CANCELLED
        elif job.listing_done and not open_pages.exists():
            failed = (
                job.outcomes.filter(outcome=ObjectOutcome.FAILED).exists()
                or job.pages.filter(history__has_key="failed").exists()
            )
            final = Job.COMPLETED_WITH_ERRORS if failed else Job.COMPLETED
        else:
            return None
        job.state, job.finished_at = final, timezone.now()
        job.active_seconds = job.running_seconds()
        job.running_since = None
        job.save(update_fields=["state", "finished_at", "active_seconds", "running_since"])
    for page, done in left:
        part = report.write_part(page, done.results())
        JobPage.objects.filter(pk=page.pk).update(report_part=part)
        done.forget()
    control.publish(job)
    from jobs.services import jobs as services

    services.job_finished(job)
    return job


def recover_stalled() -> int:
    """Hand pages of dead workers (lease run out) and pages never picked up to a worker again; returns how many."""
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=lease_seconds())
    handed = 0
    for job in Job.objects.filter(state__in=(Job.RUNNING, Job.CANCELLING)):
        if job.state == Job.CANCELLING:
            finish_if_done(job.pk)
            continue
        pages = job.pages.filter(
            Q(state=JobPage.RUNNING, lease_until__lt=now) | Q(state=JobPage.PENDING, updated_at__lt=stale)
        )
        for number in pages.values_list("number", flat=True):
            JobPage.objects.filter(job=job, number=number).update(updated_at=now)
            enqueue(job.pk, number)
            handed += 1
        finish_if_done(job.pk)
    return handed
