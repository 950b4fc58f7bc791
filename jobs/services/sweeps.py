"""Sweeps: one job spec (a compliance scan, from the Buckets list or the API; any kind, from a schedule) over many
buckets, a job per bucket.

Every job is created through jobs.services.jobs.create_job, so it is checked, audited and bound by the shared
limits like a job started by hand. Jobs are not all started at once: a sweep keeps at most `max_running` of
its jobs active (settings.JOBS_SWEEP_MAX_RUNNING) and starts the next bucket when one of them ends. The engine
would queue them anyway (every page is a Celery task, so the worker pool bounds what runs at once, and the
OSS requests per second are a token bucket per connection, shared by all its jobs), but a hundred jobs started
together would each hold a counting pass and a page in the queue, interleave, and all finish late; a few at a
time finish early and leave the queue to people's own jobs.
"""

from __future__ import annotations

import fnmatch

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import record
from buckets.models import Bucket, Connection
from buckets.services.buckets import refresh_buckets
from cloud.errors import ServiceError
from jobs.models import Job, JobSpec, Schedule, Sweep, SweepItem
from jobs.services import jobs as services

MAX_BUCKETS = 1000
SCAN = services.Spec(kind=JobSpec.SCAN, select=JobSpec.SELECT_ALL)


def every_bucket(connection: Connection | None = None) -> list[Bucket]:
    """The buckets of `connection` (of every connection when None), as the console last listed them."""
    buckets = Bucket.objects.select_related("connection").order_by("connection__name", "name")
    return list(buckets.filter(connection=connection) if connection else buckets)


def matching_buckets(connection: Connection, pattern: str = "") -> list[Bucket]:
    """The connection's buckets whose names match the glob `pattern` (all of them without one), listed afresh."""
    refresh_buckets(connection)
    buckets = every_bucket(connection)
    return [bucket for bucket in buckets if not pattern or fnmatch.fnmatchcase(bucket.name, pattern)]


def named_buckets(connection: Connection, names) -> list[Bucket]:
    """The connection's buckets named in `names`; refused when one of them is not the connection's."""
    names = sorted({(name or "").strip() for name in names or ()})
    found = {bucket.name: bucket for bucket in every_bucket(connection) if bucket.name in names}
    if set(names) - set(found):
        refresh_buckets(connection)
        found = {bucket.name: bucket for bucket in every_bucket(connection) if bucket.name in names}
    missing = [name for name in names if name not in found]
    if missing:
        raise ServiceError(f"Connection {connection.name} has no bucket {', '.join(map(repr, missing))}.")
    return [found[name] for name in names]


def start_sweep(
    *,
    actor,
    buckets: list[Bucket],
    description: str,
    spec: services.Spec = SCAN,
    schedule: Schedule | None = None,
) -> Sweep:
    """Record the sweep and its buckets, then start the first few jobs (the rest follow as jobs end)."""
    action = "sweep.start"
    where = {"actor": actor, "connection": buckets[0].connection if len(buckets) == 1 else None}
    try:
        if not buckets:
            raise ServiceError(f"No bucket to sweep: {description} has none.")
        if len(buckets) > MAX_BUCKETS:
            raise ServiceError(f"At most {MAX_BUCKETS} buckets per sweep; {description} has {len(buckets)}.")
    except ServiceError as refusal:
        record(action, **where, after={"buckets": description}, outcome=AuditEvent.FAILURE, error=refusal.message)
        raise
    with transaction.atomic():
        sweep = Sweep.objects.create(
            kind=spec.kind,
            spec=spec.fields(),
            max_running=settings.JOBS_SWEEP_MAX_RUNNING,
            description=description[:200],
            schedule=schedule,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        SweepItem.objects.bulk_create(
            SweepItem(sweep=sweep, connection=bucket.connection, bucket=bucket.name) for bucket in buckets
        )
        record(
            action,
            **where,
            target=f"sweep:{sweep.pk}",
            after={"kind": spec.kind, "buckets": [f"{bucket.connection.name}/{bucket.name}" for bucket in buckets]},
        )
    advance(sweep.pk, actor=actor)
    return sweep


def _active() -> Q:
    """Items whose job is active, or that are being started (claimed, no job and no error yet)."""
    return Q(job__state__in=Job.ACTIVE_STATES) | Q(claimed_at__isnull=False, job__isnull=True, error="")


def _claim_turns(sweep_id: int) -> list[SweepItem]:
    """Take the waiting items the sweep has room for; under a row lock on the sweep, so two jobs ending at
    once do not both fill the same free slot."""
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().get(pk=sweep_id)
        room = sweep.max_running - sweep.items.filter(_active()).count()
        if room <= 0:
            return []
        waiting = list(sweep.items.filter(claimed_at__isnull=True).order_by("id").values_list("pk", flat=True)[:room])
        SweepItem.objects.filter(pk__in=waiting).update(claimed_at=timezone.now())
    return list(SweepItem.objects.filter(pk__in=waiting).select_related("sweep", "connection").order_by("id"))


def advance(sweep_id: int, actor=None) -> int:
    """Start the next buckets' jobs while the sweep has room; a bucket whose job cannot start keeps the reason
    and gives its turn to the next one. Answers how many jobs started."""
    started = 0
    while turns := _claim_turns(sweep_id):
        for item in turns:
            started += _start(item, actor)
    return started


def _start(item: SweepItem, actor) -> int:
    sweep = item.sweep
    spec = services.Spec(**{**sweep.spec, "prefixes": tuple(sweep.spec.get("prefixes", ()))})
    try:
        job = services.create_job(
            actor=actor, connection=item.connection, bucket=item.bucket, spec=spec, schedule=sweep.schedule
        )
    except ServiceError as refusal:
        SweepItem.objects.filter(pk=item.pk).update(error=refusal.message)
        return 0
    SweepItem.objects.filter(pk=item.pk).update(job=job)
    return 1


def job_finished(job: Job) -> None:
    """A job ended: if it belongs to a sweep, the sweep's next bucket takes its turn (in a task, so the worker
    that recorded the job's last page is not held up by the next job's checks)."""
    sweep_id = SweepItem.objects.filter(job=job).values_list("sweep_id", flat=True).first()
    if sweep_id is None:
        return
    from jobs.tasks import advance_sweep_task

    transaction.on_commit(lambda: advance_sweep_task.delay(sweep_id))


def advance_all() -> int:
    """Every sweep with buckets still waiting gets its turns: the safety net for a task lost with its worker."""
    sweeps = SweepItem.objects.filter(claimed_at__isnull=True).values_list("sweep_id", flat=True).distinct()
    return sum(advance(sweep_id) for sweep_id in sweeps)
