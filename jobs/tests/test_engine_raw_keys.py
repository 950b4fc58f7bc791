"""Keys with control characters (a form feed, \\x01), as OSS takes them, through the console's own listing and a
re-encryption job on a real worker: listed, and re-encrypted in place under their exact key."""

import pytest

from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from console.testing.jobs import named_key, wait_for
from jobs import selectors
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services

pytestmark = pytest.mark.slow

RAW_KEYS = ["logs/form\x0cfeed.csv", "logs/start\x01of heading.csv"]


@pytest.fixture
def raw_bucket(cloud_connection):
    bucket = new_bucket(cloud_connection, "raw-keys")
    oss = OssClient(cloud_connection)
    for key in RAW_KEYS:
        oss.put_object("raw-keys", key, key.encode(), {"x-oss-meta-origin": "lab"})
    return bucket


def test_the_consoles_listing_gives_such_keys_and_their_folder_back_unchanged(cloud_connection, raw_bucket):
    oss = OssClient(cloud_connection)

    top = oss.list_objects("raw-keys")
    inside = oss.list_objects("raw-keys", prefix="logs/")

    assert top.folders == ["logs/"]
    assert [entry.key for entry in inside.objects] == RAW_KEYS


def test_a_re_encryption_job_re_encrypts_and_reports_such_keys(cloud_connection, worker, operator, raw_bucket):
    key_id = named_key(cloud_connection)
    spec = services.Spec(
        target_mode=Job.TARGET_EXPLICIT, target_method="kms", target_algorithm="AES256", target_key_id="alias/jobs"
    )

    job = wait_for(services.create_job(actor=operator, connection=cloud_connection, bucket="raw-keys", spec=spec))

    oss = OssClient(cloud_connection)
    assert job.state == Job.COMPLETED
    assert selectors.progress(job).counts()[ObjectOutcome.REENCRYPTED] == len(RAW_KEYS)
    for key in RAW_KEYS:
        head = oss.head_object("raw-keys", key)
        assert head.header("x-oss-server-side-encryption-key-id") == key_id
        assert (head.user_metadata, b"".join(oss.open_object("raw-keys", key))) == ({"origin": "lab"}, key.encode())
