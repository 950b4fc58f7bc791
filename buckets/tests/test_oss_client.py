"""The client layers against localcloud over HTTP through the real SDKs."""

import pytest

from cloud.errors import CloudError
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule, OssClient


def test_buckets_encryption_and_objects_round_trip(cloud_connection):
    oss = OssClient(cloud_connection)
    oss.create_bucket("client-check")
    assert "client-check" in [bucket.name for bucket in oss.list_buckets()]
    assert oss.get_encryption("client-check") is None
    oss.put_encryption("client-check", EncryptionRule("KMS", "", "SM4"))
    assert oss.get_encryption("client-check") == EncryptionRule("KMS", "", "SM4")
    details = oss.bucket_details("client-check")
    assert details.summary.region == "cn-hangzhou" and details.rule == EncryptionRule("KMS", "", "SM4")
    oss.put_object("client-check", "a/b.txt", b"hello", {"x-oss-meta-owner": "me", "Content-Type": "text/plain"})
    head = oss.head_object("client-check", "a/b.txt")
    assert head.header("x-oss-server-side-encryption") == "KMS" and head.user_metadata == {"owner": "me"}
    assert b"".join(oss.open_object("client-check", "a/b.txt")) == b"hello"
    page = oss.list_objects("client-check")
    assert page.folders == ["a/"] and page.objects == []


def test_oss_refusals_carry_code_and_request_id(cloud_connection):
    with pytest.raises(CloudError) as refused:
        OssClient(cloud_connection).head_object("no-such-bucket-here", "x")
    assert refused.value.code in ("NoSuchBucket", "HTTP404") and refused.value.status_code == 404


def test_kms_keys_and_refusals(cloud_connection):
    client = KmsClient(cloud_connection)
    key, request_id = client.create_key(description="console test")
    client.create_alias(key.key_id, "alias/console-test")
    assert request_id
    listed = {k.key_id: k for k in client.list_keys()}
    assert listed[key.key_id].aliases == ("alias/console-test",)
    assert listed[key.key_id].display_name == f"alias/console-test({key.key_id})"
    with pytest.raises(CloudError) as refused:
        client.describe_key("no-such-key")
    assert refused.value.service == "kms" and refused.value.request_id and refused.value.status_code == 404


def test_unreachable_endpoints_are_cloud_errors(cloud_connection):
    cloud_connection.oss_endpoint = "http://127.0.0.1:9"
    with pytest.raises(CloudError) as refused:
        OssClient(cloud_connection).list_buckets()
    assert refused.value.code == "RequestError" and refused.value.status_code == 502
    with pytest.raises(CloudError) as refused:
        KmsClient(cloud_connection).probe()
    assert refused.value.code == "RequestError"
