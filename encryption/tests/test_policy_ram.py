"""The RAM policy helper: the pure document (encryption.policy), and the same through the service, page and API."""

import html
import json
import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from buckets.models import Bucket
from cloud.errors import NotFound, ServiceError
from cloud.kms import KmsClient
from cloud.oss import OssClient
from cloud.sse import Sse
from encryption import ram_policy
from encryption.services import keys as services

REGION = "cn-hangzhou"
ALL_PURPOSES = ["set_encryption", "upload", "download"]
KMS_KEY_ACTIONS = ["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"]


@pytest.fixture
def bucket(cloud_connection) -> Bucket:
    OssClient(cloud_connection).create_bucket("reports")
    return Bucket.objects.create(
        connection=cloud_connection, name="reports", region=REGION, refreshed_at=timezone.now()
    )


@pytest.fixture
def key(cloud_connection, admin):
    change = services.create_key(
        actor=admin, connection=cloud_connection, region=REGION, spec="Aliyun_AES_256", alias="alias/reports"
    )
    return change.key


def kms_statements(key_arn: str) -> list[dict]:
    return [
        {"Effect": "Allow", "Action": ["kms:List*"], "Resource": ["*"]},
        {"Effect": "Allow", "Action": KMS_KEY_ACTIONS, "Resource": [key_arn]},
    ]


def policy_for(connection, sse: Sse, purposes=ALL_PURPOSES, bucket_name="reports") -> services.RamPolicy:
    return services.ram_policy_for(connection=connection, bucket_name=bucket_name, sse=sse, purposes=purposes)


# The pure document


def test_the_policy_for_oss_managed_encryption_and_every_purpose_is_exact():
    document = ram_policy.ram_policy("logs", Sse("oss", "AES256"), "", ["download", "upload", "set_encryption"])
    assert document == {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:PutBucketEncryption", "oss:GetBucketEncryption"],
                "Resource": ["acs:oss:*:*:logs"],
            },
            {
                "Effect": "Allow",
                "Action": ["oss:PutObject", "oss:GetObject"],
                "Resource": ["acs:oss:*:*:logs/*"],
            },
        ],
    }


def test_each_purpose_asks_only_for_its_own_actions():
    assert ram_policy.ram_policy("logs", Sse("oss", "SM4"), "", ["download"])["Statement"] == [
        {"Effect": "Allow", "Action": ["oss:GetObject"], "Resource": ["acs:oss:*:*:logs/*"]}
    ]
    assert ram_policy.ram_policy("logs", Sse("oss", "SM4"), "", ["set_encryption"])["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["oss:PutBucketEncryption", "oss:GetBucketEncryption"],
            "Resource": ["acs:oss:*:*:logs"],
        }
    ]


def test_sse_kms_adds_the_kms_listing_and_the_four_actions_on_the_cmk():
    arn = "acs:kms:cn-hangzhou:123:key/k1"
    document = ram_policy.ram_policy("logs", Sse("kms", "SM4", "k1"), arn, ["upload"])
    assert document["Statement"] == [
        {"Effect": "Allow", "Action": ["oss:PutObject"], "Resource": ["acs:oss:*:*:logs/*"]},
        *kms_statements(arn),
    ]


@pytest.mark.parametrize(
    "sse, key_arn, purposes, complaint",
    [
        (Sse("oss", "AES256"), "", [], "at least one purpose"),
        (Sse("oss", "AES256"), "", ["delete"], "Unknown purpose 'delete'"),
        (Sse("kms", "AES256"), "", ["upload"], "needs the ARN"),
    ],
)
def test_an_incomplete_request_is_refused(sse, key_arn, purposes, complaint):
    with pytest.raises(ServiceError, match=complaint):
        ram_policy.ram_policy("logs", sse, key_arn, purposes)


# Through the service: the key ARN comes from KMS


def test_a_named_key_is_named_by_its_arn(cloud_connection, bucket, key):
    result = policy_for(cloud_connection, Sse("kms", "AES256", key.key_id), ["upload", "download"])
    assert result.key_arn == key.arn and key.arn.startswith(f"acs:kms:{REGION}:")
    assert result.document["Statement"][-2:] == kms_statements(key.arn)
    assert result.notes == ()
    assert policy_for(cloud_connection, Sse("kms", "AES256", "alias/reports")).key_arn == key.arn


def test_the_default_key_is_every_key_of_the_region_until_oss_creates_it(cloud_connection, bucket):
    before = policy_for(cloud_connection, Sse("kms", "AES256"))
    assert before.key_arn == f"acs:kms:{REGION}:*:key/*"
    assert before.document["Statement"][-1]["Resource"] == [before.key_arn]
    assert "does not exist in cn-hangzhou yet" in before.notes[0]
    OssClient(cloud_connection).put_object("reports", "k", b"x", {"x-oss-server-side-encryption": "KMS"})
    default = KmsClient(cloud_connection).default_oss_key()
    after = policy_for(cloud_connection, Sse("kms", "AES256"))
    assert after.key_arn == default.arn
    assert after.document["Statement"][-2:] == kms_statements(default.arn)
    assert after.notes == (f"The default key alias/acs/oss of {REGION} is {default.key_id}.",)


def test_a_policy_the_bucket_could_not_use_is_refused(cloud_connection, bucket, key, admin):
    services.disable_key(actor=admin, connection=cloud_connection, region=REGION, key_id=key.key_id)
    with pytest.raises(ServiceError, match="is Disabled"):
        policy_for(cloud_connection, Sse("kms", "AES256", key.key_id))
    shanghai_key = services.create_key(
        actor=admin, connection=cloud_connection, region="cn-shanghai", spec="Aliyun_SM4"
    )
    with pytest.raises(ServiceError):  # KMS of the bucket's region does not know a key of another region
        policy_for(cloud_connection, Sse("kms", "AES256", shanghai_key.key.key_id))
    with pytest.raises(NotFound, match="no bucket 'elsewhere'"):
        policy_for(cloud_connection, Sse("oss", "AES256"), bucket_name="elsewhere")
    Bucket.objects.filter(pk=bucket.pk).update(region="")
    with pytest.raises(ServiceError, match="only OSS-managed"):
        policy_for(cloud_connection, Sse("kms", "AES256"))
    assert policy_for(cloud_connection, Sse("oss", "SM4")).key_arn == ""


# The page and the API


def test_the_page_shows_the_policy_json_in_a_textarea_with_a_copy_button(
    cloud_connection, bucket, key, client_as, viewer
):
    query = (
        f"connection={cloud_connection.pk}&bucket=reports&method=kms&algorithm=AES256&key_id={key.key_id}"
        "&purposes=upload&purposes=download&generate=1"
    )
    page = client_as(viewer).get(f"/keys/ram-policy/?{query}")
    assert page.status_code == 200
    content = page.content.decode()
    textarea = re.search(r'<textarea id="policy-json"[^>]*readonly>(.*?)</textarea>', content, re.DOTALL)
    expected = ram_policy.ram_policy("reports", Sse("kms", "AES256", key.key_id), key.arn, ["upload", "download"])
    assert json.loads(html.unescape(textarea.group(1))) == expected
    assert 'data-copy="policy-json"' in content
    assert cloud_connection.access_key_secret not in content


def test_the_api_returns_the_document_of_the_pure_function(cloud_connection, bucket, key, api_as, viewer):
    query = f"connection={cloud_connection.pk}&bucket=reports&method=kms&algorithm=SM4&key_id={key.key_id}"
    api = api_as(viewer)
    repeated = api.get(f"/api/v1/ram-policy/?{query}&purposes=upload&purposes=set_encryption")
    assert repeated.status_code == 200
    expected = ram_policy.ram_policy("reports", Sse("kms", "SM4", key.key_id), key.arn, ["upload", "set_encryption"])
    assert repeated.json() == {"document": expected, "key_arn": key.arn, "notes": []}
    comma_list = api.get(f"/api/v1/ram-policy/?{query}&purposes=set_encryption,upload")
    assert comma_list.json() == repeated.json()
    every_purpose = api.get(f"/api/v1/ram-policy/?{query}").json()["document"]
    assert every_purpose == ram_policy.ram_policy("reports", Sse("kms", "SM4", key.key_id), key.arn, ALL_PURPOSES)


def test_the_api_refuses_what_it_cannot_answer(cloud_connection, bucket, api_as, viewer):
    api = api_as(viewer)
    base = f"/api/v1/ram-policy/?connection={cloud_connection.pk}&bucket=reports"
    assert api.get(f"{base}&method=oss&algorithm=AES256").status_code == 200
    unknown_method = api.get(f"{base}&method=aes&algorithm=AES256")
    assert unknown_method.status_code == 400 and "Unknown encryption method" in unknown_method.json()["detail"]
    assert "purposes" in api.get(f"{base}&method=oss&algorithm=AES256&purposes=delete").json()
    assert "purposes" in api.get(f"{base}&method=oss&algorithm=AES256&purposes=").json()
    assert api.get(f"{base}&method=oss").status_code == 400
    unknown_bucket = f"/api/v1/ram-policy/?connection={cloud_connection.pk}&bucket=elsewhere&method=oss&algorithm=SM4"
    assert api.get(unknown_bucket).status_code == 404
    unknown_connection = f"/api/v1/ram-policy/?connection={cloud_connection.pk + 1}&bucket=reports&method=oss"
    assert api.get(unknown_connection + "&algorithm=SM4").status_code == 404
    assert APIClient().get(f"{base}&method=oss&algorithm=AES256").status_code == 401
