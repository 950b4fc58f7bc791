"""What the pages, the API, the command and the services read of jobs and schedules, without changing anything:
a job and its progress, plan and report; scans as compliance views; schedules and their runs; the lists, each
fetched with what its rows show so that no row costs a query. Changes are jobs.services'."""

from __future__ import annotations

import datetime
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.template.defaultfilters import pluralize
from django.utils import timezone

from audit.models import AuditEvent
from buckets.models import Bucket
from cloud.errors import NotFound
from encryption.selectors import key_names
from jobs.engine import limits, page_worker, report
from jobs.engine.object_worker import CLIENT_SIDE_MARK
from jobs.models import Job, JobPage, JobSpec, ObjectOutcome, Schedule, ScheduleRun, Sweep, SweepItem

# Jobs


def get_job(job_id) -> Job:
    try:
        job_id = int(job_id)
    except (TypeError, ValueError):
        raise NotFound(f"There is no job {job_id!r}.") from None
    job = Job.objects.select_related("connection", "created_by", "schedule", "retry_of").filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"There is no job {job_id}.")
    return job


def jobs_listed() -> QuerySet[Job]:
    """Jobs as a list shows them: with their connection, creator, schedule and the pages their progress sums."""
    return _with_counted_pages(Job.objects.select_related("connection", "created_by", "schedule"))


def follow_ups(job: Job) -> QuerySet[Job]:
    """The jobs that retried this one's failures, newest first."""
    return job.retries.order_by("-created_at")


def kept_outcomes(job: Job, kinds: Iterable[str]) -> QuerySet[ObjectOutcome]:
    """The kept outcomes of `kinds` (failures, skips, non-matching objects), oldest first."""
    return job.outcomes.filter(outcome__in=tuple(kinds)).order_by("id")


def skipped_reasons(job: Job) -> list[dict]:
    """How many objects were skipped for each reason, most first (kept outcomes, so recorded pages only)."""
    rows = (
        job.outcomes.filter(outcome=ObjectOutcome.SKIPPED)
        .values("reason")
        .annotate(count=Count("id"))
        .order_by("-count", "reason")
    )
    return [{"reason": row["reason"] or "no reason given", "count": row["count"]} for row in rows]


# Following a job


@dataclass
class Progress:
    job: Job
    outcomes: dict[str, list[int]] = field(default_factory=dict)
    states: dict[str, list[int]] = field(default_factory=dict)
    requests: int = 0
    kms_calls: int = 0
    head_seconds: float = 0.0
    data_bytes: int = 0
    requested_objects: int = 0  # the objects of the recorded pages the `requests` went to
    # A versioned scan's noncurrent versions (recorded pages only): by encryption state and by outcome.
    history_states: dict[str, list[int]] = field(default_factory=dict)
    history_outcomes: dict[str, list[int]] = field(default_factory=dict)
    history_failures: list[tuple[str, str, str]] = field(default_factory=list)  # key, version id, reason
    purged: list[int] = field(default_factory=lambda: [0, 0])  # older versions deleted (dry run: to be), bytes

    def count(self, *names: str) -> int:
        return sum(self.outcomes.get(name, [0, 0])[0] for name in names)

    def bytes_of(self, *names: str) -> int:
        return sum(self.outcomes.get(name, [0, 0])[1] for name in names)

    @property
    def objects_done(self) -> int:
        return self.count(*dict(ObjectOutcome.KINDS))

    @property
    def bytes_done(self) -> int:
        return self.bytes_of(*dict(ObjectOutcome.KINDS))

    @property
    def errors(self) -> int:
        return self.count(ObjectOutcome.FAILED)

    @property
    def percent(self) -> float:
        if not self.job.total_objects:
            return 100.0 if self.job.state in Job.FINISHED_STATES else 0.0
        return min(100.0, 100.0 * self.objects_done / self.job.total_objects)

    @property
    def requests_per_object(self) -> float:
        """OSS requests per object the job looked at (an object outside the size range costs none)."""
        return self.requests / self.requested_objects if self.requested_objects else 0.0

    @property
    def rate(self) -> float:
        """Objects per second while running."""
        seconds = self.job.running_seconds()
        return self.objects_done / seconds if seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        if self.job.state != Job.RUNNING or not self.job.total_known or self.rate <= 0:
            return None
        return max(0.0, (self.job.total_objects - self.objects_done) / self.rate)

    def counts(self) -> dict[str, int]:
        return {
            "objects_total": self.job.total_objects,
            "bytes_total": self.job.total_bytes,
            "objects_done": self.objects_done,
            "bytes_done": self.bytes_done,
            **{name.replace("-", "_"): self.count(name) for name in dict(ObjectOutcome.KINDS)},
            "requests": self.requests,
            "requests_per_object": round(self.requests_per_object, 2),
            "kms_calls": self.kms_calls,
            "data_bytes": self.data_bytes,
            "purged_versions": self.purged_versions,
            "purged_bytes": self.purged_bytes,
        }

    @property
    def purged_versions(self) -> int:
        return self.purged[0]

    @property
    def purged_bytes(self) -> int:
        return self.purged[1]


def progress(job: Job, *, reload: bool = True) -> Progress:
    """Counts so far: the recorded pages', plus the objects done on pages still open. `reload=False` trusts a row
    just read; a row of jobs_listed() brings its pages along, so a list costs no query per row."""
    if reload:
        job.refresh_from_db()
    pages = getattr(job, "counted_pages", None)
    if pages is None:
        pages = _counted_pages().filter(job=job)
    result, open_pages = Progress(job), []
    for page in pages:
        if page.state in (JobPage.PENDING, JobPage.RUNNING):
            open_pages.append(page.number)
            continue
        _merge(result.outcomes, page.outcomes)
        _merge(result.states, page.states)
        _merge(result.history_states, page.history.get("states", {}))
        _merge(result.history_outcomes, page.history.get("outcomes", {}))
        result.history_failures += [tuple(failure) for failure in page.history.get("failed", [])]
        purged = page.history.get("purged", [0, 0])
        result.purged = [result.purged[0] + purged[0], result.purged[1] + purged[1]]
        result.requested_objects += sum(n for name, (n, _) in page.outcomes.items() if name != ObjectOutcome.FILTERED)
        result.requests += page.requests
        result.kms_calls += page.kms_calls
        result.head_seconds += page.head_seconds
        result.data_bytes += page.data_bytes
    _merge(result.outcomes, page_worker.in_flight(job.pk, open_pages))
    return result


@dataclass(frozen=True)
class Throttling:
    """OSS or KMS throttled the job's connection: its workers share a lowered rate that climbs back to the cap."""

    service: str  # "OSS" or "KMS"
    rate: float  # requests (KMS: calls) per second allowed now

    def __str__(self) -> str:
        return f"throttled by {self.service}, running at {self.rate:.0f}/s"


def throttling(job: Job) -> list[Throttling]:
    """The services holding a running job below its caps now (the rates are the connection's, shared by its jobs)."""
    if job.state != Job.RUNNING:
        return []
    buckets = (
        ("OSS", limits.oss_bucket(job.connection_id), job.requests_per_second),
        ("KMS", limits.kms_bucket(job.connection_id), job.kms_per_second),
    )
    found = []
    for service, bucket, cap in buckets:
        rate = limits.throttled_rate(bucket, cap)
        if rate is not None:
            found.append(Throttling(service, rate))
    return found


def _counted_pages() -> QuerySet[JobPage]:
    return JobPage.objects.only(
        "job",
        "number",
        "state",
        "outcomes",
        "states",
        "history",
        "requests",
        "kms_calls",
        "head_seconds",
        "data_bytes",
    )


def _with_counted_pages(jobs: QuerySet[Job]) -> QuerySet[Job]:
    """Jobs whose progress() (with reload=False) sums pages fetched with them, not a query per job."""
    return jobs.prefetch_related(Prefetch("pages", queryset=_counted_pages(), to_attr="counted_pages"))


def _merge(totals: dict[str, list[int]], more: dict[str, list[int]]) -> None:
    for name, (objects, size) in more.items():
        counts = totals.setdefault(name, [0, 0])
        counts[0] += objects
        counts[1] += size


@dataclass(frozen=True)
class Plan:
    """What a dry run found: what a real run would write, skip, and cost at the job's limits."""

    objects: int
    bytes: int
    compliant: int
    filtered: int
    skipped: dict[str, int]
    requests: int
    kms_calls: int
    seconds: float


def plan(job: Job) -> Plan:
    done = progress(job)
    planned = done.outcomes.get(ObjectOutcome.PLANNED, [0, 0])
    reasons: dict[str, int] = {}
    for reason in job.outcomes.filter(outcome=ObjectOutcome.SKIPPED).values_list("reason", flat=True):
        reasons[reason] = reasons.get(reason, 0) + 1
    # A real run reads every object's HEAD and ACL at once, then copies those to rewrite (and HEADs them again
    # with check_after_copy=full): two requests in one round trip per object, one or two more per copy.
    looked_at = done.objects_done - done.count(ObjectOutcome.FILTERED)
    per_copy = 2 if job.check_after_copy == Job.CHECK_FULL else 1
    requests = 2 * looked_at + per_copy * planned[0]
    round_trips = looked_at + per_copy * planned[0]
    latency = done.head_seconds / max(1, done.requests)
    seconds = max(
        requests / job.requests_per_second if job.requests_per_second else 0.0,
        done.kms_calls / job.kms_per_second if job.kms_per_second else 0.0,
        round_trips * latency / job.concurrency,
    )
    return Plan(
        planned[0],
        planned[1],
        done.count(ObjectOutcome.COMPLIANT),
        done.count(ObjectOutcome.FILTERED),
        reasons,
        requests,
        done.kms_calls,
        seconds,
    )


REPORT_COLUMNS = ("key", "size", "outcome", "encryption_before", "reason", "code", "request_id", "at")


def report_rows(job: Job) -> Iterator[list]:
    """Every kept outcome (failures, skips, non-matching objects), then the counted ones as totals."""
    yield list(REPORT_COLUMNS)
    for outcome in job.outcomes.order_by("id").iterator(chunk_size=2000):
        yield [
            outcome.key,
            outcome.size,
            outcome.outcome,
            outcome.state,
            outcome.reason,
            outcome.code,
            outcome.request_id,
            outcome.at.isoformat(),
        ]
    for name, (objects, size) in sorted(progress(job).outcomes.items()):
        if name not in ObjectOutcome.KEPT:
            yield [f"(total {name})", size, name, "", f"{objects} objects", "", "", ""]


def report_filename(job: Job) -> str:
    return f"{job.kind}-{job.pk}-{posixpath.basename(job.bucket)}.csv"


@dataclass(frozen=True)
class CompletionReport:
    """Where a job's per-object report is in the cloud, and how much of it is written so far."""

    bucket: str
    folder: str
    manifest_key: str  # once the manifest is written
    parts: int
    rows: int
    error: str


def completion_report(job: Job) -> CompletionReport | None:
    """None when the job was given no report location."""
    if not job.report_bucket:
        return None
    parts = rows = 0
    for part in report_parts(job):
        parts, rows = parts + 1, rows + part["rows"]
    folder = report.folder(job)
    manifest_key = folder + report.MANIFEST if job.report_written_at else ""
    return CompletionReport(job.report_bucket, folder, manifest_key, parts, rows, job.report_error)


def report_parts(job: Job) -> Iterator[dict]:
    """The report's parts written so far, in page order: page, key, rows, bytes, sha256 (or the upload's error)."""
    for number, part in report.recorded_parts(job):
        yield {"page": number, **part}


def completion_report_download(job: Job) -> Iterator[bytes]:
    """The completion report as one gzip file streamed from the cloud, part by part."""
    return report.download(job)


def completion_report_filename(job: Job) -> str:
    return f"{job.kind}-{job.pk}-{posixpath.basename(job.bucket)}-objects.csv.gz"


# Scans as compliance views


@dataclass(frozen=True)
class ScanSummary:
    job: Job
    states: list[tuple[str, int, int]]  # label, objects, bytes; largest share first
    objects: int
    bytes: int
    compliant_objects: int
    compliant_bytes: int
    not_matching: int
    cannot_reencrypt: int
    client_side: int
    outdated_by: tuple[str, ...] = ()  # what changed the bucket since the scan began (outdated_scans)
    # A versioned bucket's noncurrent versions: label, versions, bytes (largest share first); and those of them
    # not as targeted, kept in the bucket's history however its current objects are encrypted.
    history: list[tuple[str, int, int]] = field(default_factory=list)
    exposed_versions: int = 0
    exposed_bytes: int = 0
    history_failures: list[tuple[str, str, str]] = field(default_factory=list)  # key, version id, reason
    history_from: Job | None = None  # the earlier scan the history was counted by (a scan of given keys counts none)

    @property
    def history_versions(self) -> int:
        return sum(row[1] for row in self.history)

    @property
    def history_bytes(self) -> int:
        return sum(row[2] for row in self.history)

    @property
    def counting(self) -> bool:
        """Still running: its figures are a share of what it has seen so far."""
        return self.job.is_active

    @property
    def fully_compliant(self) -> bool:
        return self.compliant_objects >= self.objects

    @property
    def compliant_percent(self) -> float | None:
        """None with no object seen: a share of nothing is no figure (counting, or nothing matched)."""
        return 100.0 * self.compliant_objects / self.objects if self.objects else None

    @property
    def compliant_bytes_percent(self) -> float | None:
        return 100.0 * self.compliant_bytes / self.bytes if self.bytes else None

    @property
    def attention_order(self) -> tuple:
        """Least compliant first, outdated before current at the same share, then by bucket."""
        share = 100.0 if self.compliant_percent is None else self.compliant_percent
        return (share, not self.outdated_by, self.job.bucket)


def named_state(label: str, names: dict[str, str]) -> str:
    """`KMS AES256 <id>` as `KMS AES256 alias/name(<id>)`."""
    parts = label.split(" ", 3)
    if len(parts) >= 3 and parts[0] == "KMS" and parts[2] in names:
        parts[2] = names[parts[2]]
    return " ".join(parts)


def summarise_scan(
    job: Job, *, reload: bool = True, outdated_by: Iterable[str] | None = None, name_keys: bool = True
) -> ScanSummary:
    """The scan's states and compliance; `reload=False` as for progress(). `outdated_by` when the caller has
    found it for many scans at once (outdated_scans); `name_keys=False` leaves KMS states with key ids (no KMS
    call: for lists that show only the share)."""
    done = progress(job, reload=reload)
    if outdated_by is None:
        outdated_by = outdated_scans([job]).get(job.pk, ())
    history_scan = _history_scan(job)
    counted = done if history_scan is job or history_scan is None else progress(history_scan, reload=False)
    names = {}
    if name_keys and any(label.startswith("KMS ") for label in [*done.states, *counted.history_states]):
        bucket = Bucket.objects.filter(connection=job.connection, name=job.bucket).first()
        names = key_names(job.connection, bucket.region if bucket else job.connection.region)
    states, history = _named_states(done.states, names), _named_states(counted.history_states, names)
    exposed = counted.history_outcomes.get(ObjectOutcome.NOT_MATCHING, [0, 0])
    compliant = done.outcomes.get(ObjectOutcome.COMPLIANT, [0, 0])
    return ScanSummary(
        job,
        states,
        sum(row[1] for row in states),
        sum(row[2] for row in states),
        compliant[0],
        compliant[1],
        done.count(ObjectOutcome.NOT_MATCHING),
        done.count(ObjectOutcome.SKIPPED),
        sum(n for label, n, _ in states if CLIENT_SIDE_MARK in label),
        tuple(outdated_by),
        history,
        exposed[0],
        exposed[1],
        counted.history_failures,
        history_scan if history_scan is not job else None,
    )


def _history_scan(job: Job) -> Job | None:
    """The scan whose count of older versions holds for `job`: itself when it listed versions; for a scan of given
    keys (a verification, a retry), which lists none, the newest whole scan of the bucket that did, before it."""
    if job.versioned or not job.retry_keys:
        return job
    return (
        Job.objects.filter(
            kind=Job.SCAN,
            connection_id=job.connection_id,
            bucket=job.bucket,
            versioned=True,
            state__in=Job.COMPLETED_STATES,
            pk__lt=job.pk,
        )
        .order_by("-pk")
        .first()
    )


def _named_states(states: dict[str, list[int]], names: dict[str, str]) -> list[tuple[str, int, int]]:
    """(label with key names, objects, bytes), largest share first."""
    return sorted(
        ((named_state(label, names), n, b) for label, (n, b) in states.items()), key=lambda row: (-row[2], -row[1])
    )


def latest_scans() -> list[ScanSummary]:
    """The newest finished scan of every bucket that has one, what needs attention first (attention_order)."""
    finished = Job.objects.filter(kind=Job.SCAN, state__in=Job.COMPLETED_STATES)
    newest = finished.values("connection_id", "bucket").annotate(last=Max("id")).values_list("last", flat=True)
    jobs = list(_scans_listed().filter(pk__in=list(newest)).order_by("connection__name", "bucket"))
    outdated = outdated_scans(jobs)
    summaries = [summarise_scan(job, reload=False, outdated_by=outdated.get(job.pk, ())) for job in jobs]
    return sorted(summaries, key=lambda summary: summary.attention_order)


def outdated_scans(scans: list[Job]) -> dict[int, list[str]]:
    """Why each scan no longer tells the truth, in words: the live re-encryptions and rewraps that changed objects
    of its bucket after it began (or are changing them now), a change of the bucket's default encryption since,
    and objects whose encryption someone changed by hand since. A scan absent from the answer is current."""
    if not scans:
        return {}
    since = min(scan.created_at for scan in scans)
    names = {scan.bucket for scan in scans}
    later_jobs = _with_counted_pages(
        Job.objects.filter(kind__in=(Job.REENCRYPT, Job.REWRAP), dry_run=False, bucket__in=names).filter(
            Q(finished_at__gt=since) | Q(state__in=Job.ACTIVE_STATES)
        )
    ).order_by("pk")
    changed_buckets = Bucket.objects.filter(name__in=names, encryption_changed_at__gt=since)
    by_hand = AuditEvent.objects.filter(
        action="object.encryption.change", outcome=AuditEvent.SUCCESS, bucket__in=names, created_at__gt=since
    ).values_list("connection_id", "bucket", "created_at")
    reasons: dict[int, list[str]] = {}
    for scan in scans:
        found = [
            *(_job_since(job, scan) for job in later_jobs),
            *(_default_change_since(bucket, scan) for bucket in changed_buckets),
            _changes_by_hand_since(by_hand, scan),
        ]
        if found := [reason for reason in found if reason]:
            reasons[scan.pk] = found
    return reasons


def _same_bucket(where: Job | Bucket, scan: Job) -> bool:
    name = where.name if isinstance(where, Bucket) else where.bucket
    return (where.connection_id, name) == (scan.connection_id, scan.bucket)


def _job_since(job: Job, scan: Job) -> str:
    if not _same_bucket(job, scan) or job.pk == scan.pk:
        return ""
    what = "re-encrypted" if job.is_reencrypt else "rewrapped"
    if job.is_active:
        return f"{job.get_kind_display().lower()} #{job.pk} is running on this bucket"
    changed = progress(job, reload=False).count(ObjectOutcome.REENCRYPTED)
    if job.finished_at <= scan.created_at or not changed:
        return ""
    return f"job #{job.pk} {what} {changed} object{pluralize(changed)} since"


def _default_change_since(bucket: Bucket, scan: Job) -> str:
    if not _same_bucket(bucket, scan) or bucket.encryption_changed_at <= scan.created_at:
        return ""
    return f"the default encryption changed to {bucket.sse_label or 'none'} since"


def _changes_by_hand_since(events, scan: Job) -> str:
    """`events`: (connection id, bucket, time) of successful object encryption changes through the console."""
    changed = sum(
        1
        for connection_id, bucket, at in events
        if (connection_id, bucket) == (scan.connection_id, scan.bucket) and at > scan.created_at
    )
    if not changed:
        return ""
    return f"{changed} object{pluralize(changed)} changed encryption by hand since"


def scan_trend(job: Job, limit: int) -> list[ScanSummary]:
    """The bucket's last `limit` finished scans up to this one, oldest first."""
    scans = _scans_listed().filter(
        connection=job.connection,
        bucket=job.bucket,
        kind=Job.SCAN,
        state__in=Job.COMPLETED_STATES,
        created_at__lte=job.created_at,
    )
    return [summarise_scan(scan, reload=False) for scan in reversed(scans.order_by("-created_at")[:limit])]


def _scans_listed() -> QuerySet[Job]:
    return _with_counted_pages(Job.objects.select_related("connection"))


def unscanned_buckets(scanned: set[tuple[int, str]]) -> list[Bucket]:
    """The buckets not in `scanned` (connection id, bucket name), by name."""
    buckets = Bucket.objects.select_related("connection").order_by("name", "connection__name")
    return [bucket for bucket in buckets if (bucket.connection_id, bucket.name) not in scanned]


def bucket_of(spec: JobSpec) -> Bucket | None:
    """The console's bucket row for a job or schedule (None when the console has not seen the bucket)."""
    return Bucket.objects.filter(connection_id=spec.connection_id, name=spec.bucket).first()


def latest_scan_of(bucket: Bucket) -> Job | None:
    """The bucket's newest finished scan."""
    scans = Job.objects.filter(
        connection_id=bucket.connection_id, bucket=bucket.name, kind=Job.SCAN, state__in=Job.COMPLETED_STATES
    )
    return scans.order_by("-finished_at").first()


def active_jobs_on(bucket: Bucket, limit: int = 5) -> list[Job]:
    return list(
        Job.objects.filter(
            connection_id=bucket.connection_id, bucket=bucket.name, state__in=Job.ACTIVE_STATES
        ).order_by("-created_at")[:limit]
    )


# Schedules


def get_schedule(schedule_id) -> Schedule:
    schedule = Schedule.objects.select_related("connection", "periodic_task").filter(pk=_number(schedule_id)).first()
    if schedule is None:
        raise NotFound(f"There is no schedule {schedule_id}.")
    return schedule


def next_run(schedule: Schedule) -> datetime.datetime | None:
    """When beat fires it next (None when disabled)."""
    task = schedule.periodic_task
    if not schedule.enabled or task is None:
        return None
    timing = task.schedule
    remaining = timing.remaining_estimate(task.last_run_at or task.date_changed or timezone.now())
    return timezone.now() + max(remaining, datetime.timedelta(0))


def _number(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def schedules_listed(runs: int) -> QuerySet[Schedule]:
    """Schedules as a list shows them: with their connection, beat timing, master keys, creator and last `runs`
    runs (in `recent_runs`, newest first)."""
    recent_runs = ScheduleRun.objects.select_related("job").order_by("-at", "-id")[:runs]
    return Schedule.objects.select_related(
        "connection",
        "periodic_task__crontab",
        "periodic_task__interval",
        "rewrap_from",
        "rewrap_to",
        "created_by",
    ).prefetch_related(Prefetch("runs", queryset=recent_runs, to_attr="recent_runs"))


# Sweeps


def get_sweep(sweep_id) -> Sweep:
    sweep = Sweep.objects.select_related("schedule", "created_by").filter(pk=_number(sweep_id)).first()
    if sweep is None:
        raise NotFound(f"There is no sweep {sweep_id}.")
    return sweep


def sweeps_listed() -> QuerySet[Sweep]:
    return Sweep.objects.select_related("schedule", "created_by").annotate(bucket_count=Count("items"))


@dataclass(frozen=True)
class SweepRow:
    """One bucket of a sweep: its job's state and counts (a scan's compliance too), or why it has no job."""

    item: SweepItem
    state: str
    state_label: str
    objects_done: int = 0
    objects_total: int = 0
    percent: float = 0.0
    scan: ScanSummary | None = None

    @property
    def job(self) -> Job | None:
        return self.item.job


@dataclass(frozen=True)
class SweepResult:
    """A sweep across its buckets: each bucket's row and the totals of what its jobs found so far."""

    sweep: Sweep
    rows: list[SweepRow]
    states: list[tuple[str, int, int]]  # label, objects, bytes over every bucket; most objects first
    objects: int
    bytes: int
    compliant_objects: int
    tally: dict[str, int]  # waiting, active, finished, not started (buckets)

    @property
    def finished(self) -> bool:
        return not self.tally["waiting"] and not self.tally["active"]

    @property
    def compliant_percent(self) -> float | None:
        """None with no object seen yet: never a share of nothing."""
        return 100.0 * self.compliant_objects / self.objects if self.objects else None

    @property
    def percent(self) -> float:
        """Share of buckets done (finished or not started)."""
        done = self.tally["finished"] + self.tally["not_started"]
        return 100.0 * done / len(self.rows) if self.rows else 100.0


WAITING, NOT_STARTED = "waiting", "not-started"


def sweep_result(sweep: Sweep) -> SweepResult:
    jobs = _with_counted_pages(Job.objects.select_related("connection"))
    items = sweep.items.select_related("connection").prefetch_related(Prefetch("job", queryset=jobs))
    rows = [_sweep_row(item) for item in items.order_by("connection__name", "bucket")]
    states: dict[str, list[int]] = {}
    for row in rows:
        if row.scan is not None:
            _merge(states, {label: [objects, size] for label, objects, size in row.scan.states})
    tally = {"waiting": 0, "active": 0, "finished": 0, "not_started": 0}
    for row in rows:
        tally[_tally_of(row)] += 1
    ordered = sorted(((label, n, b) for label, (n, b) in states.items()), key=lambda state: (-state[1], state[0]))
    return SweepResult(
        sweep,
        rows,
        ordered,
        sum(state[1] for state in ordered),
        sum(state[2] for state in ordered),
        sum(row.scan.compliant_objects for row in rows if row.scan is not None),
        tally,
    )


def _sweep_row(item: SweepItem) -> SweepRow:
    job = item.job
    if job is None:
        if item.error:
            return SweepRow(item, NOT_STARTED, "Not started")
        return SweepRow(item, WAITING, "Waiting for its turn" if item.claimed_at is None else "Starting")
    done = progress(job, reload=False)
    scan = summarise_scan(job, reload=False) if job.kind == Job.SCAN else None
    return SweepRow(item, job.state, job.get_state_display(), done.objects_done, job.total_objects, done.percent, scan)


def _tally_of(row: SweepRow) -> str:
    if row.state == WAITING:
        return "waiting"
    if row.state == NOT_STARTED:
        return "not_started"
    return "finished" if row.state in Job.FINISHED_STATES else "active"
