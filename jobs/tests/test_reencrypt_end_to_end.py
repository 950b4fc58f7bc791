"""Re-encryption end to end: a real worker, real Redis, localcloud over HTTP, nothing mocked."""

import pytest

from buckets.oss import OssClient
from jobs import services
from jobs.models import Job, ObjectOutcome
from jobs.tests.conftest import KEPT_HEADERS, fill, named_key, new_bucket, wait_for

pytestmark = pytest.mark.slow


def snapshot(bucket, keys):
    """What must survive: content CRC64 and size, content headers, metadata, tags, ACL, storage class."""
    oss = OssClient(bucket.connection)
    result = {}
    for key in keys:
        head = oss.head_object(bucket.name, key)
        result[key] = {
            "size": head.size,
            "crc64": head.header("x-oss-hash-crc64ecma"),
            "content": head.content_headers,
            "meta": head.user_metadata,
            "class": head.storage_class,
            "tags": oss.object_tags(bucket.name, key),
            "acl": oss.object_acl(bucket.name, key),
        }
    return result


def test_a_bucket_in_mixed_states_is_brought_to_a_named_kms_key_keeping_everything(cloud_connection, worker, operator):
    bucket = new_bucket(cloud_connection, "mixed")
    key_id = named_key(cloud_connection)
    keys = fill(bucket, 25)
    before = snapshot(bucket, keys)

    job = services.create_job(
        actor=operator,
        connection=cloud_connection,
        bucket="mixed",
        spec=services.Spec(
            target_mode=Job.TARGET_EXPLICIT, target_method="kms", target_algorithm="AES256", target_key_id="alias/jobs"
        ),
    )
    job = wait_for(job)

    assert job.state == Job.COMPLETED, list(job.outcomes.values_list("key", "reason"))
    counts = services.progress(job).counts()
    assert counts["reencrypted"] == 25 and counts["objects_done"] == 25 and counts["objects_total"] == 25
    oss = OssClient(cloud_connection)
    for key in keys:
        head = oss.head_object("mixed", key)
        assert head.header("x-oss-server-side-encryption") == "KMS"
        assert head.header("x-oss-server-side-encryption-key-id") == key_id
    assert snapshot(bucket, keys) == before
    assert before[keys[0]]["tags"] == {"team": "data", "tier": "gold"}
    assert before[keys[0]]["acl"] == "public-read" and before[keys[0]]["class"] == "IA"
    assert before[keys[0]]["content"]["Content-Type"] == KEPT_HEADERS["Content-Type"]


def test_a_dry_run_writes_nothing_and_tells_what_a_run_would_do(cloud_connection, worker, operator):
    bucket = new_bucket(cloud_connection, "planned")
    named_key(cloud_connection)
    keys = fill(bucket, 10)
    etags = {key: OssClient(cloud_connection).head_object("planned", key).etag for key in keys}

    job = services.create_job(
        actor=operator,
        connection=cloud_connection,
        bucket="planned",
        dry_run=True,
        spec=services.Spec(target_mode=Job.TARGET_EXPLICIT, target_method="oss", target_algorithm="SM4"),
    )
    job = wait_for(job)

    plan = services.plan(job)
    assert job.state == Job.COMPLETED
    assert plan.objects == 8 and plan.compliant == 2
    assert plan.requests == 10 + 3 * 8
    assert {key: OssClient(cloud_connection).head_object("planned", key).etag for key in keys} == etags
    assert not job.outcomes.filter(outcome=ObjectOutcome.REENCRYPTED).exists()
