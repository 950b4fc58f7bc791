"""The server-side encryption rules of design.md §5 as cloud.sse applies them, which the RAM policy helper
and the key checks rely on: pure, no cloud."""

import pytest

from cloud.errors import ServiceError
from cloud.kms import KeyInfo
from cloud.sse import Sse, check_key, check_region, parse


def key(state="Enabled", arn="acs:kms:cn-hangzhou:123:key/k1", usage="ENCRYPT/DECRYPT") -> KeyInfo:
    return KeyInfo(
        key_id="k1",
        arn=arn,
        state=state,
        spec="Aliyun_AES_256",
        usage=usage,
        origin="Aliyun_KMS",
        creator="123",
        description="",
        created="2026-11-23T09:30:00Z",
        deletion_date="",
        material_expires="",
        protection_level="SOFTWARE",
        automatic_rotation="Disabled",
        rotation_interval="",
        last_rotation="",
        aliases=("alias/name",),
    )


# parse: the shape of a setting


@pytest.mark.parametrize(
    "method, algorithm, key_id, expected",
    [
        ("none", "", "", Sse()),
        ("oss", "AES256", "", Sse("oss", "AES256")),
        ("OSS", "sm4", "", Sse("oss", "SM4")),
        ("kms", "AES256", "", Sse("kms", "AES256")),
        ("kms", "SM4", " k1 ", Sse("kms", "SM4", "k1")),
    ],
)
def test_well_formed_settings_are_read_case_insensitively(method, algorithm, key_id, expected):
    assert parse(method, algorithm, key_id) == expected


@pytest.mark.parametrize(
    "method, algorithm, key_id, complaint",
    [
        ("aes", "AES256", "", "Unknown encryption method"),
        ("", "AES256", "", "Unknown encryption method"),
        ("oss", "AES128", "", "Unknown algorithm"),
        ("kms", "", "", "Unknown algorithm"),
        ("oss", "AES256", "k1", "only be chosen with the KMS method"),
        ("none", "SM4", "", "no algorithm and no key"),
        ("none", "", "k1", "no algorithm and no key"),
    ],
)
def test_malformed_settings_are_refused_with_a_reason(method, algorithm, key_id, complaint):
    with pytest.raises(ServiceError, match=complaint):
        parse(method, algorithm, key_id)


# check_region: where a setting is allowed


def test_a_bucket_without_region_allows_only_oss_managed_encryption():
    check_region(Sse(), "")
    check_region(Sse("oss", "AES256"), "")
    check_region(Sse("oss", "SM4"), "")
    with pytest.raises(ServiceError, match="only OSS-managed"):
        check_region(Sse("kms", "AES256"), "")


def test_kms_is_refused_outside_the_configured_kms_regions(settings):
    settings.CONSOLE_KMS_REGIONS = ["cn-shanghai"]
    check_region(Sse("kms", "SM4"), "cn-shanghai")
    check_region(Sse("oss", "AES256"), "cn-hangzhou")
    with pytest.raises(ServiceError, match="KMS encryption is not available in region cn-hangzhou"):
        check_region(Sse("kms", "AES256"), "cn-hangzhou")


def test_every_sse_region_offers_kms_when_no_kms_regions_are_configured(settings):
    settings.CONSOLE_KMS_REGIONS = []
    check_region(Sse("kms", "AES256"), "me-east-1")


@pytest.mark.parametrize("sse", [Sse("oss", "AES256"), Sse("kms", "AES256")])
def test_a_region_without_server_side_encryption_refuses_it(sse):
    with pytest.raises(ServiceError, match="not available in region mars-north-1"):
        check_region(sse, "mars-north-1")


def test_no_encryption_is_allowed_anywhere():
    check_region(Sse(), "mars-north-1")


# check_key: which CMK may encrypt a bucket's objects


def test_an_enabled_key_of_the_bucket_region_may_encrypt():
    check_key(key(), "cn-hangzhou")


@pytest.mark.parametrize("state", ["Disabled", "PendingDeletion", "PendingImport"])
def test_a_key_that_is_not_enabled_is_refused(state):
    with pytest.raises(ServiceError, match=f"is {state}"):
        check_key(key(state=state), "cn-hangzhou")


def test_a_key_of_another_region_is_refused():
    with pytest.raises(ServiceError, match="is in cn-shanghai, not in the bucket's region cn-hangzhou"):
        check_key(key(arn="acs:kms:cn-shanghai:123:key/x"), "cn-hangzhou")


def test_a_key_not_for_encryption_is_refused():
    with pytest.raises(ServiceError, match="SIGN/VERIFY"):
        check_key(key(usage="SIGN/VERIFY"), "cn-hangzhou")


# label: as the OSS console shows a setting


@pytest.mark.parametrize(
    "sse, label",
    [
        (Sse(), "None"),
        (Sse("oss", "AES256"), "OSS-managed AES256"),
        (Sse("oss", "SM4"), "OSS-managed SM4"),
        (Sse("kms", "AES256"), "KMS AES256 alias/acs/oss"),
        (Sse("kms", "SM4", "k1"), "KMS SM4 alias/name(k1)"),
    ],
)
def test_labels_read_as_on_the_oss_console(sse, label):
    assert sse.label({"k1": "alias/name(k1)"}) == label


def test_a_key_the_console_cannot_name_is_labelled_by_its_id():
    assert Sse("kms", "AES256", "k2").label({"k1": "alias/name(k1)"}) == "KMS AES256 k2"


# The setting on the wire


def test_a_kms_setting_becomes_the_request_headers_and_rule_oss_expects():
    sse = Sse("kms", "SM4", "k1")
    assert sse.request_headers() == {
        "x-oss-server-side-encryption": "KMS",
        "x-oss-server-side-data-encryption": "SM4",
        "x-oss-server-side-encryption-key-id": "k1",
    }
    assert Sse.of_rule(sse.rule()) == sse
    assert Sse.of_headers(sse.request_headers()) == sse
    assert Sse.of_rule(None) == Sse() and Sse().request_headers() == {}
