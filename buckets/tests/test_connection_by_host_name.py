"""A connection to localcloud by host name (`http://localcloud.test:<port>`, LOCALCLOUD_DOMAIN set), as a team
reaches a shared instance or a container its service name: the console's OSS calls go virtual-hosted to
`<bucket>.localcloud.test` and its KMS calls to the domain or `kms.<region>.localcloud.test`, and everything the
console does through them works. The connection may call only the domain: loopback addresses are not allowed."""

import pytest

from buckets.models import Bucket
from buckets.services import buckets as bucket_services
from buckets.services import connections as connection_services
from cloud.kms import KmsClient
from cloud.oss import OssClient
from cloud.sse import Sse
from console.testing.cloud import named_key, new_bucket
from console.testing.hosts import TEST_DOMAIN, endpoint_at, resolving_to_loopback
from console.testing.jobs import fill, wait_for
from jobs.models import Job
from jobs.services import jobs as job_services
from localcloud.accesskeys import create_access_key

REGION = "cn-hangzhou"


@pytest.fixture
def endpoint(localcloud, settings):
    """localcloud by host name; the console may call that domain and the names under it, and nothing else."""
    settings.LOCALCLOUD_DOMAIN = TEST_DOMAIN
    settings.CONSOLE_ENDPOINT_ALLOW = [TEST_DOMAIN, f"*.{TEST_DOMAIN}"]
    with resolving_to_loopback(TEST_DOMAIN):
        yield endpoint_at(TEST_DOMAIN, localcloud)


def connect(admin, oss_endpoint: str, kms_endpoint: str = ""):
    """A connection added as an Admin adds one: saved only once its test (ListBuckets, KMS ListKeys) passes."""
    access_key_id, secret = create_access_key("console by host name")
    return connection_services.create_connection(
        actor=admin,
        name="by host name",
        oss_endpoint=oss_endpoint,
        kms_endpoint=kms_endpoint,
        region=REGION,
        access_key_id=access_key_id,
        access_key_secret=secret,
    )


def test_a_connection_by_host_name_passes_its_test_and_lists_its_buckets(endpoint, admin):
    connection = connect(admin, endpoint)
    OssClient(connection).create_bucket("by-name")

    outcome = bucket_services.refresh_buckets(connection)

    assert connection.last_test_ok
    assert outcome.error == ""
    assert list(Bucket.objects.filter(connection=connection).values_list("name", "region")) == [("by-name", REGION)]


def test_a_bucket_default_encryption_is_set_and_read_through_a_host_name_endpoint(endpoint, admin):
    connection = connect(admin, endpoint)
    bucket = new_bucket(connection, "defaults-by-name")
    key_id = named_key(connection, "alias/by-name")

    change = bucket_services.set_default_encryption(bucket, Sse("kms", "AES256", key_id), admin)
    OssClient(connection).put_object(bucket.name, "new", b"sealed by default", {})
    read = bucket_services.read_default_encryption(Bucket.objects.get(pk=bucket.pk))

    assert change.after == Sse("kms", "AES256", key_id)
    assert (read.sse_method, read.sse_algorithm, read.sse_key_id) == ("kms", "AES256", key_id)
    head = OssClient(connection).head_object(bucket.name, "new")
    assert head.header("x-oss-server-side-encryption-key-id") == key_id


def test_a_kms_endpoint_at_the_regions_host_name_serves_that_region(endpoint, admin):
    connection = connect(admin, endpoint, kms_endpoint=endpoint_at(TEST_DOMAIN, endpoint, f"kms.{REGION}"))

    key_id = named_key(connection, "alias/regional")

    assert connection.effective_kms_endpoint.startswith(f"http://kms.{REGION}.{TEST_DOMAIN}:")
    described = [key for key in KmsClient(connection).list_keys() if key.key_id == key_id]
    assert described[0].arn.startswith(f"acs:kms:{REGION}:")


def test_a_reencryption_job_runs_through_a_host_name_endpoint(endpoint, admin, operator, worker):
    connection = connect(admin, endpoint)
    bucket = new_bucket(connection, "job-by-name")
    key_id = named_key(connection, "alias/jobs")
    keys = fill(bucket, 12)

    job = job_services.create_job(
        actor=operator,
        connection=connection,
        bucket=bucket.name,
        spec=job_services.Spec(
            target_mode=Job.TARGET_EXPLICIT, target_method="kms", target_algorithm="AES256", target_key_id="alias/jobs"
        ),
    )
    job = wait_for(job)

    assert job.state == Job.COMPLETED, list(job.outcomes.values_list("key", "reason"))
    oss = OssClient(connection)
    for key in keys:
        assert oss.head_object(bucket.name, key).header("x-oss-server-side-encryption-key-id") == key_id
