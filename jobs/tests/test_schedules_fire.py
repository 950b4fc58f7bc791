"""Schedules run through Celery beat's database scheduler, and a firing skips while the previous job still runs."""

import datetime
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from console.testing.cloud import new_bucket
from console.testing.jobs import fill, next_period, wait_for
from console.testing.waits import wait_until
from console.testing.workers import subprocess_env
from jobs import selectors
from jobs.models import Job, ScheduleRun
from jobs.services import jobs as services
from jobs.services import schedules

pytestmark = pytest.mark.slow

NIGHTLY_LOGS = services.Spec(
    prefixes=("logs/",),
    select=Job.SELECT_UNENCRYPTED,
    target_mode=Job.TARGET_EXPLICIT,
    target_method="oss",
    target_algorithm="AES256",
)


def test_beat_fires_a_due_schedule_and_its_job_encrypts_new_unencrypted_objects(
    cloud_connection, worker, operator, settings
):
    bucket = new_bucket(cloud_connection, "nightly")
    fill(bucket, 6, prefix="logs/")
    fill(bucket, 3, prefix="other/")
    schedule = schedules.save_schedule(
        actor=operator,
        connection=cloud_connection,
        bucket="nightly",
        name="logs every night",
        spec=NIGHTLY_LOGS,
        interval_minutes=60,
    )
    # Last run an hour and a minute ago: due now, as after a night.
    PeriodicTask.objects.filter(pk=schedule.periodic_task_id).update(
        last_run_at=timezone.now() - datetime.timedelta(minutes=61)
    )
    beat = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "console",
            "beat",
            "--loglevel",
            "WARNING",
            "--max-interval",
            "1",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=subprocess_env(settings),
        start_new_session=True,
    )
    try:
        wait_until(schedule.runs.exists, timeout=30, message=f"beat to start a run of the due schedule {schedule.pk}")
    finally:
        os.killpg(beat.pid, signal.SIGTERM)
        beat.wait(10)

    run = schedule.runs.get()
    assert run.outcome == ScheduleRun.STARTED
    job = wait_for(run.job)
    counts = selectors.progress(job).counts()
    assert job.schedule_id == schedule.pk and job.state == Job.COMPLETED
    assert counts["objects_total"] == 6 and counts["reencrypted"] == 2 and counts["filtered"] == 4
    assert selectors.next_run(schedule) > timezone.now() + datetime.timedelta(minutes=55)


def test_a_firing_while_the_previous_job_runs_is_recorded_as_skipped(cloud_connection, operator):
    new_bucket(cloud_connection, "overlap")
    schedule = schedules.save_schedule(
        actor=operator,
        connection=cloud_connection,
        bucket="overlap",
        name="overlapping",
        spec=NIGHTLY_LOGS,
        crontab="0 2 * * *",
    )
    first = schedules.run_schedule(schedule.pk)
    services.pause_job(first.job, operator)
    next_period(schedule)

    second = schedules.run_schedule(schedule.pk)

    assert first.outcome == ScheduleRun.STARTED
    assert second.outcome == ScheduleRun.SKIPPED and second.job == first.job
    assert f"job {first.job.pk}" in second.reason
    assert Job.objects.filter(schedule=schedule).count() == 1


def test_schedule_timing_is_checked(cloud_connection, operator):
    new_bucket(cloud_connection, "timed")
    for crontab, interval, message in (
        ("", None, "either a crontab or an interval"),
        ("0 2 * *", None, "five fields"),
        ("99 2 * * *", None, "not valid"),
        ("0 2 * * *", 5, "either a crontab or an interval"),
        ("", 0, "either a crontab or an interval"),
    ):
        with pytest.raises(services.ServiceError, match=message):
            schedules.save_schedule(
                actor=operator,
                connection=cloud_connection,
                bucket="timed",
                name="bad",
                spec=NIGHTLY_LOGS,
                crontab=crontab,
                interval_minutes=interval,
            )
    assert not PeriodicTask.objects.filter(name__startswith="schedule:").exists()


def test_a_schedule_deleted_with_its_connection_takes_its_beat_entry_with_it(cloud_connection, operator):
    from jobs.tasks import run_schedule_task

    new_bucket(cloud_connection, "orphaned")
    schedule = schedules.save_schedule(
        actor=operator,
        connection=cloud_connection,
        bucket="orphaned",
        name="orphan",
        spec=NIGHTLY_LOGS,
        crontab="0 2 * * *",
    )
    schedule_id = schedule.pk
    cloud_connection.delete()

    run_schedule_task(schedule_id)

    assert not PeriodicTask.objects.filter(name=f"schedule:{schedule_id}").exists()
    assert not Job.objects.exists()
