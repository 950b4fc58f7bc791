"""localcloud reached by a host name, as OSS is: oss2 addresses buckets as `<bucket>.<LOCALCLOUD_DOMAIN>` and the
KMS SDK calls the domain or `kms.<region>.<domain>`. Real HTTP through the unmodified SDKs; only name resolution is
local to the test process (console.testing.hosts)."""

import oss2
import pytest
import requests
from alibabacloud_kms20160120 import models as kms_models
from alibabacloud_kms20160120.client import Client as KmsClient
from alibabacloud_tea_openapi.utils_models import Config
from oss2.models import ServerSideEncryptionRule
from Tea.exceptions import TeaException

from console.testing.hosts import TEST_DOMAIN, endpoint_at, resolving_to_loopback
from localcloud.hosts import Addressed, addressed

REGION = "cn-hangzhou"
NASTY_KEY = "dir/a b+c&d=é.txt"


@pytest.fixture
def named(localcloud, settings):
    """localcloud's endpoint by host name, `http://localcloud.test:<port>`, with LOCALCLOUD_DOMAIN set to it."""
    settings.LOCALCLOUD_DOMAIN = TEST_DOMAIN
    settings.LOCALCLOUD_EXTRA_REGIONS = ["cn-shanghai"]
    with resolving_to_loopback(TEST_DOMAIN):
        yield endpoint_at(TEST_DOMAIN, localcloud)


def sent_to(result) -> str:
    """The URL an oss2 call went to."""
    return result.resp.response.url


def kms_at(endpoint: str, credentials, **config) -> KmsClient:
    host = endpoint.removeprefix("http://")
    return KmsClient(
        Config(
            access_key_id=credentials[0],
            access_key_secret=credentials[1],
            endpoint=host,
            protocol="http",
            region_id=REGION,
            **config,
        )
    )


# -- Which host addresses what


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("photos.localcloud.test:9900", Addressed(bucket="photos")),
        ("Photos.LocalCloud.Test.", Addressed(bucket="photos")),
        ("kms.cn-shanghai.localcloud.test:9900", Addressed(kms_region="cn-shanghai")),
        ("kms.localcloud.test", Addressed(bucket="kms")),
        ("a.b.localcloud.test", Addressed(bucket="a.b")),
        ("localcloud.test:9900", Addressed()),
        ("127.0.0.1:9900", Addressed()),
        ("[::1]:9900", Addressed()),
        ("localhost:9900", Addressed()),
        ("photos.elsewhere.test", Addressed()),
        ("photoslocalcloud.test", Addressed()),
        (".localcloud.test", Addressed()),
        ("[broken", Addressed()),
        ("", Addressed()),
    ],
)
def test_a_host_under_the_domain_names_a_bucket_or_a_kms_region_and_every_other_host_is_path_style(host, expected):
    assert addressed(host, TEST_DOMAIN) == expected


def test_without_a_domain_every_host_is_path_style():
    assert addressed("photos.localcloud.test:9900", "") == Addressed()


# -- OSS through oss2, virtual-hosted


@pytest.mark.parametrize("auth_class", [oss2.Auth, oss2.AuthV2, oss2.AuthV4], ids=["v1", "v2", "v4"])
def test_oss2_with_a_host_name_endpoint_reads_and_writes_objects_in_a_bucket_named_by_the_host(
    named, credentials, auth_class
):
    bucket = oss2.Bucket(auth_class(*credentials), named, f"vhost-{auth_class.__name__.lower()}", region=REGION)

    created = bucket.create_bucket()
    written = bucket.put_object(NASTY_KEY, b"hello", headers={"x-oss-meta-owner": "ops"})
    read = bucket.get_object(NASTY_KEY)

    port = named.rsplit(":", 1)[1]
    assert sent_to(created) == f"http://{bucket.bucket_name}.{TEST_DOMAIN}:{port}/"
    assert sent_to(written).startswith(f"http://{bucket.bucket_name}.{TEST_DOMAIN}:{port}/dir")
    assert read.read() == b"hello" and read.headers["x-oss-meta-owner"] == "ops"
    assert [entry.key for entry in oss2.ObjectIterator(bucket)] == [NASTY_KEY]
    bucket.put_object_acl(NASTY_KEY, oss2.OBJECT_ACL_PUBLIC_READ)
    assert bucket.get_object_acl(NASTY_KEY).acl == oss2.OBJECT_ACL_PUBLIC_READ
    bucket.delete_object(NASTY_KEY)
    assert not bucket.object_exists(NASTY_KEY)


def test_bucket_settings_copies_and_multipart_uploads_work_virtual_hosted(named, credentials, auth_v4):
    bucket = oss2.Bucket(auth_v4, named, "vhost-settings", region=REGION)
    bucket.create_bucket()

    bucket.put_bucket_encryption(ServerSideEncryptionRule(sse_algorithm="SM4"))
    bucket.put_object("source", b"x" * 10)
    bucket.copy_object("vhost-settings", "source", "copy")
    upload_id = bucket.init_multipart_upload("parts").upload_id
    part = bucket.upload_part("parts", upload_id, 1, b"y" * 10)
    bucket.complete_multipart_upload("parts", upload_id, [oss2.models.PartInfo(1, part.etag)])

    assert bucket.get_bucket_encryption().sse_algorithm == "SM4"
    assert bucket.get_object("copy").read() == b"x" * 10
    assert bucket.head_object("copy").headers["x-oss-server-side-encryption"] == "SM4"
    assert bucket.get_object("parts").read() == b"y" * 10


def test_bucket_info_and_bucket_listing_give_the_endpoint_without_the_bucket(named, credentials, auth_v4):
    bucket = oss2.Bucket(auth_v4, named, "vhost-info", region=REGION)
    bucket.create_bucket()

    info = bucket.get_bucket_info()
    listed = oss2.Service(auth_v4, named, region=REGION).list_buckets()

    endpoint = named.removeprefix("http://")
    assert info.extranet_endpoint == endpoint
    assert [(b.name, b.extranet_endpoint) for b in listed.buckets] == [("vhost-info", endpoint)]


def test_a_completed_multipart_upload_is_located_at_the_host_of_its_bucket(named, credentials, auth_v4):
    bucket = oss2.Bucket(auth_v4, named, "vhost-location", region=REGION)
    bucket.create_bucket()
    upload_id = bucket.init_multipart_upload("dir/big file").upload_id
    part = bucket.upload_part("dir/big file", upload_id, 1, b"z")

    completed = bucket.complete_multipart_upload("dir/big file", upload_id, [oss2.models.PartInfo(1, part.etag)])

    location = completed.resp.response.text.split("<Location>")[1].split("</Location>")[0]
    assert location == f"http://vhost-location.{named.removeprefix('http://')}/dir/big%20file"


@pytest.mark.parametrize("auth_class", [oss2.Auth, oss2.AuthV4], ids=["v1", "v4"])
def test_a_presigned_url_of_a_virtual_hosted_object_is_good_for_a_plain_http_client(named, credentials, auth_class):
    bucket = oss2.Bucket(auth_class(*credentials), named, "vhost-presigned", region=REGION)
    bucket.create_bucket()
    bucket.put_object(NASTY_KEY, b"shared")

    url = bucket.sign_url("GET", NASTY_KEY, 60)

    assert url.startswith(f"http://vhost-presigned.{TEST_DOMAIN}:")
    assert requests.get(url, timeout=10).content == b"shared"


def test_path_style_still_works_at_the_bare_domain_and_the_ip(named, localcloud, auth_v4):
    by_name = oss2.Bucket(auth_v4, named, "vhost-paths", region=REGION, is_path_style=True)
    by_name.create_bucket()
    by_name.put_object("k", b"v")

    by_ip = oss2.Bucket(auth_v4, localcloud, "vhost-paths", region=REGION)

    assert sent_to(by_name.head_object("k")) == f"{named}/vhost-paths/k"
    assert by_ip.get_object("k").read() == b"v"


def test_a_host_with_more_labels_than_a_bucket_addresses_no_bucket(named, localcloud, auth_v4):
    oss2.Bucket(auth_v4, localcloud, "vhost-real", region=REGION).create_bucket()
    port = named.rsplit(":", 1)[1]

    answer = requests.get(f"http://vhost-real.extra.{TEST_DOMAIN}:{port}/", timeout=10)

    assert answer.status_code == 404 and b"<Code>NoSuchBucket</Code>" in answer.content


# -- KMS through the KMS SDK


def test_kms_answers_at_the_domain_itself(named, credentials):
    kms = kms_at(named, credentials)

    key = kms.create_key(kms_models.CreateKeyRequest(description="by name")).body.key_metadata
    sealed = kms.encrypt(kms_models.EncryptRequest(key_id=key.key_id, plaintext="c2VjcmV0")).body
    opened = kms.decrypt(kms_models.DecryptRequest(ciphertext_blob=sealed.ciphertext_blob)).body

    assert opened.plaintext == "c2VjcmV0"
    assert key.arn.startswith(f"acs:kms:{REGION}:")


def test_kms_at_a_region_host_works_in_that_region(named, credentials):
    shanghai = kms_at(endpoint_at(TEST_DOMAIN, named, "kms.cn-shanghai"), credentials)
    hangzhou = kms_at(endpoint_at(TEST_DOMAIN, named, f"kms.{REGION}"), credentials)

    key = shanghai.create_key(kms_models.CreateKeyRequest(description="in shanghai")).body.key_metadata

    assert key.arn.startswith("acs:kms:cn-shanghai:")
    listed_in_hangzhou = hangzhou.list_keys(kms_models.ListKeysRequest(page_size=100)).body.keys.key
    assert key.key_id not in [listed.key_id for listed in listed_in_hangzhou]


def test_kms_refuses_a_signing_region_that_is_not_its_hosts(named, credentials):
    shanghai = kms_at(endpoint_at(TEST_DOMAIN, named, "kms.cn-shanghai"), credentials, signature_version="v4")

    with pytest.raises(TeaException) as refused:
        shanghai.list_keys(kms_models.ListKeysRequest())

    assert refused.value.code == "InvalidRegionId"


def test_kms_refuses_a_region_host_of_a_region_it_does_not_serve(named, credentials):
    elsewhere = kms_at(endpoint_at(TEST_DOMAIN, named, "kms.eu-central-1"), credentials)

    with pytest.raises(TeaException) as refused:
        elsewhere.list_keys(kms_models.ListKeysRequest())

    assert refused.value.code == "InvalidRegionId"
