"""What KMS key changes do to SSE-KMS objects: through the KMS SDK for the key, oss2 for the objects."""

import base64
import os
from datetime import timedelta

import oss2
import pytest
from alibabacloud_kms20160120 import models as kms
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.models import Config
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.core.management import call_command
from django.utils import timezone

from localcloud.models import Cmk

DATA = os.urandom(200 * 1024)  # several 64 KiB frames
FORBIDDEN_BY_KMS = "This request is forbidden by kms."


@pytest.fixture
def client(localcloud, credentials, settings) -> Client:
    return Client(Config(access_key_id=credentials[0], access_key_secret=credentials[1], endpoint=localcloud,
                         region_id=settings.LOCALCLOUD_REGION))  # fmt: skip


def put_under(bucket, key_id: str, name: str = "secret.bin") -> str:
    headers = {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": key_id}
    result = bucket.put_object(name, DATA, headers=headers)
    assert result.headers["x-oss-server-side-encryption-key-id"] == key_id
    return name


def readable(bucket, name: str) -> bool:
    """True when the object reads back intact; False when OSS answers 403 forbidden by kms."""
    try:
        return bucket.get_object(name).read() == DATA
    except oss2.exceptions.OssError as error:
        assert (error.status, error.message) == (403, FORBIDDEN_BY_KMS)
        return False


def new_key(client, **kwargs) -> str:
    return client.create_key(kms.CreateKeyRequest(**kwargs)).body.key_metadata.key_id


def import_material(client, key_id: str, material: bytes) -> None:
    request = kms.GetParametersForImportRequest(
        key_id=key_id, wrapping_algorithm="RSAES_OAEP_SHA_256", wrapping_key_spec="RSA_2048"
    )
    params = client.get_parameters_for_import(request).body
    public_key = serialization.load_der_public_key(base64.b64decode(params.public_key))
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapped = base64.b64encode(public_key.encrypt(material, oaep)).decode()
    client.import_key_material(
        kms.ImportKeyMaterialRequest(key_id=key_id, encrypted_key_material=wrapped, import_token=params.import_token)
    )


def test_disabled_key_makes_its_objects_unreadable_until_enabled(client, bucket):
    key_id = new_key(client)
    name = put_under(bucket, key_id)
    assert readable(bucket, name)
    client.disable_key(kms.DisableKeyRequest(key_id=key_id))
    assert not readable(bucket, name)
    with pytest.raises(oss2.exceptions.OssError) as caught:
        put_under(bucket, key_id, "new.bin")  # nor can it encrypt new ones
    assert (caught.value.status, caught.value.message) == (403, FORBIDDEN_BY_KMS)
    client.enable_key(kms.EnableKeyRequest(key_id=key_id))
    assert readable(bucket, name)


def test_key_pending_deletion_then_deleted(client, bucket):
    key_id = new_key(client)
    kept = put_under(bucket, key_id, "kept.bin")
    client.schedule_key_deletion(kms.ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7))
    assert not readable(bucket, kept)
    client.cancel_key_deletion(kms.CancelKeyDeletionRequest(key_id=key_id))
    assert readable(bucket, kept)

    doomed = new_key(client)
    name = put_under(bucket, doomed, "doomed.bin")
    client.schedule_key_deletion(kms.ScheduleKeyDeletionRequest(key_id=doomed, pending_window_in_days=7))
    Cmk.objects.filter(key_id=doomed).update(delete_date=timezone.now() - timedelta(seconds=1))
    call_command("localcloud_kms_sweep")
    assert not Cmk.objects.filter(key_id=doomed).exists()
    assert not readable(bucket, name)
    assert readable(bucket, kept)


def test_objects_under_an_alias_follow_the_key(client, bucket):
    key_id = new_key(client)
    client.create_alias(kms.CreateAliasRequest(alias_name="alias/objects", key_id=key_id))
    name = put_under(bucket, "alias/objects")
    client.disable_key(kms.DisableKeyRequest(key_id="alias/objects"))
    assert not readable(bucket, name)
    client.enable_key(kms.EnableKeyRequest(key_id=key_id))
    assert readable(bucket, name)


def test_rotated_key_still_reads_older_objects(client, bucket):
    key_id = new_key(client)
    old = put_under(bucket, key_id, "old.bin")
    client.create_key_version(kms.CreateKeyVersionRequest(key_id=key_id))
    new = put_under(bucket, key_id, "new.bin")
    assert readable(bucket, old) and readable(bucket, new)


def test_byok_material_deletion_shreds_objects_until_the_same_material_returns(client, bucket):
    key_id = new_key(client, origin="EXTERNAL")
    with pytest.raises(oss2.exceptions.OssError) as caught:
        put_under(bucket, key_id)  # PendingImport: no material to encrypt with
    assert caught.value.status == 403
    material = os.urandom(32)
    import_material(client, key_id, material)
    name = put_under(bucket, key_id)
    assert readable(bucket, name)
    client.delete_key_material(kms.DeleteKeyMaterialRequest(key_id=key_id))
    assert not readable(bucket, name)
    import_material(client, key_id, material)
    assert readable(bucket, name)


def test_expired_material_makes_objects_unreadable(client, bucket):
    key_id = new_key(client, origin="EXTERNAL", key_spec="Aliyun_SM4")
    material = os.urandom(16)
    import_material(client, key_id, material)
    name = put_under(bucket, key_id)
    Cmk.objects.filter(key_id=key_id).update(material_expire_time=timezone.now() - timedelta(seconds=1))
    assert not readable(bucket, name)
    call_command("localcloud_kms_sweep")
    assert not readable(bucket, name)
    import_material(client, key_id, material)
    assert readable(bucket, name)
