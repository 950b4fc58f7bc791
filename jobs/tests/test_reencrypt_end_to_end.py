"""Re-encryption end to end: a real worker, real Redis, localcloud over HTTP, nothing mocked."""

import pytest

from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from console.testing.jobs import KEPT_HEADERS, fill, named_key, wait_for
from jobs import selectors
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services

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
    counts = selectors.progress(job).counts()
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

    plan = selectors.plan(job)
    assert job.state == Job.COMPLETED
    assert plan.objects == 8 and plan.compliant == 2
    assert plan.requests == 2 * 10 + 8  # HEAD and ACL read of each object, and each copy
    assert {key: OssClient(cloud_connection).head_object("planned", key).etag for key in keys} == etags
    assert not job.outcomes.filter(outcome=ObjectOutcome.REENCRYPTED).exists()


def test_a_scan_counts_objects_and_bytes_per_state_and_lists_what_does_not_match(cloud_connection, worker, operator):
    from cloud.oss import EncryptionRule

    key_id = named_key(cloud_connection)
    new_bucket(cloud_connection, "audited")
    oss = OssClient(cloud_connection)
    oss.put_object("audited", "plain", b"c" * 30, {})  # from before the bucket had a default
    oss.put_encryption("audited", EncryptionRule("KMS", key_id))
    kms_headers = {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": key_id}
    oss.put_object("audited", "ok-1", b"a" * 10, kms_headers)
    oss.put_object("audited", "ok-2", b"b" * 20, kms_headers)
    oss.put_object("audited", "=cmd|calc", b"d" * 5, {"x-oss-server-side-encryption": "AES256"})
    oss.put_object(
        "audited", "cold", b"e" * 7, {"x-oss-server-side-encryption": "AES256", "x-oss-storage-class": "Archive"}
    )
    oss.put_object(
        "audited",
        "sealed",
        b"f" * 9,
        {
            **kms_headers,
            "x-oss-meta-client-side-encryption-key": "d3JhcHBlZA==",
            "x-oss-meta-client-side-encryption-wrap-alg": "RSA/NONE/PKCS1Padding",
        },
    )

    job = wait_for(
        services.create_job(
            actor=operator,
            connection=cloud_connection,
            bucket="audited",
            spec=services.Spec(kind=Job.SCAN, select=Job.SELECT_ALL),
        )
    )
    summary = selectors.summarise_scan(job)

    assert job.state == Job.COMPLETED
    states = {label: (objects, size) for label, objects, size in summary.states}
    assert states[f"KMS AES256 alias/jobs({key_id})"] == (2, 30)
    assert states[f"KMS AES256 alias/jobs({key_id}) + client-side (unknown master key)"] == (1, 9)
    assert states["OSS-managed AES256"] == (2, 12)
    assert (summary.objects, summary.compliant_objects, summary.client_side) == (6, 3, 1)
    assert round(summary.compliant_bytes_percent) == round(100 * 39 / 81)
    kept = dict(job.outcomes.values_list("key", "outcome"))
    assert kept == {
        "plain": ObjectOutcome.NOT_MATCHING,
        "=cmd|calc": ObjectOutcome.NOT_MATCHING,
        "cold": ObjectOutcome.SKIPPED,
    }
    assert job.outcomes.get(key="cold").reason == "Archive object not restored"
    report = list(selectors.report_rows(job))  # as written; the CSV download quotes the formula-like key
    assert ["=cmd|calc", 5] == report[[row[0] for row in report].index("=cmd|calc")][:2]
