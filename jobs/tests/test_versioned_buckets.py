"""Re-encryption in a versioned bucket (issue 18): a job rewrites current versions only and never rolls an object
back. A copy onto itself makes a new current version from the current one, under the ETag the HEAD saw: a version
written meanwhile is never buried under a copy of an older one."""

from cloud.oss import OssClient
from console.testing.cloud import versioned_bucket
from console.testing.jobs import job_to, named_key, wait_for
from jobs import selectors
from jobs.engine import object_worker
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services

TO_KMS = services.Spec(
    target_mode=Job.TARGET_EXPLICIT, target_method="kms", target_algorithm="AES256", target_key_id="alias/jobs"
)


def history(bucket, key: str) -> list[tuple[bool, bytes, str]]:
    """(is current, content, server-side encryption) of every version of `key`, newest first."""
    oss = OssClient(bucket.connection)
    found = []
    for version in oss.list_object_versions(bucket.name, prefix=key).versions:
        if version.key != key or version.delete_marker:
            continue
        head = oss.head_object(bucket.name, key, version_id=version.version_id)
        content = b"".join(oss.open_object(bucket.name, key, version_id=version.version_id))
        found.append((version.is_latest, content, head.header("x-oss-server-side-encryption")))
    return found


class VersionWritingClient(OssClient):
    """Someone writes a new version of the object after the job's HEAD answered and before its copy."""

    written = False

    def head_object(self, bucket, key, version_id=""):
        head = super().head_object(bucket, key, version_id)
        if not self.written:
            self.written = True
            OssClient(self.connection).put_object(bucket, key, b"written during the job", {})
        return head


def test_a_job_rewrites_the_current_version_of_each_object_and_keeps_every_older_one_as_it_was(
    cloud_connection, worker, operator
):
    bucket = versioned_bucket(cloud_connection, "versioned-job")
    key_id = named_key(cloud_connection)
    keys = [f"logs/{number}.log" for number in range(6)]
    oss = OssClient(cloud_connection)
    for key in keys:
        for generation in range(3):
            oss.put_object(bucket.name, key, f"{key} generation {generation}".encode(), {})

    job = wait_for(services.create_job(actor=operator, connection=cloud_connection, bucket=bucket.name, spec=TO_KMS))

    assert job.state == Job.COMPLETED and selectors.progress(job).counts()["reencrypted"] == len(keys)
    for key in keys:
        current, *older = history(bucket, key)
        assert current == (True, f"{key} generation 2".encode(), "KMS")
        assert oss.head_object(bucket.name, key).header("x-oss-server-side-encryption-key-id") == key_id
        assert older == [(False, f"{key} generation {generation}".encode(), "") for generation in (2, 1, 0)]


def test_a_version_written_between_the_head_and_the_copy_stays_the_current_content(cloud_connection):
    bucket = versioned_bucket(cloud_connection, "versioned-race")
    key_id = named_key(cloud_connection)
    OssClient(cloud_connection).put_object(bucket.name, "a.csv", b"as the job found it", {})
    result = object_worker.process(
        job_to(cloud_connection, key_id, bucket.name),
        VersionWritingClient(cloud_connection),
        object_worker.Target(services.Sse("kms", "AES256", key_id)),
        None,
        "a.csv",
    )

    assert result.outcome == ObjectOutcome.REENCRYPTED, result.reason
    assert history(bucket, "a.csv") == [
        (True, b"written during the job", "KMS"),
        (False, b"written during the job", ""),
        (False, b"as the job found it", ""),
    ]


def test_an_object_whose_current_version_is_a_delete_marker_is_skipped_and_stays_deleted(cloud_connection):
    bucket = versioned_bucket(cloud_connection, "versioned-deleted")
    key_id = named_key(cloud_connection)
    oss = OssClient(cloud_connection)
    oss.put_object(bucket.name, "gone.txt", b"deleted after the listing", {})
    oss.delete_object(bucket.name, "gone.txt")

    result = object_worker.process(
        job_to(cloud_connection, key_id, bucket.name),
        OssClient(cloud_connection),
        object_worker.Target(services.Sse("kms", "AES256", key_id)),
        None,
        "gone.txt",
    )

    assert (result.outcome, result.reason) == (ObjectOutcome.SKIPPED, "deleted since it was listed")
    versions = oss.list_object_versions(bucket.name, prefix="gone.txt").versions
    assert [(v.is_latest, v.delete_marker) for v in versions] == [(True, True), (False, False)]
