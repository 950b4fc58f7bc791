"""The console's own cloud calls (pages, API requests, job creation's checks) retry transient failures: up to
3 retries with jittered backoff for calls safe to repeat, none for those that are not, none on top of the job
engine's own retries."""

import logging

import pytest
from django.urls import reverse

from cloud import retries
from cloud.errors import CloudError
from cloud.kms import KmsClient
from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from console.testing.jobs import fill
from jobs.engine import object_worker
from jobs.models import Job


@pytest.fixture
def injected(caplog):
    """How many requests localcloud answered with an injected fault (it logs each one)."""
    caplog.set_level(logging.INFO, logger="localcloud")

    def count() -> int:
        return sum(1 for record in caplog.records if record.getMessage().startswith("injected fault"))

    return count


def test_with_flaky_oss_and_kms_creating_a_job_and_reading_bucket_pages_still_answer_2xx(
    cloud_connection, api_as, client_as, operator, settings, injected
):
    bucket = new_bucket(cloud_connection, "ledger")
    fill(bucket, 5)
    settings.LOCALCLOUD_FAULTS, settings.LOCALCLOUD_FAULTS_SEED = "503:0.3,reset:0.1", 3
    try:
        api = api_as(operator)
        created = api.post(
            "/api/v1/jobs/",
            {
                "connection": cloud_connection.pk,
                "bucket": "ledger",
                "target_mode": "explicit",
                "target_method": "oss",
                "target_algorithm": "AES256",
            },
            format="json",
        )
        listed = api.get(f"/api/v1/buckets/{bucket.pk}/objects/", {"prefix": "data/"})
        pages = client_as(operator)
        detail = pages.get(reverse("buckets:bucket_detail", args=[bucket.pk]))
        objects = pages.get(reverse("buckets:object_list", args=[bucket.pk]))
    finally:
        settings.LOCALCLOUD_FAULTS = ""

    assert created.status_code == 201, created.content
    assert Job.objects.get(pk=created.json()["id"]).state == Job.RUNNING
    assert listed.status_code == 200 and len(listed.json()["objects"]) == 5
    assert detail.status_code == 200 and objects.status_code == 200
    assert injected() > 0  # the faults did strike


def test_a_call_failing_every_time_answers_502_after_exactly_four_attempts(
    cloud_connection, api_as, viewer, settings, injected
):
    bucket = new_bucket(cloud_connection, "down")
    settings.LOCALCLOUD_FAULTS = "503:1"
    try:
        answer = api_as(viewer).get(f"/api/v1/buckets/{bucket.pk}/objects/")
    finally:
        settings.LOCALCLOUD_FAULTS = ""

    assert answer.status_code == 502 and answer.json()["code"] == "ServiceUnavailable"
    assert injected() == retries.ATTEMPTS == 4


def test_calls_that_are_not_safe_to_repeat_are_tried_once(cloud_connection, settings, injected):
    new_bucket(cloud_connection, "once")
    settings.LOCALCLOUD_FAULTS = "503:1"
    try:
        with pytest.raises(CloudError):
            KmsClient(cloud_connection).create_key(description="a lost answer may hide a new key")
        with pytest.raises(CloudError):
            OssClient(cloud_connection).put_object("once", "stream", iter([b"cannot ", b"be replayed"]), {})
    finally:
        settings.LOCALCLOUD_FAULTS = ""

    assert injected() == 2


def test_kms_throttling_is_retried_like_any_transient_failure_and_then_answers_with_kms_words(
    cloud_connection, settings, injected
):
    settings.LOCALCLOUD_FAULTS = "kms-throttle:1"
    try:
        with pytest.raises(CloudError) as refused:
            KmsClient(cloud_connection).probe()
        oss_still_served = OssClient(cloud_connection).list_buckets()
    finally:
        settings.LOCALCLOUD_FAULTS = ""

    error = refused.value
    assert (error.http_status, error.code, error.cloud_message) == (429, "Rejected.Throttling", "QPS Limit Exceeded")
    assert error.throttled and error.status_code == 502
    assert injected() == 4 + 1  # four KMS attempts; the OSS request drew the fault too but was served
    assert oss_still_served == []


def test_the_job_engine_keeps_its_own_retry_policy_and_the_client_does_not_multiply_it(
    cloud_connection, operator, settings, injected
):
    new_bucket(cloud_connection, "engine")
    job = Job.objects.create(connection=cloud_connection, bucket="engine", copy_threshold=1 << 30)
    oss = OssClient(cloud_connection)
    settings.LOCALCLOUD_FAULTS = "503:1"
    try:
        with pytest.raises(CloudError):
            object_worker.call_with_retries(job, oss.head_object, "engine", "missing")
    finally:
        settings.LOCALCLOUD_FAULTS = ""

    assert injected() == object_worker.MAX_ATTEMPTS


def test_oss_refusing_above_its_qps_limit_says_how_long_it_delays_and_leaves_kms_alone(
    cloud_connection, settings, injected
):
    settings.LOCALCLOUD_FAULTS = "qos:1"
    try:
        with pytest.raises(CloudError) as refused:
            OssClient(cloud_connection).list_buckets()
        kms_still_served = KmsClient(cloud_connection).probe()
    finally:
        settings.LOCALCLOUD_FAULTS = ""

    error = refused.value
    assert (error.http_status, error.code, error.qos_delay_ms) == (503, "TotalQpsLimitExceeded", 200)
    assert error.throttled and error.status_code == 502
    assert kms_still_served and injected() == 4 + 1
