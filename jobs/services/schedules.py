"""Schedules: a job spec that Celery beat (django-celery-beat's database scheduler) runs on a crontab (in the
schedule's time zone) or an interval. Each firing starts a job, or a sweep when the schedule targets every
bucket of its connection or a name pattern, or is recorded as skipped while the previous one is still going."""

from __future__ import annotations

import datetime
import json
import logging
import zoneinfo

from celery.schedules import ParseException
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from audit.models import AuditEvent
from audit.services import record
from buckets.models import Connection
from cloud.errors import ServiceError
from jobs import selectors, timing
from jobs.models import Job, Schedule, ScheduleRun, SweepItem
from jobs.services import jobs as services
from jobs.services import sweeps

TASK_NAME = "jobs.run_schedule"

logger = logging.getLogger(__name__)


def _crontab_fields(text: str) -> dict[str, str]:
    parts = text.split()
    if len(parts) != 5:
        raise ServiceError(
            f"Crontab {text!r} needs five fields: minute hour day-of-month month day-of-week (e.g. '0 2 * * *')."
        )
    fields = dict(zip(("minute", "hour", "day_of_month", "month_of_year", "day_of_week"), parts, strict=True))
    try:
        CrontabSchedule(**fields).schedule  # noqa: B018 - building it validates every field
    except (ValueError, TypeError, ParseException) as error:
        raise ServiceError(f"Crontab {text!r} is not valid: {str(error).rstrip('.')}.") from None
    return fields


def check_timing(crontab: str, interval_minutes: int | None) -> tuple[str, int | None]:
    """The timing as stored: a crontab of five fields (`@weekly` and its kin spelled out) or an interval."""
    crontab = timing.expand(crontab)
    if bool(crontab) == bool(interval_minutes):
        raise ServiceError("Give either a crontab or an interval in minutes, not both and not neither.")
    if interval_minutes is not None and not (isinstance(interval_minutes, int) and 1 <= interval_minutes <= 525_600):
        raise ServiceError("The interval is a whole number of minutes from 1 to 525600 (a year).")
    if crontab:
        _crontab_fields(crontab)
    return crontab, interval_minutes


def check_timezone(name: str) -> str:
    name = (name or "").strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ServiceError(f"Unknown time zone {name!r}: give an IANA name such as UTC or Europe/Berlin.") from None
    return name


def check_scope(scope: str, bucket: str, pattern: str) -> tuple[str, str, str]:
    """(scope, bucket, pattern) as stored: one bucket by name, or a glob over the connection's bucket names
    ('*' for every bucket)."""
    pattern = (pattern or "").strip()
    if scope == Schedule.ONE_BUCKET:
        if pattern:
            raise ServiceError("A bucket name pattern goes only with the scope 'Buckets matching a pattern'.")
        if not (bucket or "").strip():
            raise ServiceError("Name the bucket this schedule works on, or choose every bucket or a pattern.")
        return scope, bucket.strip(), ""
    if scope == Schedule.EVERY_BUCKET:
        return scope, "", ""
    if scope != Schedule.BUCKET_PATTERN:
        raise ServiceError(f"Unknown scope {scope!r}: choose one of {', '.join(dict(Schedule.SCOPES))}.")
    if not pattern or len(pattern) > 63 or not set(pattern) <= set("abcdefghijklmnopqrstuvwxyz0123456789-*?[]!"):
        raise ServiceError(
            "A bucket name pattern is a glob of at most 63 characters: lowercase letters, digits, '-', and "
            "'*', '?' or '[...]' (e.g. logs-*)."
        )
    return scope, "", pattern


def _targets(schedule: Schedule) -> str:
    """Which buckets a schedule works on, for messages and the audit log."""
    if schedule.scope == Schedule.EVERY_BUCKET:
        return f"every bucket of {schedule.connection.name}"
    if schedule.scope == Schedule.BUCKET_PATTERN:
        return f"the buckets of {schedule.connection.name} matching {schedule.bucket_pattern}"
    return schedule.bucket


def _sync_periodic_task(schedule: Schedule) -> None:
    """The beat entry mirrors the schedule: timing, enabled flag, and the schedule id as the task argument."""
    if schedule.crontab:
        timing = {
            "crontab": CrontabSchedule.objects.get_or_create(
                **_crontab_fields(schedule.crontab), timezone=schedule.timezone
            )[0],
            "interval": None,
        }
    else:
        timing = {
            "interval": IntervalSchedule.objects.get_or_create(
                every=schedule.interval_minutes, period=IntervalSchedule.MINUTES
            )[0],
            "crontab": None,
        }
    task = schedule.periodic_task or PeriodicTask(name=f"schedule:{schedule.pk}", task=TASK_NAME)
    task.args = json.dumps([schedule.pk])
    task.enabled = schedule.enabled
    for name, value in timing.items():
        setattr(task, name, value)
    task.save()
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        schedule.save(update_fields=["periodic_task"])


def _snapshot(schedule: Schedule) -> dict:
    return {
        "name": schedule.name,
        "bucket": schedule.bucket,
        "scope": schedule.scope,
        "bucket_pattern": schedule.bucket_pattern,
        "enabled": schedule.enabled,
        "crontab": schedule.crontab,
        "timezone": schedule.timezone,
        "interval_minutes": schedule.interval_minutes,
        **services.Spec.of(schedule).fields(),
    }


def save_schedule(
    *,
    actor,
    connection: Connection,
    bucket: str,
    name: str,
    spec: services.Spec,
    crontab: str = "",
    interval_minutes: int | None = None,
    enabled: bool = True,
    timezone_name: str = "",
    scope: str = Schedule.ONE_BUCKET,
    bucket_pattern: str = "",
    schedule: Schedule | None = None,
) -> Schedule:
    """Create (schedule None) or change a schedule; checked like a job, so a schedule cannot fail at its first run
    for a reason known now. A schedule over many buckets is checked against each bucket it matches now."""
    action = "schedule.update" if schedule else "schedule.create"
    before = _snapshot(schedule) if schedule else None
    try:
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise ServiceError("A schedule needs a name of at most 100 characters.")
        clash = Schedule.objects.filter(name=name).exclude(pk=schedule.pk if schedule else None)
        if clash.exists():
            raise ServiceError(f"There is already a schedule named {name!r}.")
        crontab, interval_minutes = check_timing(crontab, interval_minutes)
        timezone_name = check_timezone(timezone_name or settings.TIME_ZONE)
        scope, bucket, bucket_pattern = check_scope(scope, bucket, bucket_pattern)
        if spec.purge_history:
            raise ServiceError("Deleting older versions is an option of a one-off re-encryption, typed in by hand.")
        if scope == Schedule.ONE_BUCKET:
            spec = services.check_spec(services.find_bucket(connection, bucket), spec)
        else:
            for matched in sweeps.matching_buckets(connection, bucket_pattern):
                spec = services.check_spec(matched, spec)
    except ServiceError as refusal:
        record(
            action,
            actor=actor,
            connection=connection,
            bucket=bucket,
            before=before,
            outcome=AuditEvent.FAILURE,
            error=refusal.message,
        )
        raise
    with transaction.atomic():
        schedule = schedule or Schedule(created_by=actor if getattr(actor, "is_authenticated", False) else None)
        for attribute, value in spec.fields().items():
            setattr(schedule, attribute, value)
        schedule.connection, schedule.bucket, schedule.name = connection, bucket, name
        schedule.crontab, schedule.interval_minutes, schedule.enabled = crontab, interval_minutes, enabled
        schedule.timezone, schedule.scope, schedule.bucket_pattern = timezone_name, scope, bucket_pattern
        schedule.save()
        _sync_periodic_task(schedule)
        record(
            action,
            actor=actor,
            connection=connection,
            bucket=bucket,
            target=f"schedule:{schedule.pk}",
            before=before,
            after=_snapshot(schedule),
        )
    return schedule


def delete_schedule(schedule: Schedule, actor) -> None:
    with transaction.atomic():
        record(
            "schedule.delete",
            actor=actor,
            connection=schedule.connection,
            bucket=schedule.bucket,
            target=f"schedule:{schedule.pk}",
            before=_snapshot(schedule),
        )
        if schedule.periodic_task:
            schedule.periodic_task.delete()
        schedule.delete()


def run_schedule(schedule_id: int, actor=None) -> ScheduleRun | None:
    """One firing: a job (a sweep for a schedule over many buckets), unless the previous one of this schedule is
    still going (then a skipped run).

    Beat fires without an actor, at most once per period: a second firing of a period starts nothing and records
    nothing (None). "Run now" passes the user who asked, through this same function, and always runs.
    """
    schedule = selectors.get_schedule(schedule_id)
    if actor is None and not _claim_period(schedule):
        logger.warning("schedule %s fired again within its period: the second firing starts nothing", schedule.pk)
        return None
    if schedule.scope != Schedule.ONE_BUCKET:
        return _run_sweep(schedule, actor)
    running = schedule.jobs.filter(state__in=Job.ACTIVE_STATES).order_by("-created_at").first()
    if running:
        reason = f"job {running.pk} of this schedule is still {running.get_state_display().lower()}"
        record(
            "schedule.skip",
            connection=schedule.connection,
            bucket=schedule.bucket,
            target=f"schedule:{schedule.pk}",
            after={"reason": reason},
        )
        return ScheduleRun.objects.create(schedule=schedule, outcome=ScheduleRun.SKIPPED, job=running, reason=reason)
    try:
        job = services.create_job(
            actor=None,
            connection=schedule.connection,
            bucket=schedule.bucket,
            spec=services.Spec.of(schedule),
            schedule=schedule,
        )
    except ServiceError as refusal:
        return ScheduleRun.objects.create(schedule=schedule, outcome=ScheduleRun.FAILED, reason=refusal.message)
    return ScheduleRun.objects.create(schedule=schedule, outcome=ScheduleRun.STARTED, job=job)


def _claim_period(schedule: Schedule) -> bool:
    """True for the first firing of the current period, in one conditional update that concurrent firings race on."""
    now = timezone.now()
    return bool(
        Schedule.objects.filter(pk=schedule.pk)
        .filter(Q(fired_until__isnull=True) | Q(fired_until__lte=now))
        .update(fired_until=now + _period_left(schedule))
    )


def _period_left(schedule: Schedule) -> datetime.timedelta:
    """A crontab's period ends at its next tick. Beat spaces an interval's firings a whole interval apart; half of
    one still tells a duplicate from the next firing when that one is delivered a little early or this one late."""
    if schedule.crontab:
        fields = _crontab_fields(schedule.crontab)
        return CrontabSchedule(**fields, timezone=schedule.timezone).schedule.remaining_estimate(timezone.now())
    return datetime.timedelta(minutes=schedule.interval_minutes) / 2


def _run_sweep(schedule: Schedule, actor) -> ScheduleRun:
    """A sweep over the buckets the schedule matches now (the connection's bucket list read afresh first)."""
    unfinished = (
        SweepItem.objects.filter(sweep__schedule=schedule)
        .filter(Q(claimed_at__isnull=True) | Q(job__state__in=Job.ACTIVE_STATES))
        .select_related("sweep")
        .first()
    )
    if unfinished:
        reason = f"sweep {unfinished.sweep_id} of this schedule is still going"
        record(
            "schedule.skip", connection=schedule.connection, target=f"schedule:{schedule.pk}", after={"reason": reason}
        )
        return ScheduleRun.objects.create(
            schedule=schedule, outcome=ScheduleRun.SKIPPED, sweep=unfinished.sweep, reason=reason
        )
    try:
        buckets = sweeps.matching_buckets(schedule.connection, schedule.bucket_pattern)
        sweep = sweeps.start_sweep(
            actor=actor,
            buckets=buckets,
            description=_targets(schedule),
            spec=services.Spec.of(schedule),
            schedule=schedule,
        )
    except ServiceError as refusal:
        return ScheduleRun.objects.create(schedule=schedule, outcome=ScheduleRun.FAILED, reason=refusal.message)
    return ScheduleRun.objects.create(schedule=schedule, outcome=ScheduleRun.STARTED, sweep=sweep)
