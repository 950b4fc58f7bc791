"""Beat starts a schedule at most once per period: another firing of the same period (two beats around a lock
handover, a message delivered twice) starts nothing, however quickly the first job finished.

Jobs run in-process: the `queued` fixture keeps the tasks the services enqueue and works through them."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from console.testing.cloud import new_bucket
from console.testing.jobs import next_period
from jobs.models import Job, Schedule, ScheduleRun
from jobs.services import jobs as services
from jobs.services import schedules

SCAN_ALL = services.Spec(kind=Job.SCAN, select=Job.SELECT_ALL)


@pytest.fixture
def hourly(cloud_connection, operator):
    new_bucket(cloud_connection, "ledger")
    return schedules.save_schedule(
        actor=operator,
        connection=cloud_connection,
        bucket="ledger",
        name="hourly scan",
        spec=SCAN_ALL,
        interval_minutes=60,
    )


def test_a_second_firing_in_the_same_period_starts_nothing_even_after_the_first_job_finished(hourly, queued):
    first = schedules.run_schedule(hourly.pk)
    queued()

    again = schedules.run_schedule(hourly.pk)

    assert first.outcome == ScheduleRun.STARTED
    assert Job.objects.get(pk=first.job_id).state in Job.COMPLETED_STATES
    assert again is None
    assert hourly.runs.count() == 1 and hourly.jobs.count() == 1


def test_the_next_period_starts_a_job_again(hourly, queued):
    schedules.run_schedule(hourly.pk)
    queued()
    next_period(hourly)

    second = schedules.run_schedule(hourly.pk)

    assert second.outcome == ScheduleRun.STARTED and hourly.jobs.count() == 2


def test_run_now_starts_a_job_whatever_beat_fired_in_the_period(hourly, queued, operator):
    schedules.run_schedule(hourly.pk)
    queued()

    by_hand = schedules.run_schedule(hourly.pk, actor=operator)

    assert by_hand.outcome == ScheduleRun.STARTED and hourly.jobs.count() == 2


def test_firings_of_one_period_at_the_same_moment_start_one_job(hourly, queued):
    start = threading.Barrier(4)
    runs = []

    def fire():
        start.wait()
        try:
            runs.append(schedules.run_schedule(hourly.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(run.outcome if run else "nothing" for run in runs) == ["nothing"] * 3 + [ScheduleRun.STARTED]
    assert hourly.jobs.count() == 1


def test_a_crontab_period_ends_at_the_next_tick_in_the_schedule_time_zone(cloud_connection, operator, queued):
    new_bucket(cloud_connection, "ledger")
    # Kolkata is 5 h 30 min ahead of UTC: its full hours are at half past in UTC.
    schedule = schedules.save_schedule(
        actor=operator,
        connection=cloud_connection,
        bucket="ledger",
        name="every Kolkata hour",
        spec=SCAN_ALL,
        crontab="0 * * * *",
        timezone_name="Asia/Kolkata",
    )
    now = timezone.now()
    next_tick = now.replace(minute=30, second=0, microsecond=0)
    if next_tick <= now:
        next_tick += datetime.timedelta(hours=1)

    schedules.run_schedule(schedule.pk)

    fired_until = Schedule.objects.get(pk=schedule.pk).fired_until
    assert abs(fired_until - next_tick) < datetime.timedelta(seconds=1)


def test_an_interval_period_is_half_the_interval(hourly, queued):
    before = timezone.now()

    schedules.run_schedule(hourly.pk)

    fired_until = Schedule.objects.get(pk=hourly.pk).fired_until
    assert before + datetime.timedelta(minutes=30) <= fired_until <= timezone.now() + datetime.timedelta(minutes=30)
