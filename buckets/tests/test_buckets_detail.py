"""A bucket's detail page and API: read live from OSS, with the KMS key that encrypts new objects."""

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from buckets.models import Bucket
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule, OssClient


@pytest.fixture
def vault(cloud_connection):
    """A bucket under KMS SM4 with a chosen key, whose snapshot predates that setting."""
    kms = KmsClient(cloud_connection)
    key, _ = kms.create_key(spec="Aliyun_SM4", description="vault")
    kms.create_alias(key.key_id, "alias/vault")
    oss = OssClient(cloud_connection)
    oss.create_bucket("vault", "IA", "public-read")
    oss.put_encryption("vault", EncryptionRule("KMS", key.key_id, "SM4"))
    bucket = Bucket.objects.create(
        connection=cloud_connection, name="vault", sse_label="None", refreshed_at=timezone.now()
    )
    return bucket, key.key_id


def test_the_detail_page_reads_the_bucket_live(client_as, viewer, vault):
    bucket, key_id = vault

    page = client_as(viewer).get(f"/buckets/{bucket.pk}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "China (Hangzhou) (cn-hangzhou)" in html
    assert "<dt>Storage class</dt><dd>IA</dd>" in html and "<dt>ACL</dt><dd>public-read</dd>" in html
    assert "<dt>Versioning</dt><dd>not enabled</dd>" in html
    assert f'<span class="badge ok">KMS SM4 alias/vault({key_id})</span>' in html
    assert "<dt>Method</dt><dd>KMS</dd>" in html and "<dt>Algorithm</dt><dd>SM4</dd>" in html
    assert f"<dt>CMK ID</dt><dd>{key_id}</dd>" in html
    assert f"<dt>Key</dt><dd>alias/vault({key_id})</dd>" in html
    assert '<span class="badge ok">Enabled</span>' in html and "<dt>Key spec</dt><dd>Aliyun_SM4</dd>" in html
    bucket.refresh_from_db()
    assert (bucket.region, bucket.storage_class, bucket.sse_method) == ("cn-hangzhou", "IA", "kms")


def test_the_detail_page_warns_about_a_disabled_key(client_as, viewer, vault):
    bucket, key_id = vault
    KmsClient(bucket.connection).disable_key(key_id)

    html = client_as(viewer).get(f"/buckets/{bucket.pk}/").content.decode()

    assert '<span class="badge bad">Disabled</span>' in html
    assert "This key is Disabled: uploads that use it, and reads of objects under it, are refused by KMS." in html


def test_the_default_kms_key_is_described_once_oss_created_it(client_as, viewer, cloud_connection):
    oss = OssClient(cloud_connection)
    oss.create_bucket("defaulted")
    oss.put_encryption("defaulted", EncryptionRule("KMS"))
    bucket = Bucket.objects.create(connection=cloud_connection, name="defaulted", refreshed_at=timezone.now())

    client = client_as(viewer)

    before_first_use = client.get(f"/buckets/{bucket.pk}/").content.decode()
    assert "KMS AES256 alias/acs/oss" in before_first_use
    assert "<dt>CMK ID</dt><dd>— (the default CMK alias/acs/oss)</dd>" in before_first_use
    assert "alias/acs/oss: OSS creates this key in cn-hangzhou on first use." in before_first_use
    oss.put_object("defaulted", "first.txt", b"first", {})
    assert "<dt>Key</dt><dd>alias/acs/oss(" in client.get(f"/buckets/{bucket.pk}/").content.decode()


def test_links_follow_the_role_and_the_pages_that_exist(client_as, viewer, operator, vault):
    bucket, _ = vault
    encryption_link = f'href="/buckets/{bucket.pk}/encryption/"'

    assert encryption_link not in client_as(viewer).get(f"/buckets/{bucket.pk}/").content.decode()
    html = client_as(operator).get(f"/buckets/{bucket.pk}/").content.decode()
    assert encryption_link in html
    try:
        objects_url = reverse("buckets:object_list", args=[bucket.pk])
    except NoReverseMatch:
        assert "/objects/" not in html
    else:
        assert f'href="{objects_url}"' in html


def test_a_bucket_gone_from_oss_shows_its_snapshot_with_a_warning(client_as, api_as, viewer, cloud_connection):
    gone = Bucket.objects.create(
        connection=cloud_connection, name="gone-bucket", region="cn-hangzhou", sse_label="None",
        refreshed_at=timezone.now(),
    )  # fmt: skip

    page = client_as(viewer).get(f"/buckets/{gone.pk}/")

    assert page.status_code == 200
    assert "OSS could not describe the bucket: OSS NoSuchBucket" in page.content.decode()
    detail = api_as(viewer).get(f"/api/v1/buckets/{gone.pk}/")
    assert detail.status_code == 200 and detail.json()["problems"][0].startswith("OSS could not describe the bucket")


def test_api_detail_has_the_live_facts_and_the_key(api_as, viewer, vault):
    bucket, key_id = vault

    response = api_as(viewer).get(f"/api/v1/buckets/{bucket.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["bucket"]["encryption"] == {
        "method": "kms",
        "algorithm": "SM4",
        "key_id": key_id,
        "label": f"KMS SM4 alias/vault({key_id})",
        "state": "kms-named",
    }
    assert (body["acl"], body["versioning"], body["problems"]) == ("public-read", "", [])
    assert body["kms_key"]["display_name"] == f"alias/vault({key_id})" and body["kms_key"]["state"] == "Enabled"
    assert bucket.connection.access_key_secret not in response.content.decode()


def test_unknown_buckets_are_404(client_as, api_as, viewer, db):
    assert client_as(viewer).get("/buckets/999999/").status_code == 404
    assert api_as(viewer).get("/api/v1/buckets/999999/").status_code == 404


def test_outsiders_do_not_see_a_bucket(client_as, api_as, outsider, vault):
    bucket, _ = vault

    assert client_as(outsider).get(f"/buckets/{bucket.pk}/").status_code == 403
    assert api_as(outsider).get(f"/api/v1/buckets/{bucket.pk}/").status_code == 403
