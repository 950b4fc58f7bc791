"""localcloud's KMS API through the real alibabacloud-kms20160120 SDK over HTTP on loopback."""

import base64
import json
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import requests
from alibabacloud_kms20160120 import models as kms
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils_models import Config, OpenApiRequest, Params
from darabonba.core import DaraCore
from darabonba.exceptions import UnretryableException
from darabonba.runtime import RuntimeOptions
from django.core.management import call_command
from django.utils import timezone

from localcloud import keystore
from localcloud.models import Cmk, CmkVersion

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
OTHER_REGION = "cn-shanghai"


@pytest.fixture
def make_kms(localcloud, credentials, settings):
    """Clients as a script for Alibaba Cloud KMS builds them, with only endpoint and credentials changed."""
    settings.LOCALCLOUD_EXTRA_REGIONS = [OTHER_REGION]

    def make(access_key_id=None, secret=None, region_id=None, **config) -> Client:
        return Client(
            Config(
                access_key_id=access_key_id or credentials[0],
                access_key_secret=secret or credentials[1],
                endpoint=localcloud.removeprefix("http://"),
                protocol="http",
                region_id=region_id or settings.LOCALCLOUD_REGION,
                **config,
            )
        )

    return make


@pytest.fixture
def client(make_kms):
    return make_kms()


@dataclass(frozen=True)
class Refusal:
    code: str
    status_code: int
    message: str


def refused(call) -> Refusal:
    """How the SDK reports a refused call (ClientException; a TeaException inside UnretryableException when
    signing with ACS4); every refusal is a 4xx with a RequestId, never a 5xx."""
    with pytest.raises((ClientException, UnretryableException)) as caught:
        call()
    error = getattr(caught.value, "inner_exception", caught.value)
    refusal = Refusal(error.code, error.data.get("statusCode") or error.status_code, error.data["Message"])
    assert 400 <= refusal.status_code < 500 and error.data["RequestId"]
    return refusal


def create(client, **kwargs) -> kms.CreateKeyResponseBodyKeyMetadata:
    return client.create_key(kms.CreateKeyRequest(**kwargs)).body.key_metadata


def describe(client, key_id) -> kms.DescribeKeyResponseBodyKeyMetadata:
    return client.describe_key(kms.DescribeKeyRequest(key_id=key_id)).body.key_metadata


def data_key(client, key_id, **kwargs) -> kms.GenerateDataKeyResponseBody:
    return client.generate_data_key(kms.GenerateDataKeyRequest(key_id=key_id, **kwargs)).body


def decrypt(client, blob, **kwargs) -> kms.DecryptResponseBody:
    return client.decrypt(kms.DecryptRequest(ciphertext_blob=blob, **kwargs)).body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------- keys


def test_create_key_defaults_and_describe(client, settings):
    meta = create(client, description="orders")
    assert meta.key_state == "Enabled" and meta.key_spec == "Aliyun_AES_256" and meta.origin == "Aliyun_KMS"
    assert meta.key_usage == "ENCRYPT/DECRYPT" and meta.protection_level == "SOFTWARE"
    assert meta.arn == f"acs:kms:{settings.LOCALCLOUD_REGION}:1000000000000000:key/{meta.key_id}"
    assert ISO.match(meta.creation_date) and ISO.match(meta.last_rotation_date)
    assert meta.automatic_rotation == "Disabled" and meta.delete_date is None and meta.material_expire_time is None
    described = describe(client, meta.key_id)
    assert described.to_map() == {**meta.to_map(), "DeletionProtection": "Disabled"}
    assert describe(client, meta.arn).key_id == meta.key_id


def test_create_sm4_key_with_rotation_settings(client):
    meta = create(client, key_spec="Aliyun_SM4", enable_automatic_rotation=True, rotation_interval="30d")
    assert meta.key_spec == "Aliyun_SM4"
    assert (meta.automatic_rotation, meta.rotation_interval) == ("Enabled", "2592000s")
    assert ISO.match(meta.next_rotation_date)
    blob = data_key(client, meta.key_id).ciphertext_blob
    assert len(base64.b64decode(decrypt(client, blob).plaintext)) == 32


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"key_spec": "RSA_2048"}, "InvalidParameter"),
        ({"origin": "CLOUD_HSM"}, "InvalidParameter"),
        ({"key_usage": "SIGN/VERIFY"}, "InvalidParameter"),
        ({"enable_automatic_rotation": True, "rotation_interval": "6d"}, "InvalidParameter"),
        ({"enable_automatic_rotation": True, "rotation_interval": "weekly"}, "InvalidParameter"),
        ({"origin": "EXTERNAL", "enable_automatic_rotation": True}, "Unsupported.Origin"),
        ({"tags": "not json"}, "InvalidParameter"),
        ({"tags": '[{"TagKey": "acs:x", "TagValue": "v"}]'}, "InvalidParameter"),
        ({"description": "x" * 8193}, "InvalidParameter"),
    ],
)
def test_create_key_rejects_bad_parameters(client, kwargs, code):
    error = refused(lambda: create(client, **kwargs))
    assert (error.code, error.status_code) == (code, 400)


def test_unknown_key_and_alias_are_not_found(client, settings):
    error = refused(lambda: describe(client, "00000000-0000-4000-8000-000000000000"))
    assert (error.code, error.status_code) == ("Forbidden.KeyNotFound", 404)
    error = refused(lambda: describe(client, "alias/nothing-here"))
    assert (error.code, error.status_code) == ("Forbidden.AliasNotFound", 404)
    arn = f"acs:kms:{settings.LOCALCLOUD_REGION}:1000000000000000:alias/nothing-here"
    assert refused(lambda: describe(client, arn)).code == "Forbidden.AliasNotFound"
    assert refused(lambda: describe(client, "")).code == "MissingParameter"


def test_list_keys_pages_and_filters(client):
    created = [create(client).key_id for _ in range(3)]
    client.disable_key(kms.DisableKeyRequest(key_id=created[1]))
    first = client.list_keys(kms.ListKeysRequest(page_number=1, page_size=2)).body
    second = client.list_keys(kms.ListKeysRequest(page_number=2, page_size=2)).body
    assert (first.total_count, first.page_number, first.page_size) == (3, 1, 2)
    listed = [key.key_id for key in first.keys.key + second.keys.key]
    assert listed == created and first.keys.key[0].key_arn.endswith(f":key/{created[0]}")
    filters = json.dumps([{"Key": "KeyState", "Values": ["Disabled"]}])
    disabled = client.list_keys(kms.ListKeysRequest(filters=filters)).body
    assert [key.key_id for key in disabled.keys.key] == [created[1]] and disabled.total_count == 1
    users = client.list_keys(kms.ListKeysRequest(filters='[{"Key": "CreatorType", "Values": ["Service"]}]')).body
    assert users.total_count == 0
    for bad in ({"page_size": 101}, {"page_number": 0}, {"filters": '[{"Key": "Colour", "Values": ["red"]}]'}):
        assert refused(lambda bad=bad: client.list_keys(kms.ListKeysRequest(**bad))).code == "InvalidParameter"


def test_update_key_description(client):
    key_id = create(client, description="before").key_id
    client.update_key_description(kms.UpdateKeyDescriptionRequest(key_id=key_id, description="after"))
    assert describe(client, key_id).description == "after"
    error = refused(lambda: client.update_key_description(kms.UpdateKeyDescriptionRequest(key_id=key_id)))
    assert error.code == "MissingParameter"


# ---------------------------------------------------------------- state machine


def test_disabled_key_neither_produces_nor_opens_data_keys_until_enabled(client):
    key_id = create(client).key_id
    blob = data_key(client, key_id).ciphertext_blob
    client.disable_key(kms.DisableKeyRequest(key_id=key_id))
    client.disable_key(kms.DisableKeyRequest(key_id=key_id))  # repeating is fine
    assert describe(client, key_id).key_state == "Disabled"
    for call in (lambda: data_key(client, key_id), lambda: decrypt(client, blob)):
        error = refused(call)
        assert (error.code, error.status_code) == ("Rejected.Disabled", 409)
    client.enable_key(kms.EnableKeyRequest(key_id=key_id))
    assert describe(client, key_id).key_state == "Enabled"
    assert decrypt(client, blob).key_id == key_id


@pytest.mark.parametrize("days, code", [(6, "InvalidParameter"), (31, "InvalidParameter"), (None, "MissingParameter")])
def test_key_deletion_needs_a_pending_window_of_7_to_30_days(client, days, code):
    key_id = create(client).key_id

    request = kms.ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=days)

    assert refused(lambda: client.schedule_key_deletion(request)).code == code
    assert describe(client, key_id).key_state == "Enabled"


@pytest.fixture
def pending_deletion(client):
    """A key scheduled for deletion in 7 days, and a data key blob it encrypted before."""
    key_id = create(client).key_id
    blob = data_key(client, key_id).ciphertext_blob
    client.schedule_key_deletion(kms.ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7))
    return key_id, blob


def test_a_key_scheduled_for_deletion_is_pending_deletion_with_its_date(client, pending_deletion):
    key_id, _ = pending_deletion

    meta = describe(client, key_id)

    assert meta.key_state == "PendingDeletion" and ISO.match(meta.delete_date)


def test_a_key_pending_deletion_refuses_to_decrypt_be_enabled_rescheduled_or_changed(client, pending_deletion):
    key_id, blob = pending_deletion
    again = kms.ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7)

    assert refused(lambda: decrypt(client, blob)).code == "Rejected.PendingDeletion"
    assert refused(lambda: client.enable_key(kms.EnableKeyRequest(key_id=key_id))).code == (
        "Rejected.StateModifiedFailed"
    )
    assert refused(lambda: client.schedule_key_deletion(again)).code == "Rejected.StateModifiedFailed"
    assert refused(lambda: client.update_key_description(kms.UpdateKeyDescriptionRequest(key_id=key_id,
                   description="x"))).code == "Rejected.PendingDeletion"  # fmt: skip


def test_cancelling_a_deletion_enables_the_key_and_it_decrypts_again(client, pending_deletion):
    key_id, blob = pending_deletion

    client.cancel_key_deletion(kms.CancelKeyDeletionRequest(key_id=key_id))

    meta = describe(client, key_id)
    assert (meta.key_state, meta.delete_date) == ("Enabled", None)
    assert decrypt(client, blob).key_id == key_id


def test_cancelling_the_deletion_of_an_enabled_key_is_a_409(client):
    key_id = create(client).key_id

    error = refused(lambda: client.cancel_key_deletion(kms.CancelKeyDeletionRequest(key_id=key_id)))

    assert (error.code, error.status_code) == ("Rejected.Enabled", 409)


def test_key_past_its_deletion_date_is_gone_and_swept(client):
    doomed, listed = create(client).key_id, create(client).key_id
    client.create_alias(kms.CreateAliasRequest(alias_name="alias/doomed", key_id=doomed))
    for key_id in (doomed, listed):
        client.schedule_key_deletion(kms.ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7))
    Cmk.objects.filter(key_id__in=[doomed, listed]).update(delete_date=timezone.now() - timedelta(seconds=1))
    assert refused(lambda: describe(client, doomed)).code == "Forbidden.KeyNotFound"  # exact, before any sweep
    assert client.list_keys(kms.ListKeysRequest()).body.total_count == 0
    call_command("localcloud_kms_sweep")
    assert not Cmk.objects.filter(key_id__in=[doomed, listed]).exists()
    assert refused(lambda: describe(client, "alias/doomed")).code == "Forbidden.AliasNotFound"


def test_sweep_rotates_keys_whose_rotation_is_due(client):
    key_id = create(client, enable_automatic_rotation=True, rotation_interval="7d").key_id
    old_blob = data_key(client, key_id).ciphertext_blob
    CmkVersion.objects.filter(cmk__key_id=key_id).update(created_at=timezone.now() - timedelta(days=8))
    call_command("localcloud_kms_sweep")
    versions = client.list_key_versions(kms.ListKeyVersionsRequest(key_id=key_id)).body
    assert versions.total_count == 2
    assert data_key(client, key_id).key_version_id == versions.key_versions.key_version[1].key_version_id
    assert decrypt(client, old_blob).key_version_id == versions.key_versions.key_version[0].key_version_id


def test_update_rotation_policy(client):
    key_id = create(client).key_id
    client.update_rotation_policy(
        kms.UpdateRotationPolicyRequest(key_id=key_id, enable_automatic_rotation=True, rotation_interval="168h")
    )
    meta = describe(client, key_id)
    assert (meta.automatic_rotation, meta.rotation_interval) == ("Enabled", "604800s")
    client.update_rotation_policy(kms.UpdateRotationPolicyRequest(key_id=key_id, enable_automatic_rotation=False))
    assert describe(client, key_id).automatic_rotation == "Disabled"


def test_service_key_is_not_the_users_to_change(client, settings):
    service_key = keystore.default_key(settings.LOCALCLOUD_REGION)
    assert describe(client, "alias/acs/oss").key_id == service_key.key_id
    assert describe(client, "alias/acs/oss").creator == "Oss"
    for call in (
        lambda: client.disable_key(kms.DisableKeyRequest(key_id="alias/acs/oss")),
        lambda: client.schedule_key_deletion(
            kms.ScheduleKeyDeletionRequest(key_id=service_key.key_id, pending_window_in_days=7)
        ),
    ):
        error = refused(call)
        assert (error.code, error.status_code) == ("Forbidden.NoPermission", 403)
    error = refused(lambda: client.create_alias(kms.CreateAliasRequest(alias_name="alias/acs/mine", key_id="x")))
    assert error.code == "InvalidParameter"


# ---------------------------------------------------------------- aliases


def test_aliases_create_update_list_delete(client, settings):
    first, second = create(client).key_id, create(client).key_id
    client.create_alias(kms.CreateAliasRequest(alias_name="alias/app/orders", key_id=first))
    client.create_alias(kms.CreateAliasRequest(alias_name="alias/app:audit_1", key_id=first))
    error = refused(lambda: client.create_alias(kms.CreateAliasRequest(alias_name="alias/app/orders", key_id=second)))
    assert (error.code, error.status_code) == ("AliasAlreadyExists", 400)
    assert describe(client, "alias/app/orders").key_id == first
    client.update_alias(kms.UpdateAliasRequest(alias_name="alias/app/orders", key_id=second))
    assert describe(client, "alias/app/orders").key_id == second
    listed = client.list_aliases(kms.ListAliasesRequest(page_size=1)).body
    assert (listed.total_count, listed.page_size, len(listed.aliases.alias)) == (2, 1, 1)
    entry = listed.aliases.alias[0]
    assert (entry.alias_name, entry.key_id) == ("alias/app/orders", second)
    assert entry.alias_arn == f"acs:kms:{settings.LOCALCLOUD_REGION}:1000000000000000:alias/app/orders"
    by_key = client.list_aliases_by_key_id(kms.ListAliasesByKeyIdRequest(key_id=first)).body
    assert [a.alias_name for a in by_key.aliases.alias] == ["alias/app:audit_1"] and by_key.total_count == 1
    client.delete_alias(kms.DeleteAliasRequest(alias_name="alias/app/orders"))
    assert refused(lambda: describe(client, "alias/app/orders")).code == "Forbidden.AliasNotFound"
    error = refused(lambda: client.delete_alias(kms.DeleteAliasRequest(alias_name="alias/app/orders")))
    assert (error.code, error.status_code) == ("Forbidden.AliasNotFound", 404)


@pytest.mark.parametrize(
    "name", ["orders", "alias/", "alias/" + "a" * 256, "alias/with space", "alias/ünï", "alias/acs/oss", "alias/acs/x"]
)
def test_alias_names_are_validated(client, name):
    key_id = create(client).key_id
    error = refused(lambda: client.create_alias(kms.CreateAliasRequest(alias_name=name, key_id=key_id)))
    assert (error.code, error.status_code) == ("InvalidParameter", 400)


def test_longest_alias_name_is_accepted(client):
    name = "alias/" + "a" * 255
    key_id = create(client).key_id
    client.create_alias(kms.CreateAliasRequest(alias_name=name, key_id=key_id))
    assert describe(client, name).key_id == key_id


def test_alias_of_unknown_key_or_key_pending_deletion(client):
    request = kms.CreateAliasRequest(alias_name="alias/x", key_id="00000000-0000-4000-8000-000000000000")
    assert refused(lambda: client.create_alias(request)).code == "Forbidden.KeyNotFound"
    key_id = create(client).key_id
    client.schedule_key_deletion(kms.ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=30))
    error = refused(lambda: client.create_alias(kms.CreateAliasRequest(alias_name="alias/x", key_id=key_id)))
    assert error.code == "Rejected.PendingDeletion"


# ---------------------------------------------------------------- data keys and ciphertexts


def test_generate_data_key_and_decrypt(client):
    key_id = create(client).key_id
    client.create_alias(kms.CreateAliasRequest(alias_name="alias/dk", key_id=key_id))
    body = data_key(client, "alias/dk")
    assert body.key_id == key_id and body.key_version_id == describe(client, key_id).primary_key_version
    assert len(base64.b64decode(body.plaintext)) == 32
    opened = decrypt(client, body.ciphertext_blob)
    assert (opened.plaintext, opened.key_id, opened.key_version_id) == (body.plaintext, key_id, body.key_version_id)
    assert len(base64.b64decode(data_key(client, key_id, number_of_bytes=16).plaintext)) == 16
    assert len(base64.b64decode(data_key(client, key_id, key_spec="AES_128").plaintext)) == 16
    assert len(base64.b64decode(data_key(client, key_id, key_spec="AES_128", number_of_bytes=7).plaintext)) == 7


def test_generate_data_key_without_plaintext(client):
    key_id = create(client).key_id
    request = kms.GenerateDataKeyWithoutPlaintextRequest(key_id=key_id, encryption_context={"purpose": "backup"})
    body = client.generate_data_key_without_plaintext(request).body
    assert body.key_id == key_id and body.to_map().keys() == {"CiphertextBlob", "KeyId", "KeyVersionId", "RequestId"}
    opened = decrypt(client, body.ciphertext_blob, encryption_context={"purpose": "backup"})
    assert len(base64.b64decode(opened.plaintext)) == 32


@pytest.mark.parametrize("kwargs", [{"number_of_bytes": 0}, {"number_of_bytes": 1025}, {"key_spec": "AES_512"}])
def test_generate_data_key_rejects_bad_sizes(client, kwargs):
    key_id = create(client).key_id
    assert refused(lambda: data_key(client, key_id, **kwargs)).code == "InvalidParameter"


def test_encrypt_decrypt_with_encryption_context(client):
    key_id = create(client).key_id
    secret = b"\x00top secret\xff"
    request = kms.EncryptRequest(key_id=key_id, plaintext=b64(secret), encryption_context={"a": "1", "b": "2"})
    body = client.encrypt(request).body
    assert body.key_id == key_id and body.key_version_id
    opened = decrypt(client, body.ciphertext_blob, encryption_context={"b": "2", "a": "1"})  # order is irrelevant
    assert base64.b64decode(opened.plaintext) == secret
    for context in (None, {"a": "1"}, {"a": "1", "b": "3"}):
        error = refused(lambda context=context: decrypt(client, body.ciphertext_blob, encryption_context=context))
        assert (error.code, error.status_code) == ("Rejected.InvalidCiphertext", 400)


def test_tampered_or_foreign_ciphertexts_are_rejected(client):
    key_id = create(client).key_id
    blob = bytearray(
        base64.b64decode(client.encrypt(kms.EncryptRequest(key_id=key_id, plaintext="aGk=")).body.ciphertext_blob)
    )
    blob[-1] ^= 1
    assert refused(lambda: decrypt(client, b64(bytes(blob)))).code == "Rejected.InvalidCiphertext"
    assert refused(lambda: decrypt(client, b64(b"not a blob of ours"))).code == "Rejected.InvalidCiphertext"
    assert refused(lambda: decrypt(client, b64(bytes(blob[:30])))).code == "Rejected.InvalidCiphertext"
    assert refused(lambda: decrypt(client, "%%%")).code == "InvalidParameter"
    # A blob naming a key that does not exist (here: its id rewritten, same length).
    other = bytes(blob).replace(key_id.encode(), b"00000000-0000-4000-8000-000000000000")
    assert refused(lambda: decrypt(client, b64(other))).code == "Forbidden.KeyNotFound"


@pytest.mark.parametrize(
    "plaintext, code",
    [("not base64!", "InvalidParameter"), (b64(b"x" * 6145), "InvalidParameter"), (None, "MissingParameter")],
)
def test_encrypt_rejects_bad_plaintext(client, plaintext, code):
    key_id = create(client).key_id
    assert refused(lambda: client.encrypt(kms.EncryptRequest(key_id=key_id, plaintext=plaintext))).code == code


def test_re_encrypt_moves_a_ciphertext_to_another_key(client):
    source, destination = create(client).key_id, create(client).key_id
    blob = client.encrypt(kms.EncryptRequest(key_id=source, plaintext=b64(b"payload"), encryption_context={"s": "1"}))
    request = kms.ReEncryptRequest(
        ciphertext_blob=blob.body.ciphertext_blob,
        destination_key_id=destination,
        source_encryption_context={"s": "1"},
        destination_encryption_context={"d": "2"},
    )
    moved = client.re_encrypt(request).body
    assert moved.key_id == destination
    opened = decrypt(client, moved.ciphertext_blob, encryption_context={"d": "2"})
    assert (base64.b64decode(opened.plaintext), opened.key_id) == (b"payload", destination)
    request.source_encryption_context = None
    assert refused(lambda: client.re_encrypt(request)).code == "Rejected.InvalidCiphertext"
    client.disable_key(kms.DisableKeyRequest(key_id=destination))
    request.source_encryption_context = {"s": "1"}
    assert refused(lambda: client.re_encrypt(request)).code == "Rejected.Disabled"


def test_dry_run_validates_without_doing(client):
    key_id = create(client).key_id
    error = refused(lambda: data_key(client, key_id, dry_run="true"))
    assert (error.code, error.status_code) == ("DryRunOperationError", 400)


# ---------------------------------------------------------------- versions and tags


def test_manual_rotation_keeps_old_versions_decrypting(client):
    key_id = create(client).key_id
    old = data_key(client, key_id)
    version = client.create_key_version(kms.CreateKeyVersionRequest(key_id=key_id)).body.key_version
    assert (
        version.key_id == key_id and ISO.match(version.creation_date) and version.key_version_id != old.key_version_id
    )
    new = data_key(client, key_id)
    assert new.key_version_id == version.key_version_id == describe(client, key_id).primary_key_version
    assert decrypt(client, old.ciphertext_blob).plaintext == old.plaintext
    assert decrypt(client, old.ciphertext_blob).key_version_id == old.key_version_id
    listed = client.list_key_versions(kms.ListKeyVersionsRequest(key_id=key_id, page_size=1, page_number=2)).body
    assert (listed.total_count, [v.key_version_id for v in listed.key_versions.key_version]) == (
        2,
        [version.key_version_id],
    )
    client.disable_key(kms.DisableKeyRequest(key_id=key_id))
    error = refused(lambda: client.create_key_version(kms.CreateKeyVersionRequest(key_id=key_id)))
    assert error.code == "Rejected.Disabled"


def test_tags(client):
    key_id = create(client, tags=json.dumps([{"TagKey": "team", "TagValue": "pay"}])).key_id
    tags = json.dumps([{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": "ops"}])
    client.tag_resource(kms.TagResourceRequest(key_id=key_id, tags=tags))
    listed = client.list_resource_tags(kms.ListResourceTagsRequest(key_id=key_id)).body.tags.tag
    assert [(t.key_id, t.tag_key, t.tag_value) for t in listed] == [(key_id, "env", "prod"), (key_id, "team", "ops")]
    client.untag_resource(kms.UntagResourceRequest(key_id=key_id, tag_keys='["env"]'))
    listed = client.list_resource_tags(kms.ListResourceTagsRequest(key_id=key_id)).body.tags.tag
    assert [t.tag_key for t in listed] == ["team"]
    for bad in ('[{"TagKey": "aliyun-x", "TagValue": "v"}]', '{"TagKey": "k"}', '[{"TagKey": ""}]'):
        error = refused(lambda bad=bad: client.tag_resource(kms.TagResourceRequest(key_id=key_id, tags=bad)))
        assert error.code == "InvalidParameter"
    assert refused(lambda: client.tag_resource(kms.TagResourceRequest(key_id=key_id))).code == "MissingParameter"


# ---------------------------------------------------------------- regions


def test_keys_belong_to_one_region(make_kms, client, settings):
    other = make_kms(region_id=OTHER_REGION, signature_version="v4")
    assert [r.region_id for r in other.describe_regions().body.regions.region] == [
        settings.LOCALCLOUD_REGION,
        OTHER_REGION,
    ]
    meta = create(other)
    assert meta.arn.startswith(f"acs:kms:{OTHER_REGION}:")
    blob = data_key(other, meta.key_id).ciphertext_blob
    assert decrypt(other, blob).key_id == meta.key_id
    for call in (lambda: describe(client, meta.key_id), lambda: data_key(client, meta.key_id),
                 lambda: decrypt(client, blob), lambda: describe(client, meta.arn)):  # fmt: skip
        error = refused(call)
        assert (error.code, error.status_code) == ("Forbidden.KeyNotFound", 404)
    # Alias names are unique per region only.
    here = create(client).key_id
    client.create_alias(kms.CreateAliasRequest(alias_name="alias/shared", key_id=here))
    other.create_alias(kms.CreateAliasRequest(alias_name="alias/shared", key_id=meta.key_id))
    assert describe(other, "alias/shared").key_id == meta.key_id and describe(client, "alias/shared").key_id == here
    assert client.list_keys(kms.ListKeysRequest()).body.total_count == 1


def test_unknown_signing_region_is_refused(make_kms):
    error = refused(lambda: make_kms(region_id="eu-nowhere-1", signature_version="v4").describe_regions())
    assert (error.code, error.status_code) == ("InvalidRegionId", 400)


# ---------------------------------------------------------------- signatures and protocol


@pytest.mark.parametrize("config", [{}, {"signature_version": "v4"}, {"signature_algorithm": "v2"}])
def test_every_sdk_signature_scheme_is_served(make_kms, config):
    client = make_kms(**config)
    key_id = create(client).key_id
    assert describe(client, key_id).key_state == "Enabled"


@pytest.mark.parametrize("config", [{}, {"signature_algorithm": "v2"}])
def test_wrong_secret_or_unknown_access_key_is_refused(make_kms, config):
    error = refused(lambda: make_kms(secret="wrong-secret", **config).list_keys(kms.ListKeysRequest()))
    assert (error.code, error.status_code) == ("SignatureDoesNotMatch", 400)
    assert "wrong-secret" not in error.message
    error = refused(lambda: make_kms(access_key_id="LTAIunknown", **config).list_keys(kms.ListKeysRequest()))
    assert (error.code, error.status_code) == ("InvalidAccessKeyId.NotFound", 404)


def test_sts_tokens_are_refused(make_kms):
    error = refused(lambda: make_kms(security_token="token").list_keys(kms.ListKeysRequest()))
    assert error.code == "InvalidSecurityToken.Malformed"


def test_unsigned_request_gets_the_kms_error_json(localcloud):
    response = requests.post(localcloud, params={"KeyId": "k"}, headers={"x-acs-action": "DescribeKey"})
    assert response.status_code == 400 and response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["Code"] == "MissingAuthorization" and body["RequestId"] == response.headers["x-acs-request-id"]
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}


def test_unsupported_http_method(localcloud):
    response = requests.put(localcloud, headers={"x-acs-action": "DescribeKey"})
    assert (response.status_code, response.json()["Code"]) == (403, "UnsupportedHTTPMethod")


def test_replayed_request_is_refused(client, monkeypatch):
    """The very bytes the SDK sent, sent again: the nonce has been used."""
    sent, real_do_action = [], DaraCore.do_action

    def recording(request, runtime_option=None):
        sent.append(request)
        return real_do_action(request, runtime_option)

    monkeypatch.setattr(DaraCore, "do_action", staticmethod(recording))
    key_id = create(client).key_id
    describe(client, key_id)
    request = sent[-1]
    replay = requests.post(DaraCore.compose_url(request), headers=request.headers)
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")


def _call(client, action, version="2016-01-20", query=None):
    params = Params(action=action, version=version, protocol="HTTP", pathname="/", method="POST", auth_type="AK",
                    style="RPC", req_body_type="formData", body_type="json")  # fmt: skip
    return client.call_api(params, OpenApiRequest(query=query or {}), RuntimeOptions())


def test_unknown_action_and_wrong_version(client):
    error = refused(lambda: _call(client, "LaunchRockets"))
    assert (error.code, error.status_code) == ("InvalidAction.NotFound", 404)
    error = refused(lambda: _call(client, "ListKeys", version="2014-11-01"))
    assert (error.code, error.status_code) == ("InvalidVersion", 400)


@pytest.mark.parametrize(
    "action, query",
    [
        ("DescribeKey", {}),
        ("DescribeKey", {"KeyId": "x" * 5000}),
        ("DescribeKey", {"KeyId": "acs:kms:"}),
        ("DescribeKey", {"KeyId": "acs:kms:cn-hangzhou:1:key/"}),
        ("ListKeys", {"PageSize": "ten"}),
        ("ListKeys", {"PageNumber": "99999999999999999999"}),
        ("ListKeys", {"Filters": "[1, 2]"}),
        ("ListKeys", {"Filters": '[{"Key": "KeyState", "Values": "Enabled"}]'}),
        ("CreateKey", {"EnableAutomaticRotation": "maybe"}),
        ("Encrypt", {"KeyId": "alias/x", "Plaintext": "aGk=", "EncryptionContext": "[]"}),
        ("Decrypt", {"CiphertextBlob": b64(b"LCK1")}),
        ("Decrypt", {"CiphertextBlob": b64(b"LCK1\xff")}),
        ("Decrypt", {"CiphertextBlob": "aGk=", "EncryptionContext": "{"}),
        ("ReEncrypt", {"CiphertextBlob": "aGk=", "DestinationKeyId": "k", "SourceKeyId": "k"}),
        ("UntagResource", {"KeyId": "k", "TagKeys": "[1]"}),
        ("ScheduleKeyDeletion", {"KeyId": "k", "PendingWindowInDays": "-7"}),
        ("GenerateDataKey", {"KeyId": "k", "NumberOfBytes": "1e3"}),
        ("GenerateDataKey", {"KeyId": "k", "Recipient": "attestation"}),
        ("DescribeKey", {"KeyId": "a\x00b"}),
        ("UpdateKeyDescription", {"KeyId": "k", "Description": "\x00"}),
        ("Decrypt", {"CiphertextBlob": b64(b"LCK1\x03a\x00b\x01v" + bytes(28))}),
        ("ListKeys", {"Filters": "[" * 5000}),
    ],
)
def test_malformed_input_is_a_4xx_never_a_500(client, action, query):
    refused(lambda: _call(client, action, query=query))
