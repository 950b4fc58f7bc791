"""Throttling obeyed, not fought: OSS's QPS refusals and KMS's quota slow every worker of the connection down
together (the shared rate halves and climbs back), and the job page and the API say so while it lasts."""

import uuid

import pytest
from django.urls import reverse

from cloud.cse import objects as cse_objects
from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from console.testing.jobs import fill, named_key, wait_for
from console.testing.waits import wait_until
from encryption.services import master_keys
from jobs.engine import limits
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services


@pytest.fixture
def clock(monkeypatch):
    """The limiter's clock, wound forward by hand (the arithmetic, not the waiting, is under test)."""
    now = [1_000_000.0]
    monkeypatch.setattr(limits, "clock", lambda: now[0])
    return now


def a_bucket() -> str:
    return f"test:{uuid.uuid4().hex}"


def test_a_bucket_runs_at_its_cap_until_the_cloud_throttles_it(clock):
    bucket = a_bucket()

    limits.take(bucket, 200)

    assert limits.throttled_rate(bucket, 200) is None


def test_a_throttled_answer_halves_the_rate_and_answers_arriving_within_a_second_count_once(clock):
    bucket = a_bucket()

    first = limits.slow_down(bucket, 200)
    clock[0] += 0.5
    same_burst = limits.slow_down(bucket, 200)
    clock[0] += 0.6
    next_burst = limits.slow_down(bucket, 200)

    assert first == 100.0
    assert same_burst == pytest.approx(100.0 + 0.5 * 200 * limits.RECOVERY_PER_SECOND)
    assert next_burst == pytest.approx((100.0 + 1.1 * 200 * limits.RECOVERY_PER_SECOND) / 2)


def test_the_rate_climbs_back_by_a_twentieth_of_the_cap_per_second_and_then_the_bucket_is_not_throttled(clock):
    bucket = a_bucket()
    limits.slow_down(bucket, 200)

    clock[0] += 4
    climbing = limits.throttled_rate(bucket, 200)
    clock[0] += 6
    recovered = limits.throttled_rate(bucket, 200)

    assert climbing == pytest.approx(100.0 + 4 * 10.0)
    assert recovered is None


def test_the_rate_never_falls_below_one_per_second(clock):
    bucket = a_bucket()

    for _ in range(20):
        clock[0] += limits.CUT_INTERVAL_SECONDS
        rate = limits.slow_down(bucket, 10)  # climbing back 0.5/s between cuts

    assert rate == limits.MIN_RATE


def test_a_bucket_without_a_cap_throttled_runs_at_half_the_uncapped_ceiling_and_takes_tokens_again(clock):
    bucket = a_bucket()
    assert limits.throttled_rate(bucket, 0) is None

    lowered = limits.slow_down(bucket, 0)

    assert lowered == limits.UNCAPPED_CEILING / 2
    assert limits.throttled_rate(bucket, 0) == lowered
    assert limits.take(bucket, 0, count=2) == 0.0  # a full bucket (burst = rate) still has these


def test_a_lowered_rate_spaces_the_tokens_of_every_taker_out(clock):
    bucket = a_bucket()
    limits.slow_down(bucket, 4)  # 2 per second now

    limits.take(bucket, 4, count=2)  # the burst
    wait = limits.take(bucket, 4, count=1)

    assert wait == pytest.approx(0.5)


# Through a real worker and localcloud

TO_KMS = services.Spec(
    target_mode=Job.TARGET_EXPLICIT, target_method="kms", target_algorithm="AES256", target_key_id="alias/jobs"
)


def watch_throttling(job: Job, client, api) -> list[dict]:
    """Poll the job page's progress and the API's detail until either says the job is throttled or it ends."""
    seen = []

    def throttled_or_done():
        live = client.get(reverse("jobs:job_progress", args=[job.pk])).json()
        detail = api.get(f"/api/v1/jobs/{job.pk}/").json()
        if live["throttled"] and detail["throttled"]:
            seen.append({"page": live["throttled"], "api": detail["throttled"]})
        return seen or live["finished"]

    wait_until(throttled_or_done, message=f"job {job.pk} to be throttled or to end", timeout=120, interval=0.05)
    return seen


@pytest.mark.slow
def test_oss_refusing_requests_above_its_qps_limit_slows_the_job_down_and_every_object_is_still_rewritten(
    cloud_connection, worker, operator, client_as, api_as, settings
):
    bucket = new_bucket(cloud_connection, "busy")
    key_id = named_key(cloud_connection)
    keys = fill(bucket, 40)
    settings.LOCALCLOUD_FAULTS, settings.LOCALCLOUD_FAULTS_SEED = "qos:0.1", 11
    try:
        spec = services.Spec(**{**TO_KMS.fields(), "requests_per_second": 100})
        job = services.create_job(actor=operator, connection=cloud_connection, bucket="busy", spec=spec)
        seen = watch_throttling(job, client_as(operator), api_as(operator))
        job = wait_for(job, timeout=120)
    finally:
        settings.LOCALCLOUD_FAULTS = ""

    assert job.state == Job.COMPLETED, list(job.outcomes.values_list("key", "reason"))
    assert seen, "neither the page nor the API said the job was throttled"
    assert seen[0]["page"].startswith("throttled by OSS, running at ")
    [oss_note] = [note for note in seen[0]["api"] if note["service"] == "OSS"]
    assert oss_note["rate"] < 100 and oss_note["note"] == f"throttled by OSS, running at {oss_note['rate']:.0f}/s"
    oss = OssClient(cloud_connection)
    assert all(oss.head_object("busy", key).header("x-oss-server-side-encryption-key-id") == key_id for key in keys)


@pytest.mark.slow
def test_kms_throttling_a_rewrap_slows_its_kms_calls_down_and_every_envelope_is_still_rewrapped(
    cloud_connection, worker, admin, operator, client_as, api_as, settings
):
    new_bucket(cloud_connection, "sealed")
    old = master_keys.add_kms(
        actor=admin, name="old kms", connection=cloud_connection, cmk_id=named_key(cloud_connection, "alias/old")
    )
    new = master_keys.add_kms(
        actor=admin, name="new kms", connection=cloud_connection, cmk_id=named_key(cloud_connection, "alias/new")
    )
    oss = OssClient(cloud_connection)
    contents = {f"deeds/{index:02d}.bin": f"deed {index}".encode() * 50 for index in range(30)}
    for key, content in contents.items():
        cse_objects.put_encrypted(oss, "sealed", key, content, master_keys.wrapper_for(old))
    settings.LOCALCLOUD_FAULTS, settings.LOCALCLOUD_FAULTS_SEED = "kms-throttle:0.2", 5
    try:
        spec = services.Spec(kind=Job.REWRAP, rewrap_from_id=old.pk, rewrap_to_id=new.pk, kms_per_second=40)
        job = services.create_job(actor=operator, connection=cloud_connection, bucket="sealed", spec=spec)
        seen = watch_throttling(job, client_as(operator), api_as(operator))
        job = wait_for(job, timeout=120)
    finally:
        settings.LOCALCLOUD_FAULTS = ""

    assert job.state == Job.COMPLETED, list(job.outcomes.values_list("key", "reason"))
    assert job.outcomes.filter(outcome=ObjectOutcome.FAILED).count() == 0
    assert seen, "neither the page nor the API said the job was throttled"
    assert "throttled by KMS, running at " in seen[0]["page"] and "OSS" not in seen[0]["page"]
    [kms_note] = seen[0]["api"]
    assert kms_note["service"] == "KMS" and kms_note["rate"] < 40
    for key, content in contents.items():
        assert cse_objects.get_decrypted(oss, "sealed", key, master_keys.wrapper_for(new)) == content
