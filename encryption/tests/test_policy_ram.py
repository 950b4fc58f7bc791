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
ALL_PURPOSES = [value for value, _ in ram_policy.PURPOSE_CHOICES if value != ram_policy.EVERYTHING]
ARN = f"acs:kms:{REGION}:123:key/k1"
DEFAULT_ARN = f"acs:kms:{REGION}:123:key/default"


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


def policy_for(connection, sse: Sse, purposes=ALL_PURPOSES, bucket_name="reports") -> services.RamPolicy:
    return services.ram_policy_for(connection=connection, bucket_name=bucket_name, sse=sse, purposes=purposes)


def pure(sse: Sse, purposes, key_arn: str = "", default_arn: str = "") -> ram_policy.Policy:
    return ram_policy.ram_policy(ram_policy.Targets("logs", REGION, sse, key_arn, default_arn), purposes)


def kms_actions_on(document: dict, arn: str) -> list[str]:
    return [action for s in document["Statement"] if s["Resource"] == [arn] for action in s["Action"]]


# The pure document


def test_the_policy_for_oss_managed_encryption_and_the_first_purposes_is_exact():
    document = pure(Sse("oss", "AES256"), ["download", "upload", "set_encryption"]).document()
    assert document == {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:GetBucketEncryption", "oss:PutBucketEncryption"],
                "Resource": ["acs:oss:*:*:logs"],
            },
            {"Effect": "Allow", "Action": ["oss:GetObject", "oss:PutObject"], "Resource": ["acs:oss:*:*:logs/*"]},
        ],
    }


def test_each_purpose_asks_only_for_its_own_actions():
    assert pure(Sse("oss", "SM4"), ["download"]).document()["Statement"] == [
        {"Effect": "Allow", "Action": ["oss:GetObject"], "Resource": ["acs:oss:*:*:logs/*"]}
    ]
    scan = pure(Sse("oss", "SM4"), ["scan"]).document()["Statement"]
    assert [s["Action"] for s in scan] == [
        ["oss:GetBucketEncryption", "oss:ListObjects", "oss:GetBucketVersioning", "oss:ListObjectVersions"],
        ["oss:GetObject", "oss:GetObjectVersion"],
    ]


def test_every_statement_is_annotated_action_by_action_in_the_document_s_order():
    policy = pure(Sse("kms", "AES256", "k1"), ALL_PURPOSES, ARN, DEFAULT_ARN)
    document, annotations = policy.document(), policy.annotations()
    assert len(annotations) == len(document["Statement"])
    for statement, annotation in zip(document["Statement"], annotations, strict=True):
        assert statement["Resource"] == [annotation["resource"]]
        assert statement["Action"] == [grant["action"] for grant in annotation["actions"]]
        assert all(grant["why"].endswith(".") for grant in annotation["actions"])


def test_sse_kms_asks_kms_only_for_what_oss_and_the_console_call():
    upload = pure(Sse("kms", "SM4", "k1"), ["upload"], ARN).document()
    assert kms_actions_on(upload, ARN) == ["kms:DescribeKey", "kms:ListAliasesByKeyId", "kms:GenerateDataKey"]
    download = pure(Sse("kms", "SM4", "k1"), ["download"], ARN).document()
    assert kms_actions_on(download, ARN) == ["kms:Decrypt"]
    with_the_default_key = pure(Sse("kms", "SM4"), ["upload"], ARN).document()
    assert kms_actions_on(with_the_default_key, ARN) == ["kms:GenerateDataKey"]  # no key to check beforehand


def test_jobs_with_an_sse_kms_target_describe_the_default_key_and_re_encryption_opens_any_key():
    scan = pure(Sse("kms", "AES256", "k1"), ["scan"], ARN, DEFAULT_ARN).document()
    assert kms_actions_on(scan, DEFAULT_ARN) == ["kms:DescribeKey", "kms:ListAliasesByKeyId"]
    assert kms_actions_on(scan, ARN) == []
    job = pure(Sse("oss", "AES256"), ["reencrypt"]).document()
    assert kms_actions_on(job, f"acs:kms:{REGION}:*:key/*") == ["kms:Decrypt"]


def test_everything_holds_every_other_purpose_and_the_key_management():
    everything = pure(Sse("kms", "AES256", "k1"), ["everything"], ARN, DEFAULT_ARN).document()
    granted = {(a, r) for s in everything["Statement"] for a in s["Action"] for r in s["Resource"]}
    for purpose in ALL_PURPOSES:
        policy = pure(Sse("kms", "AES256", "k1"), [purpose], ARN, DEFAULT_ARN).document()
        assert {(a, r) for s in policy["Statement"] for a in s["Action"] for r in s["Resource"]} <= granted
    assert ("kms:CreateKey", f"acs:kms:{REGION}:*:*") in granted and ("oss:PutBucket", "acs:oss:*:*:*") in granted


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
        pure(sse, purposes, key_arn)


# Through the service: the key ARN comes from KMS


def test_a_named_key_is_named_by_its_arn(cloud_connection, bucket, key):
    result = policy_for(cloud_connection, Sse("kms", "AES256", key.key_id), ["upload", "download"])
    assert result.key_arn == key.arn and key.arn.startswith(f"acs:kms:{REGION}:")
    checked = ["kms:DescribeKey", "kms:ListAliasesByKeyId"]
    assert kms_actions_on(result.document, key.arn) == [*checked, "kms:GenerateDataKey", "kms:Decrypt"]
    assert result.notes == ()
    assert policy_for(cloud_connection, Sse("kms", "AES256", "alias/reports")).key_arn == key.arn


def test_the_default_key_is_every_key_of_the_region_until_oss_creates_it(cloud_connection, bucket, key):
    before = policy_for(cloud_connection, Sse("kms", "AES256"), ["upload"])
    assert before.key_arn == f"acs:kms:{REGION}:*:key/*"
    assert before.document["Statement"][-1]["Resource"] == [before.key_arn]
    assert "does not exist in cn-hangzhou yet" in before.notes[0]
    OssClient(cloud_connection).put_object("reports", "k", b"x", {"x-oss-server-side-encryption": "KMS"})
    default = KmsClient(cloud_connection).default_oss_key()
    after = policy_for(cloud_connection, Sse("kms", "AES256"), ["upload", "download"])
    assert after.key_arn == default.arn
    assert kms_actions_on(after.document, default.arn) == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert after.notes == (f"The default key alias/acs/oss of {REGION} is {default.key_id}.",)
    job = policy_for(cloud_connection, Sse("kms", "AES256", "alias/reports"), ["reencrypt"])
    assert kms_actions_on(job.document, default.arn) == ["kms:DescribeKey", "kms:ListAliasesByKeyId"]


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
    expected = services.ram_policy_for(
        connection=cloud_connection,
        bucket_name="reports",
        sse=Sse("kms", "AES256", key.key_id),
        purposes=["upload", "download"],
    )
    assert json.loads(html.unescape(textarea.group(1))) == expected.document
    assert 'data-copy="policy-json"' in content
    for annotation in expected.annotations:  # every reason is shown beside its statement
        for grant in annotation["actions"]:
            assert html.escape(grant["why"]) in content
    assert cloud_connection.access_key_secret not in content


def test_the_api_returns_the_document_of_the_pure_function(cloud_connection, bucket, key, api_as, viewer):
    query = f"connection={cloud_connection.pk}&bucket=reports&method=kms&algorithm=SM4&key_id={key.key_id}"
    api = api_as(viewer)
    repeated = api.get(f"/api/v1/ram-policy/?{query}&purposes=upload&purposes=set_encryption")
    assert repeated.status_code == 200
    expected = policy_for(cloud_connection, Sse("kms", "SM4", key.key_id), ["upload", "set_encryption"])
    assert repeated.json() == {
        "document": expected.document,
        "annotations": expected.annotations,
        "key_arn": key.arn,
        "notes": [],
    }
    comma_list = api.get(f"/api/v1/ram-policy/?{query}&purposes=set_encryption,upload")
    assert comma_list.json() == repeated.json()
    every_purpose = api.get(f"/api/v1/ram-policy/?{query}").json()["document"]
    assert every_purpose == policy_for(cloud_connection, Sse("kms", "SM4", key.key_id), ["everything"]).document


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
