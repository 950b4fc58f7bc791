"""The engine under trouble: concurrent overwrites, big objects, pause/resume/cancel, disabled keys, dead workers."""

import os
import signal
import threading

import pytest

from cloud.kms import KmsClient
from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from console.testing.jobs import fill, named_key, old_enough, settled, wait_for
from console.testing.waits import wait_until
from console.testing.workers import start_worker_process
from jobs import selectors
from jobs.engine import object_worker, page_worker, report
from jobs.models import Job, JobPage, ObjectOutcome
from jobs.services import jobs as services

pytestmark = pytest.mark.slow

TO_KMS = services.Spec(
    target_mode=Job.TARGET_EXPLICIT, target_method="kms", target_algorithm="AES256", target_key_id="alias/jobs"
)


def content_of(connection, bucket: str, key: str) -> bytes:
    return b"".join(OssClient(connection).open_object(bucket, key))


class OverwritingClient(OssClient):
    """A real client that, just before the copy, has someone else overwrite the object (a real PutObject)."""

    def copy_in_place(self, bucket, key, headers):
        if not getattr(self, "overwritten", False):
            self.overwritten = True
            OssClient(self.connection).put_object(bucket, key, b"written by someone else", {})
        return super().copy_in_place(bucket, key, headers)


def test_an_object_overwritten_between_head_and_copy_is_re_evaluated_and_keeps_the_new_content(
    cloud_connection, operator
):
    bucket = new_bucket(cloud_connection, "raced")
    key_id = named_key(cloud_connection)
    OssClient(cloud_connection).put_object("raced", "report.csv", b"old content", {})
    job = Job(
        connection=cloud_connection,
        bucket="raced",
        requests_per_second=0,
        kms_per_second=0,
        copy_threshold=1024**3,
        resolved_method="kms",
        resolved_algorithm="AES256",
        resolved_key_id=key_id,
    )
    target = object_worker.Target(services.Sse("kms", "AES256", key_id))

    result = object_worker.process(job, OverwritingClient(cloud_connection), target, None, "report.csv")

    assert result.outcome == ObjectOutcome.REENCRYPTED
    assert content_of(cloud_connection, bucket.name, "report.csv") == b"written by someone else"
    head = OssClient(cloud_connection).head_object("raced", "report.csv")
    assert head.header("x-oss-server-side-encryption-key-id") == key_id
    assert result.requests >= 6  # the first HEAD, ACL and refused copy, then HEAD, ACL, copy and check again


def test_objects_written_while_a_job_runs_keep_their_new_content(cloud_connection, worker, operator):
    named_key(cloud_connection)
    keys = fill(new_bucket(cloud_connection, "busy"), 30)
    oss = OssClient(cloud_connection)
    latest: dict[str, bytes] = {}
    stop = threading.Event()

    def keep_writing():
        round_ = 0
        while not stop.is_set():
            for key in keys[::6]:
                latest[key] = f"version {round_} of {key}".encode()
                oss.put_object("busy", key, latest[key], {})
            round_ += 1

    writer = threading.Thread(target=keep_writing)
    job = services.create_job(
        actor=operator,
        connection=cloud_connection,
        bucket="busy",
        spec=services.Spec(**{**TO_KMS.fields(), "requests_per_second": 60}),
    )
    writer.start()
    try:
        job = wait_for(job, timeout=90)
    finally:
        stop.set()
        writer.join()

    assert job.state in (Job.COMPLETED, Job.COMPLETED_WITH_ERRORS)
    assert not job.outcomes.filter(outcome=ObjectOutcome.FAILED).exists()
    for key, content in latest.items():
        assert content_of(cloud_connection, "busy", key) == content


def test_an_object_above_the_copy_threshold_goes_through_multipart_copy_keeping_everything(
    cloud_connection, worker, operator, settings
):
    settings.JOBS_COPY_THRESHOLD_BYTES = 200 * 1024
    settings.JOBS_PART_SIZE_BYTES = 100 * 1024
    new_bucket(cloud_connection, "large")
    key_id = named_key(cloud_connection)
    oss = OssClient(cloud_connection)
    content = os.urandom(450 * 1024)
    oss.put_object(
        "large",
        "big.bin",
        content,
        {
            "Content-Type": "application/x-big",
            "x-oss-meta-origin": "lab",
            "x-oss-tagging": "keep=yes",
            "x-oss-object-acl": "public-read",
            "x-oss-storage-class": "IA",
        },
    )
    before = oss.head_object("large", "big.bin")

    job = wait_for(services.create_job(actor=operator, connection=cloud_connection, bucket="large", spec=TO_KMS))

    after = oss.head_object("large", "big.bin")
    assert job.state == Job.COMPLETED
    assert selectors.progress(job).counts()["reencrypted"] == 1
    assert after.header("x-oss-object-type") == "Multipart"
    assert after.header("x-oss-server-side-encryption-key-id") == key_id
    assert after.header("x-oss-hash-crc64ecma") == before.header("x-oss-hash-crc64ecma")
    assert (after.size, after.user_metadata, after.content_headers, after.storage_class) == (
        before.size,
        before.user_metadata,
        before.content_headers,
        before.storage_class,
    )
    assert oss.object_tags("large", "big.bin") == {"keep": "yes"}
    assert oss.object_acl("large", "big.bin") == "public-read"
    assert content_of(cloud_connection, "large", "big.bin") == content


def test_pause_stops_the_work_resume_finishes_it_and_cancel_leaves_the_rest(cloud_connection, worker, operator):
    named_key(cloud_connection)
    fill(new_bucket(cloud_connection, "steered"), 40)
    slow = services.Spec(**{**TO_KMS.fields(), "requests_per_second": 40, "concurrency": 2})
    job = services.create_job(actor=operator, connection=cloud_connection, bucket="steered", spec=slow)
    wait_until(lambda: selectors.progress(job).objects_done, message=f"job {job.pk} to start")

    services.pause_job(job, operator)
    wait_until(
        lambda: settled(job), message=f"job {job.pk} to settle after the pause"
    )  # the objects in flight are finished
    paused_at = selectors.progress(job).objects_done
    for number in job.pages.filter(state=JobPage.PENDING).values_list("number", flat=True):
        page_worker.run_page(job.pk, number)  # a worker handed a page of the paused job gives it back untouched
    assert selectors.progress(job).objects_done == paused_at < 40
    assert Job.objects.get(pk=job.pk).state == Job.PAUSED

    services.resume_job(job, operator)
    job = wait_for(job, timeout=60)
    assert job.state == Job.COMPLETED and selectors.progress(job).objects_done == 40

    second = services.create_job(
        actor=operator,
        connection=cloud_connection,
        bucket="steered",
        spec=services.Spec(**{**slow.fields(), "target_algorithm": "SM4"}),
    )
    wait_until(lambda: selectors.progress(second).objects_done, message=f"job {second.pk} to start")
    services.cancel_job(second, operator)
    second = wait_for(second, timeout=15)
    assert second.state == Job.CANCELLED
    done = selectors.progress(second).counts()["reencrypted"]
    assert 0 < done < 40
    sm4 = sum(
        OssClient(cloud_connection).head_object("steered", key).header("x-oss-server-side-data-encryption") == "SM4"
        for key in [f"data/object-{index:04d}.csv" for index in range(40)]
    )
    assert sm4 == done


def test_a_job_cancelled_while_paused_counts_the_objects_done_before_the_pause(cloud_connection, worker, operator):
    fill(new_bucket(cloud_connection, "halted"), 20)
    slow = services.Spec(
        target_mode=Job.TARGET_EXPLICIT,
        target_method="oss",
        target_algorithm="SM4",
        requests_per_second=4,
        concurrency=1,
    )
    job = services.create_job(actor=operator, connection=cloud_connection, bucket="halted", spec=slow)
    wait_until(
        lambda: selectors.progress(job).counts()["reencrypted"] >= 2,
        message=f"job {job.pk} to re-encrypt two objects",
        observe=lambda: selectors.progress(job).counts(),
    )
    services.pause_job(job, operator)
    wait_until(lambda: settled(job), message=f"job {job.pk} to settle after the pause")
    done = selectors.progress(job).counts()["reencrypted"]

    services.cancel_job(Job.objects.get(pk=job.pk), operator)

    job = wait_for(job)
    assert job.state == Job.CANCELLED and selectors.progress(job).counts()["reencrypted"] == done
    oss = OssClient(cloud_connection)
    sm4 = [
        oss.head_object("halted", f"data/object-{index:04d}.csv").header("x-oss-server-side-encryption")
        for index in range(20)
    ]
    assert sm4.count("SM4") == 4 + done  # 4 of the 20 were SM4 already


def test_objects_under_a_disabled_key_fail_as_forbidden_by_kms_and_the_job_completes_with_errors(
    cloud_connection, worker, operator
):
    new_bucket(cloud_connection, "locked")
    named_key(cloud_connection)
    old_key = named_key(cloud_connection, "alias/retired")
    oss = OssClient(cloud_connection)
    for index in range(3):
        oss.put_object(
            "locked",
            f"old-{index}",
            b"secret",
            {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": old_key},
        )
    oss.put_object("locked", "plain", b"plain", {})
    KmsClient(cloud_connection).disable_key(old_key)

    job = wait_for(services.create_job(actor=operator, connection=cloud_connection, bucket="locked", spec=TO_KMS))

    assert job.state == Job.COMPLETED_WITH_ERRORS
    failures = list(job.outcomes.filter(outcome=ObjectOutcome.FAILED).values_list("key", "reason", "request_id"))
    assert sorted(key for key, _, _ in failures) == ["old-0", "old-1", "old-2"]
    assert all(reason.startswith("forbidden by kms") and request_id for _, reason, request_id in failures)
    assert selectors.progress(job).counts()["reencrypted"] == 1

    KmsClient(cloud_connection).enable_key(old_key)
    retry = wait_for(services.retry_failed(job, operator))
    assert retry.state == Job.COMPLETED and retry.retry_of_id == job.pk
    assert selectors.progress(retry).counts()["reencrypted"] == 3


def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes_losing_nothing(cloud_connection, operator, settings):
    settings.JOBS_PAGE_SIZE = 10
    settings.JOBS_PAGE_LEASE_SECONDS = 5
    bucket = new_bucket(cloud_connection, "survivor")
    new_bucket(cloud_connection, "evidence")
    key_id = named_key(cloud_connection)
    keys = fill(bucket, 60)
    crcs = {
        key: OssClient(cloud_connection).head_object("survivor", key).header("x-oss-hash-crc64ecma") for key in keys
    }
    slow = services.Spec(
        **{**TO_KMS.fields(), "requests_per_second": 30, "concurrency": 2, "report_bucket": "evidence"}
    )
    first = start_worker_process(settings, JOBS_PAGE_LEASE_SECONDS=5)
    try:
        job = services.create_job(actor=operator, connection=cloud_connection, bucket="survivor", spec=slow)
        wait_until(
            lambda: selectors.progress(job).objects_done >= 8,
            timeout=30,
            message=f"the first worker to do 8 objects of job {job.pk}",
            observe=lambda: selectors.progress(job).objects_done,
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        done_at_kill = selectors.progress(job).objects_done
        assert 0 < done_at_kill < 60
        assert Job.objects.get(pk=job.pk).state == Job.RUNNING

        second = start_worker_process(settings, JOBS_PAGE_LEASE_SECONDS=5)
        try:

            def recovered_and_finished() -> bool:
                page_worker.recover_stalled()  # what beat runs every JOBS_RECOVERY_INTERVAL_SECONDS
                job.refresh_from_db()
                return job.state != Job.RUNNING

            # Polled once a second, as beat would (not faster: each poll is a recovery pass).
            wait_until(
                recovered_and_finished,
                timeout=90,
                interval=1.0,
                message=f"job {job.pk} to finish on the second worker",
                observe=lambda: selectors.progress(job).counts(),
            )
            # The report's manifest follows the job's end, written by the worker that ended it: kept alive until then.
            wait_until(
                lambda: Job.objects.get(pk=job.pk).report_written_at,
                timeout=30,
                message=f"the report manifest of job {job.pk}",
            )
        finally:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)

    counts = selectors.progress(job).counts()
    assert job.state == Job.COMPLETED
    assert counts["objects_done"] == 60
    assert counts["reencrypted"] + counts["compliant"] == 60 and counts["failed"] == 0
    # The page the dead worker left was written again whole by the second one: every object once in the report.
    reported = [row["key"] for row in report.rows_from_cloud(job)]
    assert sorted(reported) == keys
    oss = OssClient(cloud_connection)
    for key in keys:
        head = oss.head_object("survivor", key)
        assert head.header("x-oss-server-side-encryption-key-id") == key_id
        assert head.header("x-oss-hash-crc64ecma") == crcs[key]


def test_injected_server_errors_and_connection_resets_are_retried_and_the_job_completes(
    cloud_connection, worker, operator, settings
):
    bucket = new_bucket(cloud_connection, "flaky")
    key_id = named_key(cloud_connection)
    keys = fill(bucket, 40)
    old_enough(cloud_connection, "flaky", keys[-1])  # no ACL read again: three requests per object, retries aside
    slower = services.Spec(**{**TO_KMS.fields(), "requests_per_second": 100})
    job = services.create_job(actor=operator, connection=cloud_connection, bucket="flaky", spec=slower)
    settings.LOCALCLOUD_FAULTS = "503:0.05,reset:0.01,throttle:0.02"
    settings.LOCALCLOUD_FAULTS_SEED = 7
    try:
        job = wait_for(job, timeout=120)
        counts = selectors.progress(job).counts()
    finally:
        settings.LOCALCLOUD_FAULTS = ""

    assert job.state == Job.COMPLETED, list(job.outcomes.values_list("key", "reason"))
    assert counts["reencrypted"] == 40 and counts["objects_total"] == 40
    assert counts["requests"] > 3 * 40  # the retries show up as requests beyond the three per object
    oss = OssClient(cloud_connection)
    assert all(oss.head_object("flaky", key).header("x-oss-server-side-encryption-key-id") == key_id for key in keys)
