"""Scans of versioned buckets (issue 18): current versions are the objects scanned, and the noncurrent versions a
bucket keeps are counted apart, by encryption and against the target, so unencrypted history is never hidden
behind a compliant current state."""

import pytest

from cloud.oss import OssClient
from cloud.sse import Sse
from console.testing.cloud import new_bucket, versioned_bucket
from console.testing.jobs import named_key, wait_for
from jobs import selectors
from jobs.models import Job
from jobs.services import jobs as services

SCAN_FOR_KMS = services.Spec(
    kind=Job.SCAN,
    target_mode=Job.TARGET_EXPLICIT,
    target_method="kms",
    target_algorithm="AES256",
    target_key_id="alias/jobs",
)


def scan(connection, bucket, operator) -> Job:
    return wait_for(services.create_job(actor=operator, connection=connection, bucket=bucket.name, spec=SCAN_FOR_KMS))


def history_of_exposed_objects(bucket, key_id: str, keys: int, older: int) -> None:
    """Each key written `older` times unencrypted, then once more under the CMK: compliant now, exposed history."""
    oss = OssClient(bucket.connection)
    for number in range(keys):
        for generation in range(older):
            oss.put_object(bucket.name, f"k{number}", b"x" * (10 + generation), {})
        oss.put_object(bucket.name, f"k{number}", b"current", Sse("kms", "AES256", key_id).request_headers())


def test_a_scan_counts_noncurrent_versions_apart_by_encryption_and_target(
    cloud_connection, worker, operator, settings, api_as
):
    settings.JOBS_PAGE_SIZE = 4  # versions listed four at a time: keys' versions split across pages
    bucket = versioned_bucket(cloud_connection, "history")
    key_id = named_key(cloud_connection)
    history_of_exposed_objects(bucket, key_id, keys=5, older=2)
    OssClient(cloud_connection).put_object(bucket.name, "k0", b"sm4 now", Sse("oss", "SM4").request_headers())

    job = scan(cloud_connection, bucket, operator)

    summary = selectors.summarise_scan(job)
    assert job.state == Job.COMPLETED and job.versioned
    assert (summary.objects, summary.compliant_objects) == (5, 4)  # k0's current version is OSS-managed SM4 now
    assert summary.history_versions == 11 and summary.exposed_versions == 10
    assert summary.exposed_bytes == 5 * (10 + 11)
    assert {label: versions for label, versions, _ in summary.history} == {
        "None": 10,
        f"KMS AES256 alias/jobs({key_id})": 1,
    }
    body = api_as(operator).get(f"/api/v1/jobs/{job.pk}/").json()["summary"]
    assert (body["history_versions"], body["exposed_versions"], body["exposed_bytes"]) == (11, 10, 105)


def test_delete_markers_are_not_versions_and_the_versions_they_hide_are_history(cloud_connection, worker, operator):
    bucket = versioned_bucket(cloud_connection, "history-deleted")
    named_key(cloud_connection)
    oss = OssClient(cloud_connection)
    oss.put_object(bucket.name, "gone.txt", b"deleted, still kept", {})
    oss.delete_object(bucket.name, "gone.txt")
    oss.put_object(bucket.name, "here.txt", b"current", Sse("kms", "AES256").request_headers())

    summary = selectors.summarise_scan(scan(cloud_connection, bucket, operator))

    assert summary.objects == 1 and summary.history_versions == 1 and summary.exposed_versions == 1
    assert summary.history[0][0] == "None"


def test_a_suspended_bucket_still_has_its_history_counted(cloud_connection, worker, operator):
    bucket = versioned_bucket(cloud_connection, "history-suspended")
    named_key(cloud_connection)
    oss = OssClient(cloud_connection)
    oss.put_object(bucket.name, "a.txt", b"versioned", {})
    oss.put_versioning(bucket.name, "Suspended")
    oss.put_object(bucket.name, "a.txt", b"the null version", {})

    summary = selectors.summarise_scan(scan(cloud_connection, bucket, operator))

    assert summary.objects == 1 and summary.history_versions == 1


def test_the_scan_page_and_the_compliance_views_say_how_much_history_is_exposed(
    cloud_connection, worker, operator, client_as
):
    bucket = versioned_bucket(cloud_connection, "history-pages")
    key_id = named_key(cloud_connection)
    history_of_exposed_objects(bucket, key_id, keys=2, older=3)
    job = scan(cloud_connection, bucket, operator)
    client = client_as(operator)

    scan_page = client.get(f"/jobs/{job.pk}/").content.decode()
    compliance = client.get("/jobs/compliance/").content.decode()
    overview = client.get("/").content.decode()
    bucket_page = client.get(f"/buckets/{bucket.pk}/").content.decode()

    sentence = "6 noncurrent versions (66\xa0bytes), none as targeted; by encryption: None 6 (66\xa0bytes)."
    assert 'id="history-heading"' in scan_page and sentence in scan_page
    assert "Exposed history:" in compliance and sentence in compliance
    assert "Exposed history:" in overview and sentence in bucket_page
    assert "Delete them with a re-encryption" in scan_page and "Expire them with a lifecycle rule" in scan_page


@pytest.mark.parametrize("kind", ["unversioned", "versioned without history"])
def test_a_bucket_without_older_versions_shows_no_exposed_history(cloud_connection, worker, operator, client_as, kind):
    make = new_bucket if kind == "unversioned" else versioned_bucket
    bucket = make(cloud_connection, "history-none" if kind == "unversioned" else "history-empty")
    named_key(cloud_connection)
    OssClient(cloud_connection).put_object(bucket.name, "only.txt", b"once", {})

    job = scan(cloud_connection, bucket, operator)

    summary = selectors.summarise_scan(job)
    assert job.versioned == (kind != "unversioned") and summary.history_versions == 0
    assert "Exposed history:" not in client_as(operator).get("/jobs/compliance/").content.decode()
