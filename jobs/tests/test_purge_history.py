"""Deleting exposed history (issue 18): a re-encryption of a versioned bucket may, once an object's current version
is as targeted, delete that object's older versions that are not. A dry run plans it; a real run needs the bucket's
name typed; it is audited with its counts, and never touches a current version or an older one already as targeted."""

import pytest

from audit.models import AuditEvent
from cloud.errors import ServiceError
from cloud.oss import OssClient
from cloud.sse import Sse
from console.testing.cloud import new_bucket, versioned_bucket
from console.testing.jobs import named_key, wait_for
from jobs import selectors
from jobs.models import Job
from jobs.services import jobs as services
from jobs.services import schedules

KMS = {"target_mode": Job.TARGET_EXPLICIT, "target_method": "kms", "target_algorithm": "AES256"}
PURGE = services.Spec(**KMS, target_key_id="alias/jobs", purge_history=True)


def versions_of(bucket, key: str) -> list[tuple[bool, bytes, str]]:
    """(current, content, server-side encryption) of each version of `key`, newest first."""
    oss = OssClient(bucket.connection)
    found = []
    for version in oss.list_object_versions(bucket.name, prefix=key).versions:
        if version.key == key and not version.delete_marker:
            head = oss.head_object(bucket.name, key, version.version_id)
            content = b"".join(oss.open_object(bucket.name, key, version.version_id))
            found.append((version.is_latest, content, head.header("x-oss-server-side-encryption")))
    return found


@pytest.fixture
def exposed(cloud_connection):
    """A versioned bucket: a.log with two unencrypted older versions, one under the CMK and an unencrypted current
    one; b.log with one unencrypted version."""
    bucket = versioned_bucket(cloud_connection, "exposed")
    key_id = named_key(cloud_connection)
    oss = OssClient(cloud_connection)
    for content in (b"first", b"second"):
        oss.put_object(bucket.name, "a.log", content, {})
    oss.put_object(bucket.name, "a.log", b"third", Sse("kms", "AES256", key_id).request_headers())
    oss.put_object(bucket.name, "a.log", b"current", {})
    oss.put_object(bucket.name, "b.log", b"only version", {})
    return bucket


def test_a_dry_run_counts_the_older_versions_a_run_would_delete_and_deletes_none(exposed, worker, operator):
    job = wait_for(
        services.create_job(
            actor=operator, connection=exposed.connection, bucket=exposed.name, spec=PURGE, dry_run=True
        )
    )

    progress = selectors.progress(job)
    # a.log: "first" and "second", and "current" once a run's copy supersedes it; b.log: its one version, likewise.
    assert job.state == Job.COMPLETED and (progress.purged_versions, progress.purged_bytes) == (4, 5 + 6 + 7 + 12)
    assert len(versions_of(exposed, "a.log")) == 4


def test_a_run_deletes_older_versions_not_as_targeted_after_the_current_one_is(exposed, worker, operator):
    job = wait_for(
        services.create_job(
            actor=operator,
            connection=exposed.connection,
            bucket=exposed.name,
            spec=PURGE,
            purge_confirmation="exposed",
        )
    )

    assert job.state == Job.COMPLETED and selectors.progress(job).purged_versions == 4
    # The version the copy superseded was unencrypted too: it went with the others; "third" was as targeted.
    assert versions_of(exposed, "a.log") == [(True, b"current", "KMS"), (False, b"third", "KMS")]
    assert versions_of(exposed, "b.log") == [(True, b"only version", "KMS")]
    event = AuditEvent.objects.get(action="job.purge-history", target=f"job:{job.pk}")
    assert event.after == {"versions_deleted": 4, "bytes_deleted": 5 + 6 + 7 + 12}
    verification = selectors.summarise_scan(wait_for(Job.objects.get(verifies=job)))
    assert verification.job.versioned and verification.exposed_versions == 0 and verification.history_versions == 1


def test_without_the_bucket_name_typed_nothing_starts(exposed, operator):
    with pytest.raises(ServiceError, match="type the bucket's name, exposed, to confirm"):
        services.create_job(
            actor=operator, connection=exposed.connection, bucket=exposed.name, spec=PURGE, purge_confirmation="expo"
        )

    assert not Job.objects.exists() and len(versions_of(exposed, "a.log")) == 4
    assert AuditEvent.objects.get(action="job.start").outcome == AuditEvent.FAILURE


def test_a_bucket_that_never_had_versioning_is_refused(cloud_connection, operator):
    new_bucket(cloud_connection, "flat")
    named_key(cloud_connection)

    with pytest.raises(ServiceError, match="never had versioning"):
        services.create_job(
            actor=operator, connection=cloud_connection, bucket="flat", spec=PURGE, purge_confirmation="flat"
        )


def test_a_scan_or_a_schedule_cannot_delete_older_versions(exposed, operator):
    scan = services.Spec(kind=Job.SCAN, purge_history=True)
    with pytest.raises(ServiceError, match="only with a re-encryption"):
        services.create_job(actor=operator, connection=exposed.connection, bucket=exposed.name, spec=scan)
    with pytest.raises(ServiceError, match="one-off re-encryption"):
        schedules.save_schedule(
            actor=operator,
            connection=exposed.connection,
            bucket=exposed.name,
            name="nightly purge",
            spec=PURGE,
            crontab="0 3 * * *",
        )


def test_the_api_takes_the_option_and_its_confirmation(exposed, worker, operator, api_as):
    body = {"connection": exposed.connection.pk, "bucket": exposed.name, **KMS, "target_key_id": "alias/jobs"}
    client = api_as(operator)

    refused = client.post("/api/v1/jobs/", {**body, "purge_history": True}, format="json")
    started = client.post(
        "/api/v1/jobs/", {**body, "purge_history": True, "purge_confirmation": "exposed"}, format="json"
    )

    assert refused.status_code == 400 and "to confirm" in str(refused.json())
    assert started.status_code == 201 and started.json()["purge_history"] is True
    job = wait_for(Job.objects.get(pk=started.json()["id"]))
    answer = client.get(f"/api/v1/jobs/{job.pk}/").json()
    assert answer["progress"]["purged_versions"] == 4 and answer["progress"]["purged_bytes"] == 30
