"""/api/v1/jobs/ and /api/v1/schedules/: roles, state changes and their conflicts, refusals, reports, schedules,
and (marked slow, with a real worker) jobs followed to their end through the API alone."""

import csv
import io

import pytest

from buckets.models import Connection
from console.testing.cloud import new_bucket
from console.testing.jobs import fill
from console.testing.waits import wait_until
from jobs import selectors
from jobs.models import Job, ObjectOutcome, Schedule
from jobs.services import jobs as services

JOBS, SCHEDULES = "/api/v1/jobs/", "/api/v1/schedules/"
SECRET = "Jobs-api-secret-that-must-never-show-5521"


def job_payload(connection, bucket: str = "ledger", **changes) -> dict:
    return {
        "connection": connection.pk,
        "bucket": bucket,
        "target_mode": "explicit",
        "target_method": "oss",
        "target_algorithm": "AES256",
    } | changes


def schedule_payload(connection, bucket: str = "ledger", **changes) -> dict:
    return job_payload(connection, bucket, name="nightly ledger", crontab="0 2 * * *") | changes


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# Roles, without the cloud: permissions are checked before anything else.


@pytest.fixture
def offline(db):
    """A connection nobody calls, a finished job with a failed object, and a schedule, made directly."""
    connection = Connection(name="offline", oss_endpoint="https://oss-cn-hangzhou.aliyuncs.com", region="cn-hangzhou")
    connection.set_credentials("LTAIoffline", SECRET)
    connection.save()
    job = Job.objects.create(
        connection=connection, bucket="ledger", state=Job.COMPLETED_WITH_ERRORS, copy_threshold=1 << 30
    )
    ObjectOutcome.objects.create(job=job, key="data/broken.csv", size=7, outcome=ObjectOutcome.FAILED, reason="boom")
    schedule = Schedule.objects.create(connection=connection, bucket="ledger", name="offline", interval_minutes=60)
    return connection, job, schedule


def change_requests(connection, job, schedule) -> list[tuple[str, str, dict]]:
    return [
        ("post", JOBS, job_payload(connection)),
        ("post", f"{JOBS}{job.pk}/pause/", {}),
        ("post", f"{JOBS}{job.pk}/resume/", {}),
        ("post", f"{JOBS}{job.pk}/cancel/", {}),
        ("post", f"{JOBS}{job.pk}/retry-failed/", {}),
        ("post", SCHEDULES, schedule_payload(connection, name="another")),
        ("put", f"{SCHEDULES}{schedule.pk}/", schedule_payload(connection)),
        ("patch", f"{SCHEDULES}{schedule.pk}/", {"enabled": False}),
        ("delete", f"{SCHEDULES}{schedule.pk}/", {}),
        ("post", f"{SCHEDULES}{schedule.pk}/run-now/", {}),
    ]


def read_requests(job, schedule) -> list[str]:
    return [
        JOBS,
        f"{JOBS}{job.pk}/",
        f"{JOBS}{job.pk}/outcomes/",
        f"{JOBS}{job.pk}/report/",
        SCHEDULES,
        f"{SCHEDULES}{schedule.pk}/",
    ]


@pytest.mark.parametrize("who, expected", [("viewer", 403), ("outsider", 403), ("anonymous", 401)])
def test_only_operators_change_jobs_and_schedules(request, api_client, api_as, offline, who, expected):
    client = api_client if who == "anonymous" else api_as(request.getfixturevalue(who))

    for method, url, payload in change_requests(*offline):
        response = getattr(client, method)(url, payload, format="json")
        assert response.status_code == expected, (method, url, response.content)

    _, job, schedule = offline
    assert list(Job.objects.values_list("pk", "state")) == [(job.pk, Job.COMPLETED_WITH_ERRORS)]
    assert list(Schedule.objects.values_list("name", "enabled")) == [("offline", True)]
    assert not schedule.runs.exists()


def test_viewers_read_jobs_outcomes_reports_and_schedules_without_secrets(api_as, viewer, offline):
    client = api_as(viewer)
    _, job, schedule = offline

    responses = {url: client.get(url) for url in read_requests(job, schedule)}

    assert {url: response.status_code for url, response in responses.items()} == dict.fromkeys(responses, 200)
    detail = responses[f"{JOBS}{job.pk}/"].json()
    assert detail["state"] == "completed-with-errors" and detail["connection_name"] == "offline"
    assert detail["progress"]["errors"] == 0  # counted from pages; this job has none
    assert detail["plan"] is None and detail["summary"] is None
    assert responses[f"{JOBS}{job.pk}/outcomes/"].json()["results"][0]["key"] == "data/broken.csv"
    assert responses[f"{SCHEDULES}{schedule.pk}/"].json()["last_runs"] == []
    for url, response in responses.items():
        assert SECRET not in body(response), url
        assert "sealed" not in body(response), url


def test_anonymous_and_roleless_users_read_nothing(api_client, api_as, outsider, offline):
    _, job, schedule = offline
    for url in read_requests(job, schedule):
        assert api_client.get(url).status_code == 401, url
    roleless = api_as(outsider)
    for url in read_requests(job, schedule):
        assert roleless.get(url).status_code == 403, url


def test_outcomes_filter_by_outcome_and_refuse_unknown_ones(api_as, viewer, offline):
    client = api_as(viewer)
    _, job, _ = offline

    failed = client.get(f"{JOBS}{job.pk}/outcomes/", {"outcome": "failed"})
    skipped = client.get(f"{JOBS}{job.pk}/outcomes/", {"outcome": "skipped"})
    unknown = client.get(f"{JOBS}{job.pk}/outcomes/", {"outcome": "exploded"})

    assert failed.json()["count"] == 1 and failed.json()["results"][0]["reason"] == "boom"
    assert skipped.json()["count"] == 0
    assert unknown.status_code == 400 and "outcome" in unknown.json()


def test_the_report_is_a_streamed_csv_download(api_as, viewer, offline):
    _, job, _ = offline

    response = api_as(viewer).get(f"{JOBS}{job.pk}/report/")

    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    assert response["Content-Disposition"] == f'attachment; filename="reencrypt-{job.pk}-ledger.csv"'
    rows = list(csv.reader(io.StringIO(body(response))))
    assert rows[0] == list(selectors.REPORT_COLUMNS)
    assert rows[1][:3] == ["data/broken.csv", "7", "failed"]


def test_unknown_jobs_and_schedules_are_404(api_as, operator, db):
    client = api_as(operator)
    for method, url in [
        ("get", f"{JOBS}999999/"),
        ("post", f"{JOBS}999999/pause/"),
        ("get", f"{JOBS}999999/report/"),
        ("get", f"{SCHEDULES}999999/"),
        ("post", f"{SCHEDULES}999999/run-now/"),
        ("get", f"{JOBS}not-a-number/"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
        assert "detail" in response.json()


def test_the_openapi_schema_describes_jobs_and_schedules(api_as, viewer):
    schema = api_as(viewer).get("/api/v1/schema/", {"format": "json"}).json()

    for path in [
        "/api/v1/jobs/",
        "/api/v1/jobs/{id}/",
        "/api/v1/jobs/{id}/pause/",
        "/api/v1/jobs/{id}/resume/",
        "/api/v1/jobs/{id}/cancel/",
        "/api/v1/jobs/{id}/retry-failed/",
        "/api/v1/jobs/{id}/report/",
        "/api/v1/jobs/{id}/outcomes/",
        "/api/v1/schedules/",
        "/api/v1/schedules/{id}/",
        "/api/v1/schedules/{id}/run-now/",
    ]:
        assert path in schema["paths"], path
    assert "text/csv" in schema["paths"]["/api/v1/jobs/{id}/report/"]["get"]["responses"]["200"]["content"]
    detail = schema["components"]["schemas"]["JobDetail"]["properties"]
    assert {"progress", "plan", "summary"} <= set(detail)


# Against localcloud, no worker: jobs stay where the API puts them.


def test_a_job_posted_by_an_operator_runs_with_its_target_and_cleaned_prefixes(cloud_connection, api_as, operator):
    new_bucket(cloud_connection, "ledger")

    created = api_as(operator).post(
        JOBS, job_payload(cloud_connection, prefixes=["data/", "data/2026/", " "]), format="json"
    )

    assert created.status_code == 201, created.content
    job = created.json()
    assert job["state"] == "running" and job["kind"] == "reencrypt" and job["dry_run"] is False
    assert job["prefixes"] == ["data/"]
    assert job["target"]["method"] == "oss" and job["target"]["algorithm"] == "AES256"
    assert job["created_by"] == operator.username
    assert set(job["progress"]) >= {"objects_total", "total_known", "percent", "eta_seconds", "outcomes"}


# Steering a job: state changes are database work (no cloud, no worker), so a job is made in the state needed.


@pytest.fixture
def job_in(offline):
    """A factory of jobs in a given state, on the offline connection."""
    connection, _, _ = offline

    def make(state: str) -> Job:
        return Job.objects.create(connection=connection, bucket="ledger", state=state, copy_threshold=1 << 30)

    return make


@pytest.mark.parametrize(
    "state, action, now",
    [
        (Job.RUNNING, "pause", "paused"),
        (Job.PAUSED, "resume", "running"),
        (Job.RUNNING, "cancel", "cancelled"),
        (Job.PAUSED, "cancel", "cancelled"),
    ],
)
def test_an_operator_pauses_resumes_and_cancels_a_job_in_a_state_that_allows_it(
    api_as, operator, job_in, state, action, now
):
    job = job_in(state)

    changed = api_as(operator).post(f"{JOBS}{job.pk}/{action}/")

    assert changed.status_code == 200, changed.content
    assert changed.json()["state"] == now


@pytest.mark.parametrize(
    "state, action, reason",
    [
        (Job.PAUSED, "pause", "paused"),
        (Job.RUNNING, "resume", "running"),
        (Job.RUNNING, "retry-failed", "once it ends"),
        (Job.CANCELLED, "cancel", "cancelled"),
        (Job.CANCELLED, "pause", "cancelled"),
        (Job.CANCELLED, "retry-failed", "no failed objects"),
    ],
)
def test_a_state_change_the_jobs_state_does_not_allow_is_a_409_saying_why(
    api_as, operator, job_in, state, action, reason
):
    job = job_in(state)

    refused = api_as(operator).post(f"{JOBS}{job.pk}/{action}/")

    assert refused.status_code == 409
    assert reason in refused.json()["detail"].lower()
    assert Job.objects.get(pk=job.pk).state == state


def test_the_job_list_filters_by_state_and_by_being_active(api_as, operator, job_in):
    running, paused, cancelled = job_in(Job.RUNNING), job_in(Job.PAUSED), job_in(Job.CANCELLED)
    client = api_as(operator)

    def ids(**query) -> set[int]:
        return {job["id"] for job in client.get(JOBS, query).json()["results"]}

    assert ids(state="cancelled") == {cancelled.pk}
    assert ids(active="true") == {running.pk, paused.pk}


def test_retry_failed_starts_a_job_over_the_failed_objects(cloud_connection, api_as, operator):
    new_bucket(cloud_connection, "ledger")
    client = api_as(operator)
    spec = services.Spec(target_mode="explicit", target_method="oss", target_algorithm="AES256")
    job = services.create_job(actor=operator, connection=cloud_connection, bucket="ledger", spec=spec)
    Job.objects.filter(pk=job.pk).update(state=Job.COMPLETED_WITH_ERRORS)
    ObjectOutcome.objects.create(job=job, key="data/a.csv", outcome=ObjectOutcome.FAILED, reason="KMS throttled")

    retried = client.post(f"{JOBS}{job.pk}/retry-failed/")

    assert retried.status_code == 201, retried.content
    assert retried.json()["retry_of"] == job.pk and retried.json()["state"] == "running"
    assert retried.json()["progress"]["objects_total"] == 1
    assert retried.json()["target_method"] == "oss"


def test_bad_job_requests_are_refused_with_reasons(cloud_connection, api_as, operator):
    new_bucket(cloud_connection, "ledger")
    client = api_as(operator)

    def post(**changes):
        return client.post(JOBS, job_payload(cloud_connection) | changes, format="json")

    shapes = post(kind="defrag", prefixes="data/", min_size=-1, concurrency="many")
    assert shapes.status_code == 400
    assert {"kind", "prefixes", "min_size", "concurrency"} <= set(shapes.json())
    assert post(connection=987654).status_code == 400
    assert "connection" in post(connection=987654).json()
    unknown = post(bucket="no-such-bucket")
    assert unknown.status_code == 404 and "no-such-bucket" in unknown.json()["detail"]
    no_default = post(target_mode="bucket-default", target_method="", target_algorithm="")
    assert no_default.status_code == 400 and "no default encryption" in no_default.json()["detail"]
    too_fast = post(concurrency=0)
    assert too_fast.status_code == 400 and "concurrency" in too_fast.json()["detail"]
    assert not Job.objects.exists()


@pytest.fixture
def ledger_schedule(cloud_connection, api_as, operator) -> dict:
    """A schedule an operator created through the API (nightly at 2:00), as the API answered it."""
    new_bucket(cloud_connection, "ledger")
    created = api_as(operator).post(SCHEDULES, schedule_payload(cloud_connection), format="json")
    assert created.status_code == 201, created.content
    return created.json()


def schedule_url(schedule: dict) -> str:
    return f"{SCHEDULES}{schedule['id']}/"


def test_a_created_schedule_shows_its_crontab_next_run_connection_and_creator(ledger_schedule, operator):
    assert ledger_schedule["crontab"] == "0 2 * * *" and ledger_schedule["interval_minutes"] is None
    assert ledger_schedule["next_run"] and ledger_schedule["last_runs"] == []
    assert ledger_schedule["connection_name"] == "local" and ledger_schedule["created_by"] == operator.username


def test_switching_a_schedule_to_an_interval_drops_its_crontab(ledger_schedule, api_as, operator):
    switched = api_as(operator).patch(schedule_url(ledger_schedule), {"interval_minutes": 30}, format="json")

    assert switched.status_code == 200, switched.content
    assert switched.json()["crontab"] == "" and switched.json()["interval_minutes"] == 30


def test_a_disabled_schedule_has_no_next_run(ledger_schedule, api_as, operator):
    disabled = api_as(operator).patch(schedule_url(ledger_schedule), {"enabled": False}, format="json")

    assert disabled.json()["enabled"] is False and disabled.json()["next_run"] is None


def test_put_replaces_the_whole_schedule_enabled_unless_it_says_otherwise(
    ledger_schedule, cloud_connection, api_as, operator
):
    client = api_as(operator)
    client.patch(schedule_url(ledger_schedule), {"enabled": False, "interval_minutes": 30}, format="json")

    weekly = schedule_payload(cloud_connection, name="weekly ledger", crontab="0 3 * * 0")
    replaced = client.put(schedule_url(ledger_schedule), weekly, format="json")

    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["name"] == "weekly ledger" and replaced.json()["crontab"] == "0 3 * * 0"
    assert replaced.json()["enabled"] is True and replaced.json()["interval_minutes"] is None


def test_run_now_starts_a_job_of_the_schedule(ledger_schedule, api_as, operator):
    client = api_as(operator)

    started = client.post(f"{schedule_url(ledger_schedule)}run-now/")

    assert started.status_code == 201
    assert started.json()["outcome"] == "started" and started.json()["job"]
    jobs = client.get(JOBS, {"schedule": ledger_schedule["id"]}).json()
    assert [job["id"] for job in jobs["results"]] == [started.json()["job"]]


def test_run_now_while_the_schedules_job_still_runs_is_recorded_as_skipped(ledger_schedule, api_as, operator):
    client = api_as(operator)
    client.post(f"{schedule_url(ledger_schedule)}run-now/")

    skipped = client.post(f"{schedule_url(ledger_schedule)}run-now/")

    assert skipped.status_code == 201
    assert skipped.json()["outcome"] == "skipped" and "still running" in skipped.json()["reason"]
    runs = client.get(schedule_url(ledger_schedule)).json()["last_runs"]
    assert [run["outcome"] for run in runs] == ["skipped", "started"]


def test_a_deleted_schedule_is_gone(ledger_schedule, api_as, operator):
    client = api_as(operator)

    assert client.delete(schedule_url(ledger_schedule)).status_code == 204
    assert client.get(schedule_url(ledger_schedule)).status_code == 404


def test_no_schedule_answer_carries_the_connection_secret(ledger_schedule, cloud_connection, api_as, operator):
    client = api_as(operator)
    url = schedule_url(ledger_schedule)

    answers = [
        client.get(SCHEDULES),
        client.get(url),
        client.patch(url, {"interval_minutes": 30}, format="json"),
        client.post(f"{url}run-now/"),
        client.get(JOBS, {"schedule": ledger_schedule["id"]}),
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 201, 200]
    for answer in answers:
        assert cloud_connection.access_key_secret not in body(answer)


def test_bad_schedules_are_refused_with_clear_messages(cloud_connection, api_as, operator):
    new_bucket(cloud_connection, "ledger")
    client = api_as(operator)

    def post(**changes):
        return client.post(SCHEDULES, schedule_payload(cloud_connection) | changes, format="json")

    invalid = post(crontab="61 * * * *")
    assert invalid.status_code == 400 and invalid["Content-Type"] == "application/json"
    assert invalid.json()["detail"].startswith("Crontab '61 * * * *' is not valid")
    assert "five fields" in post(crontab="0 2 * *").json()["detail"]
    assert "not both" in post(interval_minutes=60).json()["detail"]
    assert "not both" in post(crontab="").json()["detail"]
    assert "name" in post(name="").json()
    assert post().status_code == 201
    assert "already a schedule" in post().json()["detail"]
    assert Schedule.objects.count() == 1


def test_a_crontab_celery_cannot_parse_is_refused_too(cloud_connection, api_as, operator):
    new_bucket(cloud_connection, "ledger")

    refused = api_as(operator).post(SCHEDULES, schedule_payload(cloud_connection, crontab="- - - - -"), format="json")

    assert refused.status_code == 400 and "is not valid" in refused.json()["detail"]


# With a real worker: jobs followed to their end through the API alone.


def follow(client, job_id: int, timeout: float = 60.0) -> dict:
    """The job as the API shows it once it finished, polled the way an API client would."""
    seen = []

    def finished() -> dict | None:
        seen.append(client.get(f"{JOBS}{job_id}/").json())
        return seen[-1] if seen[-1]["state"] in Job.FINISHED_STATES else None

    return wait_until(finished, timeout=timeout, message=f"job {job_id} to finish", observe=lambda: seen[-1]["state"])


@pytest.mark.slow
def test_a_dry_run_a_real_run_and_a_scan_followed_through_the_api(cloud_connection, worker, api_as, operator):
    fill(new_bucket(cloud_connection, "planned"), 10)
    client = api_as(operator)
    sm4 = {"target_method": "oss", "target_algorithm": "SM4"}

    dry = client.post(JOBS, job_payload(cloud_connection, "planned", dry_run=True, **sm4), format="json").json()
    dry = follow(client, dry["id"])
    assert dry["state"] == "completed"
    assert dry["plan"]["objects"] == 8 and dry["plan"]["compliant"] == 2 and dry["plan"]["skipped"] == {}
    assert dry["plan"]["requests"] == 2 * 10 + 8 and dry["plan"]["duration"]
    assert dry["progress"]["percent"] == 100.0 and dry["progress"]["objects_done"] == 10
    assert dry["progress"]["outcomes"]["planned"]["objects"] == 8

    full = {**sm4, "check_after_copy": "full"}
    real = client.post(JOBS, job_payload(cloud_connection, "planned", **full), format="json").json()
    real = follow(client, real["id"])
    assert real["state"] == "completed" and real["plan"] is None and real["check_after_copy"] == "full"
    assert real["progress"]["requests_per_object"] >= 3.6  # HEAD, ACL, copy and HEAD; HEAD and ACL if compliant
    assert real["progress"]["outcomes"]["reencrypted"]["objects"] == 8
    assert real["progress"]["errors"] == 0 and real["progress"]["total_known"] is True
    report = client.get(f"{JOBS}{real['id']}/report/")
    rows = list(csv.reader(io.StringIO(body(report))))
    assert rows[0] == list(selectors.REPORT_COLUMNS)
    assert ["(total reencrypted)", "reencrypted", "8 objects"] in [[row[0], row[2], row[4]] for row in rows]
    # The verification scan starts right after the job's state turns final, so it is waited for.
    [verification] = wait_until(
        lambda: client.get(JOBS, {"kind": "scan"}).json()["results"], message=f"the scan verifying job {real['id']}"
    )
    assert verification["verifies"] == real["id"] and verification["target"]["label"] == "OSS-managed SM4"
    verification = follow(client, verification["id"])
    assert verification["summary"]["compliant_percent"] == 100.0 and verification["summary"]["outdated_by"] == []

    scan = client.post(JOBS, job_payload(cloud_connection, "planned", kind="scan", **sm4), format="json").json()
    scan = follow(client, scan["id"])
    assert scan["state"] == "completed" and scan["summary"]["compliant_percent"] == 100.0
    assert scan["summary"]["objects"] == 10 and len(scan["summary"]["states"]) == 1
    assert client.get(JOBS, {"kind": "scan"}).json()["count"] == 2
    assert client.get(JOBS, {"dry_run": "true"}).json()["count"] == 1
