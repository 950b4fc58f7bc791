"""Sweeps: a compliance scan of many buckets from the Buckets list and the API, started a few at a time, with one
page following them and a combined result; schedules over every bucket of a connection or a name pattern.

Jobs run in-process: the tasks the services enqueue are kept by the `queued` fixture and worked through with the
functions a worker calls.
"""

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from buckets.models import Bucket
from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from console.testing.jobs import fill, next_period
from jobs import selectors
from jobs.models import Job, ScheduleRun, Sweep
from jobs.services import jobs as services
from jobs.services import schedules, sweeps

SWEEPS = "/api/v1/sweeps/"


@pytest.fixture
def fleet(cloud_connection, queued, settings):
    settings.JOBS_SWEEP_MAX_RUNNING = 2
    """Three buckets without default encryption: 5, 5 and 10 objects cycling through none, AES256, SM4, KMS, KMS
    SM4 (so 4 in 5 objects are encrypted), and one more bucket the sweeps leave alone."""
    buckets = []
    for name, count in (("logs-a", 5), ("logs-b", 5), ("ledger", 10), ("other", 1)):
        bucket = new_bucket(cloud_connection, name)
        fill(bucket, count)
        buckets.append(bucket)
    return buckets


def html(response) -> str:
    return response.content.decode()


def test_scan_selected_scans_each_bucket_a_few_at_a_time_and_adds_up_the_result(client_as, operator, fleet, queued):
    chosen = fleet[:3]
    client = client_as(operator)

    response = client.post("/jobs/sweeps/new/", {"sweep": "selected", "bucket": [bucket.pk for bucket in chosen]})

    sweep = Sweep.objects.get()
    assert response.status_code == 302 and response.url == f"/jobs/sweeps/{sweep.pk}/"
    assert Job.objects.count() == 2  # JOBS_SWEEP_MAX_RUNNING: the third bucket waits for its turn
    waiting = html(client.get(response.url))
    assert "0 of 3 buckets finished, 2 running, 1 waiting" in waiting and "Waiting for its turn" in waiting

    queued()

    result = selectors.sweep_result(sweep)
    assert result.finished and Job.objects.filter(kind=Job.SCAN, state=Job.COMPLETED).count() == 3
    assert (result.objects, result.compliant_objects) == (20, 16)
    assert {row.item.bucket: (row.objects_done, row.scan.compliant_objects) for row in result.rows} == {
        "ledger": (10, 8),
        "logs-a": (5, 4),
        "logs-b": (5, 4),
    }
    assert dict((label, objects) for label, objects, _ in result.states)["None"] == 4
    assert sum(objects for _, objects, _ in result.states) == 20
    page = html(client.get(response.url))
    assert "3 of 3 buckets finished" in page and "80.0%" in page and "Combined result" in page
    assert '<tr data-state="None"><th scope="row">None</th><td data-count>4</td>' in page
    started = AuditEvent.objects.filter(action="sweep.start").get()
    assert started.target == f"sweep:{sweep.pk}" and started.actor == operator
    assert AuditEvent.objects.filter(action="scan.start").count() == 3


def test_scan_all_of_a_connection_keeps_going_past_a_bucket_that_cannot_be_scanned(
    client_as, operator, fleet, queued, cloud_connection
):
    # Deleted in the cloud since the console last listed the connection's buckets.
    Bucket.objects.create(connection=cloud_connection, name="gone", region="cn-hangzhou", refreshed_at=timezone.now())

    response = client_as(operator).post(
        "/jobs/sweeps/new/", {"sweep": "all", "connection": cloud_connection.pk}, follow=True
    )
    queued()

    result = selectors.sweep_result(Sweep.objects.get())
    assert result.sweep.description == "every bucket of local"
    assert len(result.rows) == 5 and result.finished and result.tally["not_started"] == 1
    gone = next(row for row in result.rows if row.item.bucket == "gone")
    assert gone.state_label == "Not started" and "NoSuchBucket" in gone.item.error
    assert result.objects == 21
    assert "Sweep #" in " ".join(str(message) for message in response.context["messages"])


def test_the_bucket_list_offers_scans_to_operators_only(client_as, operator, viewer, fleet, cloud_connection):
    as_operator = html(client_as(operator).get(f"/buckets/?connection={cloud_connection.pk}"))
    as_viewer = html(client_as(viewer).get("/buckets/"))

    assert "Scan selected" in as_operator and "Scan all buckets of local" in as_operator
    assert f'name="bucket" value="{fleet[0].pk}"' in as_operator
    assert "Scan selected" not in as_viewer and 'name="bucket"' not in as_viewer
    assert client_as(viewer).post("/jobs/sweeps/new/", {"sweep": "all"}).status_code == 403


def test_scan_selected_without_a_bucket_says_so(client_as, operator, fleet):
    response = client_as(operator).post("/jobs/sweeps/new/", {"sweep": "selected"}, follow=True)

    assert "No bucket was chosen" in html(response) and not Sweep.objects.exists()


def test_the_api_starts_a_sweep_of_named_buckets_and_reports_it(api_as, operator, viewer, fleet, queued):
    client = api_as(operator)
    connection = fleet[0].connection_id

    unknown = client.post(SWEEPS, {"connection": connection, "buckets": ["logs-a", "nope"]}, format="json")
    nameless = client.post(SWEEPS, {"buckets": ["logs-a"]}, format="json")
    created = client.post(SWEEPS, {"connection": connection, "buckets": ["logs-a", "logs-b"]}, format="json")
    queued()
    reader = api_as(viewer)  # the same client, now signed in as a viewer
    refused = reader.post(SWEEPS, {"connection": connection}, format="json")
    detail = reader.get(f"{SWEEPS}{created.json()['id']}/").json()

    assert unknown.status_code == 400 and unknown.json()["detail"] == "Connection local has no bucket 'nope'."
    assert nameless.status_code == 400 and "connection" in nameless.json()
    assert refused.status_code == 403
    assert created.status_code == 201 and created.json()["description"] == "2 buckets of local"
    assert detail["finished"] and detail["objects"] == 10 and detail["compliant_percent"] == 80.0
    assert [(row["bucket"], row["state"], row["objects_done"]) for row in detail["buckets"]] == [
        ("logs-a", "completed", 5),
        ("logs-b", "completed", 5),
    ]
    assert {state["label"]: state["objects"] for state in detail["states"]}["None"] == 2
    assert reader.get(SWEEPS).json()["results"][0]["id"] == detail["id"]


# Schedules over many buckets


def pattern_schedule(operator, connection, pattern="logs-*"):
    return schedules.save_schedule(
        actor=operator,
        connection=connection,
        bucket="",
        name="logs scans",
        spec=services.Spec(kind=Job.SCAN, select=Job.SELECT_ALL),
        crontab="@weekly",
        scope="pattern",
        bucket_pattern=pattern,
    )


def test_a_pattern_schedule_sweeps_the_matching_buckets_listed_afresh(operator, fleet, queued, cloud_connection):
    schedule = pattern_schedule(operator, cloud_connection)
    OssClient(cloud_connection).create_bucket("logs-new")  # not yet in the console's snapshot

    run = schedules.run_schedule(schedule.pk)
    next_period(schedule)
    again = schedules.run_schedule(schedule.pk)
    queued()
    next_period(schedule)
    after = schedules.run_schedule(schedule.pk)

    assert (schedule.crontab, schedule.periodic_task.crontab.day_of_week) == ("0 0 * * 0", "0")
    assert run.outcome == ScheduleRun.STARTED and run.sweep.schedule_id == schedule.pk
    assert sorted(run.sweep.items.values_list("bucket", flat=True)) == ["logs-a", "logs-b", "logs-new"]
    assert again.outcome == ScheduleRun.SKIPPED and "still going" in again.reason
    assert after.outcome == ScheduleRun.STARTED and after.sweep_id != run.sweep_id
    assert selectors.sweep_result(run.sweep).objects == 10


def test_an_every_bucket_schedule_and_a_bad_pattern(operator, fleet, cloud_connection):
    every = schedules.save_schedule(
        actor=operator,
        connection=cloud_connection,
        bucket="",
        name="everything",
        spec=services.Spec(kind=Job.SCAN, select=Job.SELECT_ALL),
        interval_minutes=1440,
        scope="connection",
    )
    with pytest.raises(services.ServiceError, match="glob"):
        pattern_schedule(operator, cloud_connection, pattern="Logs/*")

    assert (every.scope, every.bucket, every.bucket_pattern) == ("connection", "", "")
    assert len(sweeps.matching_buckets(cloud_connection, every.bucket_pattern)) == 4


def test_the_schedule_form_targets_a_pattern_and_the_list_says_so(client_as, operator, fleet, cloud_connection):
    from console.testing.jobs import schedule_form

    client = client_as(operator)
    form = schedule_form(fleet[0], name="logs weekly", schedule_kind="scan", target_mode="bucket-default")
    form |= {"scope": "pattern", "bucket_pattern": "logs-*", "bucket": "", "prefixes": ""}

    response = client.post("/jobs/schedules/new/", form)
    listing = html(client.get("/jobs/schedules/"))

    assert response.status_code == 302
    assert "buckets matching logs-*" in listing
