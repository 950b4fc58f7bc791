"""Lists cost the same number of queries whatever the number of rows: each row's relations come with the list."""

import pytest
from django.db import connection as database
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from buckets.models import Connection
from jobs.models import Job, JobPage, ObjectOutcome, Schedule, ScheduleRun


@pytest.fixture
def offline(db):
    """A connection nobody calls: the lists read only the database (and Redis for the pages still open)."""
    return Connection.objects.create(
        name="offline", oss_endpoint="https://oss-cn-hangzhou.aliyuncs.com", region="cn-hangzhou"
    )


def add_jobs(connection, count: int, created_by) -> None:
    """Jobs as a list meets them: one finished with recorded pages, one still running on an open page, a retry."""
    for index in range(count):
        job = Job.objects.create(
            connection=connection,
            bucket=f"bucket-{index % 3}",
            state=Job.COMPLETED_WITH_ERRORS if index % 2 else Job.RUNNING,
            copy_threshold=1 << 30,
            created_by=created_by,
            retry_of=Job.objects.first(),
        )
        counts = {ObjectOutcome.REENCRYPTED: [3, 300], ObjectOutcome.FAILED: [1, 100]}
        JobPage.objects.create(job=job, number=0, state=JobPage.DONE, outcomes=counts)
        JobPage.objects.create(job=job, number=1, state=JobPage.RUNNING if index % 2 == 0 else JobPage.DONE)


def add_schedules(connection, count: int, created_by) -> None:
    """Schedules on a crontab and on an interval, each with runs, started jobs among them."""
    nightly = CrontabSchedule.objects.create(minute="0", hour="2")
    hourly = IntervalSchedule.objects.create(every=60, period=IntervalSchedule.MINUTES)
    for index in range(count):
        number = Schedule.objects.count()
        timing = {"crontab": nightly} if index % 2 else {"interval": hourly}
        task = PeriodicTask.objects.create(name=f"schedule:{number}", task="jobs.run_schedule", **timing)
        schedule = Schedule.objects.create(
            connection=connection,
            bucket="ledger",
            name=f"schedule {number}",
            crontab="0 2 * * *" if index % 2 else "",
            interval_minutes=None if index % 2 else 60,
            periodic_task=task,
            created_by=created_by,
        )
        job = Job.objects.create(connection=connection, bucket="ledger", schedule=schedule, copy_threshold=1 << 30)
        ScheduleRun.objects.create(schedule=schedule, outcome=ScheduleRun.STARTED, job=job)
        ScheduleRun.objects.create(schedule=schedule, outcome=ScheduleRun.SKIPPED, job=job, reason="still running")


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(database) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries)


@pytest.mark.parametrize(
    "url, add_rows",
    [
        ("/jobs/", add_jobs),
        ("/jobs/schedules/", add_schedules),
        ("/api/v1/schedules/", add_schedules),
    ],
)
def test_a_list_of_twelve_rows_costs_the_queries_of_a_list_of_two(client_as, viewer, offline, url, add_rows):
    client = client_as(viewer)
    add_rows(offline, 2, viewer)
    client.get(url)  # what a first request caches (permissions, content types) is not a row's cost

    two_rows = queries_for(client, url)
    add_rows(offline, 10, viewer)
    twelve_rows = queries_for(client, url)

    assert twelve_rows == two_rows
