"""The engine against OSS's CopyObject limit (5 GiB, lowered here through LOCALCLOUD_COPY_LIMIT_BYTES): objects
above JOBS_COPY_THRESHOLD_BYTES, which is never above the limit, are re-encrypted by multipart copy, which OSS
allows at any size, where the CopyObject that re-encrypts smaller objects would be refused."""

import os

import pytest

from cloud.errors import CloudError
from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from console.testing.jobs import named_key, wait_for
from jobs import selectors
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services

pytestmark = pytest.mark.slow

TO_KMS = services.Spec(
    target_mode=Job.TARGET_EXPLICIT, target_method="kms", target_algorithm="AES256", target_key_id="alias/jobs"
)
COPY_LIMIT = 300 * 1024


@pytest.fixture
def big_object(cloud_connection, settings) -> bytes:
    """450 KiB of unencrypted data in bucket "large", above the lowered CopyObject limit."""
    settings.LOCALCLOUD_COPY_LIMIT_BYTES = COPY_LIMIT
    settings.JOBS_PART_SIZE_BYTES = 100 * 1024
    new_bucket(cloud_connection, "large")
    content = os.urandom(450 * 1024)
    OssClient(cloud_connection).put_object("large", "big.bin", content, {"x-oss-meta-origin": "lab"})
    return content


def test_an_object_above_the_copy_limit_is_re_encrypted_by_multipart_copy_where_copy_object_is_refused(
    cloud_connection, worker, operator, settings, big_object
):
    settings.JOBS_COPY_THRESHOLD_BYTES = 200 * 1024
    key_id = named_key(cloud_connection)
    oss = OssClient(cloud_connection)
    with pytest.raises(CloudError) as refused:
        oss.copy_in_place("large", "big.bin", {"x-oss-server-side-encryption": "KMS"})
    assert (refused.value.http_status, refused.value.code) == (400, "EntityTooLarge")

    job = wait_for(services.create_job(actor=operator, connection=cloud_connection, bucket="large", spec=TO_KMS))

    after = oss.head_object("large", "big.bin")
    assert job.state == Job.COMPLETED
    assert selectors.progress(job).counts()["reencrypted"] == 1
    assert (after.header("x-oss-object-type"), after.header("x-oss-server-side-encryption-key-id")) == (
        "Multipart",
        key_id,
    )
    assert after.user_metadata == {"origin": "lab"}
    assert b"".join(oss.open_object("large", "big.bin")) == big_object


def test_a_copy_threshold_above_the_copy_limit_fails_the_object_with_the_refusal_of_oss(
    cloud_connection, worker, operator, settings, big_object
):
    settings.JOBS_COPY_THRESHOLD_BYTES = 1024**3
    named_key(cloud_connection)

    job = wait_for(services.create_job(actor=operator, connection=cloud_connection, bucket="large", spec=TO_KMS))

    failed = job.outcomes.get(key="big.bin")
    assert job.state == Job.COMPLETED_WITH_ERRORS
    assert (failed.outcome, failed.code) == (ObjectOutcome.FAILED, "EntityTooLarge")
    assert OssClient(cloud_connection).head_object("large", "big.bin").header("x-oss-server-side-encryption") == ""
