"""Objects a copy onto itself cannot re-encrypt are refused alike by the one-object change and by jobs."""

import oss2
import pytest

from buckets.services import objects as object_services
from cloud.errors import ServiceError
from cloud.oss import OssClient
from cloud.sse import Sse
from console.testing.cloud import new_bucket
from jobs.engine import object_worker
from jobs.models import Job, ObjectOutcome
from localcloud.models import StoredObject

TARGET = Sse("oss", "AES256")


def oss2_bucket(bucket) -> oss2.Bucket:
    connection = bucket.connection
    auth = oss2.AuthV4(connection.access_key_id, connection.access_key_secret)
    return oss2.Bucket(auth, connection.oss_endpoint, bucket.name, region=connection.region)


def make_symlink(bucket):
    # localcloud has no PutSymlink; OSS tells a symlink by its object type, which is all the rule reads.
    oss2_bucket(bucket).put_object("object", b"pointed at")
    StoredObject.objects.filter(bucket__name=bucket.name, key="object").update(object_type="Symlink")


def make_appendable(bucket):
    oss2_bucket(bucket).append_object("object", 0, b"appended")


def make_unrestored_archive(bucket):
    oss2_bucket(bucket).put_object("object", b"cold", headers={"x-oss-storage-class": "Archive"})


@pytest.mark.parametrize(
    "make, reason",
    [
        (make_symlink, "symlink: re-encrypt the object it points to"),
        (make_appendable, "appendable object: a copy would end appending to it"),
        (make_unrestored_archive, "Archive object not restored"),
    ],
)
def test_the_one_object_change_refuses_changing_nothing_and_a_job_skips_for_the_same_reason(
    cloud_connection, operator, make, reason
):
    bucket = new_bucket(cloud_connection, "refusals")
    make(bucket)
    oss = OssClient(cloud_connection)
    before = oss.head_object(bucket.name, "object")

    with pytest.raises(ServiceError) as refused:
        object_services.change_object_encryption(bucket, "object", TARGET, operator)
    job = Job(connection=cloud_connection, bucket=bucket.name, requests_per_second=0, kms_per_second=0)
    result = object_worker.process(job, oss, object_worker.Target(TARGET), None, "object")

    assert refused.value.message == f"object cannot be re-encrypted in place: {reason}."
    assert (result.outcome, result.reason) == (ObjectOutcome.SKIPPED, reason)
    after = oss.head_object(bucket.name, "object")
    assert (after.etag, after.headers.get("x-oss-object-type")) == (
        before.etag,
        before.headers.get("x-oss-object-type"),
    )
    assert after.header("x-oss-server-side-encryption") == ""
