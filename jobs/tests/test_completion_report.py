"""The completion report: every job can leave one CSV row per object it visited in a bucket the operator chose,
written page by page as gzip parts with a manifest, linked from the job page and the API, readable by retry-failed."""

import csv
import gzip
import hashlib
import io
import json
import logging
import os
import signal
import time

import psutil
import pytest

from cloud.errors import ServiceError
from cloud.kms import KmsClient
from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from console.testing.jobs import fill, named_key, wait_for
from console.testing.objects import clone, put
from console.testing.waits import wait_until
from console.testing.workers import start_worker_process
from jobs import selectors
from jobs.engine import report
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services

TO_AES256 = services.Spec(target_mode=Job.TARGET_EXPLICIT, target_method="oss", target_algorithm="AES256")


def report_rows(job: Job) -> list[dict]:
    """The report as the console's download gives it: one gzip file, header first."""
    text = gzip.decompress(b"".join(selectors.completion_report_download(job))).decode()
    return list(csv.DictReader(io.StringIO(text)))


def stored(connection, bucket: str, key: str) -> bytes:
    return b"".join(OssClient(connection).open_object(bucket, key))


@pytest.mark.slow
def test_a_re_encryption_of_a_mixed_bucket_reports_each_object_before_and_after_with_the_copy_request_id(
    cloud_connection, worker, operator, caplog
):
    caplog.set_level(logging.INFO, logger="localcloud.oss")
    bucket = new_bucket(cloud_connection, "mixed")
    new_bucket(cloud_connection, "evidence")
    named_key(cloud_connection)
    keys = fill(bucket, 25)  # cycling through None, AES256, SM4, KMS, KMS SM4; pages of 10

    spec = services.Spec(**{**TO_AES256.fields(), "report_bucket": "evidence", "report_prefix": "audit/"})
    job = wait_for(services.create_job(actor=operator, connection=cloud_connection, bucket="mixed", spec=spec))

    assert job.state == Job.COMPLETED
    rows = {row["key"]: row for row in report_rows(job)}
    assert sorted(rows) == keys
    unencrypted = rows["data/object-0000.csv"]
    assert (unencrypted["encryption_before"], unencrypted["method_before"]) == ("None", "none")
    assert (unencrypted["method_after"], unencrypted["algorithm_after"]) == ("oss", "AES256")
    assert unencrypted["outcome"] == ObjectOutcome.REENCRYPTED and unencrypted["at"].endswith("Z")
    assert unencrypted["size"] == str(OssClient(cloud_connection).head_object("mixed", "data/object-0000.csv").size)
    already = rows["data/object-0001.csv"]
    assert already["outcome"] == ObjectOutcome.COMPLIANT and already["method_before"] == already["method_after"]
    assert already["request_id"], "an object not copied carries the request id of its HEAD"
    copies = [line for line in caplog.messages if line.startswith("PUT ") and "object-0000.csv" in line]
    assert any(unencrypted["request_id"] in line for line in copies), "the copy's request id, as localcloud logged it"

    manifest = json.loads(stored(cloud_connection, "evidence", f"audit/job-{job.pk}/manifest.json"))
    assert manifest["rows"] == 25 and manifest["complete"] and manifest["header"] == list(report.COLUMNS)
    assert [part["key"] for part in manifest["parts"]] == [f"audit/job-{job.pk}/part-{n:06d}.csv.gz" for n in range(3)]
    for part in manifest["parts"]:
        assert hashlib.sha256(stored(cloud_connection, "evidence", part["key"])).hexdigest() == part["sha256"]
    assert manifest["counts"]["reencrypted"] == 20 and manifest["counts"]["compliant"] == 5
    head = OssClient(cloud_connection).head_object("evidence", manifest["parts"][0]["key"])
    assert head.header("x-oss-server-side-encryption") == "", "written with the report bucket's default: none here"


@pytest.mark.slow
def test_failures_carry_their_reason_and_retry_failed_reads_the_keys_from_the_report(
    cloud_connection, worker, operator
):
    new_bucket(cloud_connection, "locked")
    new_bucket(cloud_connection, "evidence")
    old_key = named_key(cloud_connection, "alias/retired")
    oss = OssClient(cloud_connection)
    for index in range(3):
        kms = {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": old_key}
        oss.put_object("locked", f"=old-{index}", b"secret", kms)  # keys a spreadsheet would run as formulas
    oss.put_object("locked", "plain", b"plain", {})
    KmsClient(cloud_connection).disable_key(old_key)
    spec = services.Spec(**{**TO_AES256.fields(), "report_bucket": "evidence"})

    job = wait_for(services.create_job(actor=operator, connection=cloud_connection, bucket="locked", spec=spec))

    assert job.state == Job.COMPLETED_WITH_ERRORS
    failed = [row for row in report_rows(job) if row["outcome"] == ObjectOutcome.FAILED]
    assert sorted(row["key"] for row in failed) == ["'=old-0", "'=old-1", "'=old-2"], "formula-guarded in the CSV"
    assert all(row["reason"].startswith("forbidden by kms") and row["request_id"] for row in failed)

    KmsClient(cloud_connection).enable_key(old_key)
    job.outcomes.all().delete()  # only the report knows the failures now
    retry = wait_for(services.retry_failed(job, operator, from_report=True))
    assert retry.retry_keys == ["=old-0", "=old-1", "=old-2"]
    assert retry.state == Job.COMPLETED and selectors.progress(retry).counts()["reencrypted"] == 3
    with pytest.raises(ServiceError, match="no failed objects"):
        services.retry_failed(job, operator)


@pytest.mark.slow
def test_scans_and_dry_runs_write_their_report_too_and_the_job_page_links_it(
    cloud_connection, worker, operator, client_as
):
    bucket = new_bucket(cloud_connection, "planned")
    new_bucket(cloud_connection, "evidence")
    fill(bucket, 5)
    where = {"report_bucket": "evidence", "report_prefix": "plans"}
    dry_run = services.create_job(
        actor=operator,
        connection=cloud_connection,
        bucket="planned",
        dry_run=True,
        spec=services.Spec(**{**TO_AES256.fields(), **where}),
    )
    scan = services.create_job(
        actor=operator, connection=cloud_connection, bucket="planned", spec=services.Spec(kind=Job.SCAN, **where)
    )
    wait_for(dry_run), wait_for(scan)

    assert {row["outcome"] for row in report_rows(dry_run)} == {ObjectOutcome.PLANNED, ObjectOutcome.COMPLIANT}
    assert {row["outcome"] for row in report_rows(scan)} == {ObjectOutcome.COMPLIANT, ObjectOutcome.NOT_MATCHING}
    page = client_as(operator).get(f"/jobs/{dry_run.pk}/")
    assert f"evidence/plans/job-{dry_run.pk}/".encode() in page.content and b"5 rows in 1 parts" in page.content
    download = client_as(operator).get(f"/jobs/{dry_run.pk}/objects.csv.gz")
    assert download["Content-Type"] == "application/gzip"
    assert gzip.decompress(b"".join(download.streaming_content)).decode().count("\n") == 6


def test_a_report_location_among_the_jobs_own_objects_is_refused(cloud_connection, operator):
    new_bucket(cloud_connection, "ledger")
    new_bucket(cloud_connection, "evidence")

    def start(**where):
        spec = services.Spec(**{**TO_AES256.fields(), **where})
        return services.create_job(actor=operator, connection=cloud_connection, bucket="ledger", spec=spec)

    with pytest.raises(ServiceError, match=r"ledger/reports/ is among the objects this job works on \(the whole"):
        start(report_bucket="ledger", report_prefix="reports")
    with pytest.raises(ServiceError, match=r"among the objects this job works on \(rep\)"):
        start(report_bucket="ledger", report_prefix="reports/", prefixes=("rep", "data/"))
    with pytest.raises(ServiceError, match="has no bucket 'nowhere' to write the report to"):
        start(report_bucket="nowhere")
    with pytest.raises(ServiceError, match="goes with a report bucket"):
        start(report_prefix="reports")
    beside = start(report_bucket="ledger", report_prefix="reports/", prefixes=("data/",))
    assert (beside.report_bucket, beside.report_prefix) == ("ledger", "reports")
    assert start(report_bucket="evidence").report_bucket == "evidence"


def test_the_api_takes_a_report_location_and_says_where_the_report_is(cloud_connection, operator, api_as):
    new_bucket(cloud_connection, "ledger")
    new_bucket(cloud_connection, "evidence")
    api = api_as(operator)
    body = {"connection": cloud_connection.pk, "bucket": "ledger", **TO_AES256.fields()}

    refused = api.post("/api/v1/jobs/", {**body, "report_bucket": "ledger"}, format="json")
    started = api.post("/api/v1/jobs/", {**body, "report_bucket": "evidence", "report_prefix": "a"}, format="json")

    assert refused.status_code == 400 and "among the objects this job works on" in refused.json()["detail"]
    assert started.status_code == 201, started.json()
    job = started.json()
    assert (job["report_bucket"], job["report_prefix"]) == ("evidence", "a")
    assert job["completion_report"]["folder"] == f"a/job-{job['id']}/"
    parts = api.get(f"/api/v1/jobs/{job['id']}/completion-report/parts/")
    assert parts.status_code == 200 and "results" in parts.json()
    none = api.post("/api/v1/jobs/", body, format="json").json()
    assert none["completion_report"] is None
    assert api.get(f"/api/v1/jobs/{none['id']}/completion-report/download/").status_code == 404


def worker_memory_during(settings, start_job, while_running=lambda job: None) -> tuple[Job, int]:
    """Start a real worker process, run the job `start_job()` starts on it, and return the job once finished with
    how far the worker's resident memory rose above what it held idle (sampled every 0.1 s)."""
    main = start_worker_process(settings)
    try:
        wait_until(lambda: psutil.Process(main.pid).children(), timeout=30, message="the worker's pool process")
        (child,) = psutil.Process(main.pid).children()
        idle = peak = child.memory_info().rss
        job = start_job()
        while job.state not in Job.FINISHED_STATES:
            peak = max(peak, child.memory_info().rss)
            while_running(job)
            time.sleep(0.1)
            job.refresh_from_db()
        if job.report_bucket:  # the worker that ended the job writes the manifest just after: let it
            wait_until(lambda: Job.objects.get(pk=job.pk).report_written_at, message=f"job {job.pk}'s manifest")
            job.refresh_from_db()
    finally:
        os.killpg(main.pid, signal.SIGKILL)
        main.wait(10)
    return job, peak - idle


@pytest.mark.slow
def test_a_scan_of_ten_thousand_objects_reports_every_one_as_it_goes_with_worker_memory_flat(
    cloud_connection, operator, settings, caplog
):
    caplog.set_level(logging.WARNING, logger="localcloud.oss")  # the test's log capture is not the worker's memory
    settings.JOBS_PAGE_SIZE = 100
    bucket = new_bucket(cloud_connection, "many")
    new_bucket(cloud_connection, "evidence")
    put(bucket, "template", b"row\n" * 100)
    clone(bucket, "template", 1_000, "small/")
    clone(bucket, "template", 10_000, "large/")

    def scan(prefix: str):
        spec = services.Spec(
            kind=Job.SCAN, prefixes=(prefix,), requests_per_second=0, report_bucket="evidence", report_prefix="scans"
        )
        return lambda: services.create_job(actor=operator, connection=cloud_connection, bucket="many", spec=spec)

    parts_seen_while_running = set()

    def note_parts(job: Job) -> None:
        listed = OssClient(cloud_connection).list_objects("evidence", f"scans/job-{job.pk}/", delimiter="")
        if job.state == Job.RUNNING:
            parts_seen_while_running.update(entry.key for entry in listed.objects)

    _, small_rise = worker_memory_during(settings, scan("small/"))
    large, large_rise = worker_memory_during(settings, scan("large/"), while_running=note_parts)

    assert large.state == Job.COMPLETED
    manifest = report.manifest(large)
    assert manifest["rows"] == 10_000 and len(manifest["parts"]) == 100
    assert sum(1 for _ in report.rows_from_cloud(large)) == 10_000
    assert report.part_key(large, 0) in parts_seen_while_running, "parts are written as pages finish, not at the end"
    assert large_rise < 2 * small_rise, f"the worker rose {large_rise} B for 10,000 objects, {small_rise} B for 1,000"


def test_a_schedule_keeps_its_report_location_and_hands_it_to_every_job_it_starts(cloud_connection, operator):
    from jobs.services import schedules

    new_bucket(cloud_connection, "ledger")
    new_bucket(cloud_connection, "evidence")
    spec = services.Spec(**{**TO_AES256.fields(), "report_bucket": "evidence", "report_prefix": "nightly/"})

    with pytest.raises(ServiceError, match="among the objects this job works on"):
        schedules.save_schedule(
            actor=operator,
            connection=cloud_connection,
            bucket="ledger",
            name="refused",
            spec=services.Spec(**{**spec.fields(), "report_bucket": "ledger"}),
            interval_minutes=60,
        )
    schedule = schedules.save_schedule(
        actor=operator, connection=cloud_connection, bucket="ledger", name="nightly", spec=spec, interval_minutes=60
    )
    run = schedules.run_schedule(schedule.pk)

    assert (schedule.report_bucket, schedule.report_prefix) == ("evidence", "nightly")
    assert (run.job.report_bucket, run.job.report_prefix) == ("evidence", "nightly")


def test_the_job_form_takes_a_report_location_of_the_connection_and_refuses_one_among_the_jobs_objects(
    cloud_connection, operator, client_as
):
    new_bucket(cloud_connection, "ledger")
    new_bucket(cloud_connection, "evidence")
    form = {
        "connection": cloud_connection.pk,
        "bucket": "ledger",
        "prefixes": "data/",
        "select": "not-matching",
        "target_mode": "explicit",
        "target-method": "oss",
        "target-algorithm": "AES256",
        "concurrency": "4",
        "requests_per_second": "0",
        "kms_per_second": "0",
        "run": "start",
    }
    client = client_as(operator)

    offered = client.get(f"/jobs/new/?connection={cloud_connection.pk}").content.decode()
    refused = client.post("/jobs/new/", {**form, "report_bucket": "ledger", "report_prefix": "data/reports"})
    unknown = client.post("/jobs/new/", {**form, "report_bucket": "elsewhere"})
    started = client.post("/jobs/new/", {**form, "report_bucket": "evidence", "report_prefix": "audit"})

    assert '<option value="" selected>No report</option>' in offered and '<option value="evidence">' in offered
    assert "ledger/data/reports/ is among the objects this job works on (data/)" in refused.content.decode()
    assert "Connection local has no bucket &#x27;elsewhere&#x27; to write the report to" in unknown.content.decode()
    job = Job.objects.get()
    assert started.url == f"/jobs/{job.pk}/" and (job.report_bucket, job.report_prefix) == ("evidence", "audit")


def test_a_manifest_a_dead_worker_left_unwritten_is_written_by_the_periodic_recovery(
    cloud_connection, worker, operator, settings
):
    orphaned = new_bucket(cloud_connection, "orphaned")
    new_bucket(cloud_connection, "evidence")
    for index in range(3):
        put(orphaned, f"o-{index}")
    spec = services.Spec(**{**TO_AES256.fields(), "report_bucket": "evidence", "verify": False})
    job = wait_for(services.create_job(actor=operator, connection=cloud_connection, bucket="orphaned", spec=spec))
    Job.objects.filter(pk=job.pk).update(report_written_at=None)  # as if the worker died before writing it
    job.refresh_from_db()

    with pytest.raises(ServiceError, match="has no manifest yet"):
        services.retry_failed(job, operator, from_report=True)
    assert selectors.completion_report(job).manifest_key == ""
    settings.JOBS_PAGE_LEASE_SECONDS = 0
    assert services.write_missing_manifests() == 1

    job.refresh_from_db()
    assert job.report_written_at and report.manifest(job)["rows"] == 3
    assert selectors.completion_report(job).manifest_key == f"job-{job.pk}/manifest.json"
    assert services.write_missing_manifests() == 0
