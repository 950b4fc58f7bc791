"""Bring your own key through the real alibabacloud-kms20160120 SDK: GetParametersForImport, ImportKeyMaterial,
DeleteKeyMaterial and the PendingImport state; and a script written for Alibaba Cloud KMS, run unchanged."""

import base64
import os
import time
from datetime import timedelta

import pytest
from alibabacloud_kms20160120 import models as kms
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.management import call_command
from django.utils import timezone

from localcloud.models import Cmk, ImportToken

OAEP_HASHES = {"RSAES_OAEP_SHA_256": hashes.SHA256, "RSAES_OAEP_SHA_1": hashes.SHA1}


@pytest.fixture
def client(localcloud, credentials, settings) -> Client:
    return Client(
        Config(
            access_key_id=credentials[0],
            access_key_secret=credentials[1],
            endpoint=localcloud.removeprefix("http://"),
            protocol="http",
            region_id=settings.LOCALCLOUD_REGION,
        )
    )


def refused(call) -> ClientException:
    with pytest.raises(ClientException) as caught:
        call()
    assert 400 <= caught.value.status_code < 500 and caught.value.data["RequestId"]
    return caught.value


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def wrap(public_key_b64: str, material: bytes, algorithm: str = "RSAES_OAEP_SHA_256") -> str:
    """What a BYOK user does offline: RSA-OAEP-encrypt the material under the returned public key."""
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    digest = OAEP_HASHES[algorithm]()
    return b64(public_key.encrypt(material, padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)))


def parameters(client, key_id, algorithm="RSAES_OAEP_SHA_256") -> kms.GetParametersForImportResponseBody:
    request = kms.GetParametersForImportRequest(
        key_id=key_id, wrapping_algorithm=algorithm, wrapping_key_spec="RSA_2048"
    )
    return client.get_parameters_for_import(request).body


def import_material(client, key_id, material, algorithm="RSAES_OAEP_SHA_256", expire_unix=None, token=None):
    params = parameters(client, key_id, algorithm)
    request = kms.ImportKeyMaterialRequest(
        key_id=key_id,
        encrypted_key_material=wrap(params.public_key, material, algorithm),
        import_token=token or params.import_token,
        key_material_expire_unix=expire_unix,
    )
    return client.import_key_material(request)


def external_key(client, spec="Aliyun_AES_256") -> str:
    return client.create_key(kms.CreateKeyRequest(origin="EXTERNAL", key_spec=spec)).body.key_metadata.key_id


def describe(client, key_id) -> kms.DescribeKeyResponseBodyKeyMetadata:
    return client.describe_key(kms.DescribeKeyRequest(key_id=key_id)).body.key_metadata


def data_key(client, key_id) -> kms.GenerateDataKeyResponseBody:
    return client.generate_data_key(kms.GenerateDataKeyRequest(key_id=key_id)).body


def decrypt(client, blob) -> kms.DecryptResponseBody:
    return client.decrypt(kms.DecryptRequest(ciphertext_blob=blob)).body


def test_external_key_waits_for_material(client):
    key_id = external_key(client)
    meta = describe(client, key_id)
    assert (meta.origin, meta.key_state, meta.primary_key_version) == ("EXTERNAL", "PendingImport", None)
    error = refused(lambda: data_key(client, key_id))
    assert (error.code, error.status_code) == ("Rejected.PendingImport", 409)
    assert refused(lambda: client.enable_key(kms.EnableKeyRequest(key_id=key_id))).code == (
        "Rejected.StateModifiedFailed"
    )


@pytest.mark.parametrize("algorithm", OAEP_HASHES)
def test_get_parameters_for_import(client, algorithm):
    key_id = external_key(client)
    body = parameters(client, key_id, algorithm)
    public_key = serialization.load_der_public_key(base64.b64decode(body.public_key))
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 2048
    assert body.key_id == key_id and body.import_token and body.request_id
    expires = ImportToken.objects.get(token=body.import_token).expires_at
    assert abs(expires - timezone.now() - timedelta(hours=24)) < timedelta(minutes=1)
    assert body.token_expire_time == expires.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    "algorithm, spec, code",
    [
        ("RSAES_PKCS1_V1_5", "RSA_2048", "InvalidParameter"),
        ("SM2PKE", "SM2", "InvalidParameter"),
        ("RSAES_OAEP_SHA_256", "RSA_4096", "InvalidParameter"),
        (None, "RSA_2048", "MissingParameter"),
    ],
)
def test_get_parameters_rejects_unsupported_wrapping(client, algorithm, spec, code):
    key_id = external_key(client)
    request = kms.GetParametersForImportRequest(key_id=key_id, wrapping_algorithm=algorithm, wrapping_key_spec=spec)
    assert refused(lambda: client.get_parameters_for_import(request)).code == code


def test_byok_is_only_for_external_keys(client):
    key_id = client.create_key(kms.CreateKeyRequest()).body.key_metadata.key_id
    for call in (
        lambda: parameters(client, key_id),
        lambda: client.delete_key_material(kms.DeleteKeyMaterialRequest(key_id=key_id)),
    ):
        error = refused(call)
        assert (error.code, error.status_code) == ("Unsupported.Origin", 400)
    assert refused(
        lambda: client.create_key_version(kms.CreateKeyVersionRequest(key_id=external_key(client)))
    ).code == ("Unsupported.Origin")


@pytest.mark.parametrize("spec, size", [("Aliyun_AES_256", 32), ("Aliyun_SM4", 16)])
@pytest.mark.parametrize("algorithm", OAEP_HASHES)
def test_byok_round_trip(client, spec, size, algorithm):
    key_id = external_key(client, spec)
    material = os.urandom(size)
    import_material(client, key_id, material, algorithm)
    meta = describe(client, key_id)
    assert meta.key_state == "Enabled" and meta.primary_key_version and meta.material_expire_time is None
    body = data_key(client, key_id)
    assert decrypt(client, body.ciphertext_blob).plaintext == body.plaintext
    client.delete_key_material(kms.DeleteKeyMaterialRequest(key_id=key_id))
    assert describe(client, key_id).key_state == "PendingImport"
    error = refused(lambda: decrypt(client, body.ciphertext_blob))
    assert (error.code, error.status_code) == ("Rejected.PendingImport", 409)
    error = refused(lambda: import_material(client, key_id, os.urandom(size), algorithm))
    assert (error.code, error.status_code) == ("InvalidKeyMaterial", 400)
    import_material(client, key_id, material, algorithm)  # the same material brings everything back
    assert describe(client, key_id).primary_key_version == meta.primary_key_version
    assert decrypt(client, body.ciphertext_blob).plaintext == body.plaintext


def test_same_material_in_two_keys_does_not_open_each_others_blobs(client):
    material = os.urandom(32)
    first, second = external_key(client), external_key(client)
    import_material(client, first, material)
    import_material(client, second, material)
    blob = data_key(client, first).ciphertext_blob
    assert decrypt(client, blob).key_id == first
    assert describe(client, first).primary_key_version != describe(client, second).primary_key_version


def test_material_expiry(client):
    key_id = external_key(client)
    material = os.urandom(32)
    expire_unix = int(time.time()) + 3600
    import_material(client, key_id, material, expire_unix=expire_unix)
    meta = describe(client, key_id)
    assert meta.material_expire_time == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expire_unix))
    blob = data_key(client, key_id).ciphertext_blob
    Cmk.objects.filter(key_id=key_id).update(material_expire_time=timezone.now() - timedelta(seconds=1))
    call_command("localcloud_kms_sweep")
    meta = describe(client, key_id)
    assert (meta.key_state, meta.material_expire_time) == ("PendingImport", None)
    assert refused(lambda: decrypt(client, blob)).code == "Rejected.PendingImport"
    import_material(client, key_id, material)
    assert decrypt(client, blob).key_id == key_id


def test_expired_material_is_refused_before_any_sweep(client):
    key_id = external_key(client)
    import_material(client, key_id, os.urandom(32), expire_unix=int(time.time()) + 3600)
    Cmk.objects.filter(key_id=key_id).update(material_expire_time=timezone.now() - timedelta(seconds=1))
    assert refused(lambda: data_key(client, key_id)).code == "Rejected.PendingImport"
    assert describe(client, key_id).key_state == "PendingImport"


def test_import_rejects_bad_tokens_and_material(client):
    key_id, other_id = external_key(client), external_key(client)
    params, other = parameters(client, key_id), parameters(client, other_id)
    good = wrap(params.public_key, os.urandom(32))

    def attempt(token=params.import_token, wrapped=good, expire_unix=None):
        request = kms.ImportKeyMaterialRequest(
            key_id=key_id, import_token=token, encrypted_key_material=wrapped, key_material_expire_unix=expire_unix
        )
        return refused(lambda: client.import_key_material(request))

    assert attempt(token=other.import_token).code == "InvalidImportToken"  # another key's token
    assert attempt(token="no-such-token").code == "InvalidImportToken"
    assert attempt(wrapped=wrap(params.public_key, os.urandom(16))).code == "InvalidKeyMaterial"  # wrong length
    assert attempt(wrapped=wrap(other.public_key, os.urandom(32))).code == "InvalidKeyMaterial"  # other wrapping key
    assert attempt(wrapped=wrap(params.public_key, os.urandom(32), "RSAES_OAEP_SHA_1")).code == "InvalidKeyMaterial"
    assert attempt(wrapped=b64(os.urandom(256))).code == "InvalidKeyMaterial"
    assert attempt(wrapped="not base64!").code == "InvalidParameter"
    assert attempt(wrapped=None).code == "MissingParameter"
    assert attempt(expire_unix=int(time.time()) - 60).code == "InvalidParameter"
    ImportToken.objects.filter(token=params.import_token).update(expires_at=timezone.now() - timedelta(seconds=1))
    error = attempt()
    assert (error.code, error.status_code) == ("ExpiredImportToken", 400)
    assert describe(client, key_id).key_state == "PendingImport"


def test_material_operations_respect_key_state(client):
    key_id = external_key(client)
    material = os.urandom(32)
    import_material(client, key_id, material)
    client.schedule_key_deletion(kms.ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7))
    assert refused(lambda: parameters(client, key_id)).code == "Rejected.PendingDeletion"
    client.delete_key_material(kms.DeleteKeyMaterialRequest(key_id=key_id))
    assert describe(client, key_id).key_state == "PendingDeletion"  # deleting material keeps the deletion
    client.cancel_key_deletion(kms.CancelKeyDeletionRequest(key_id=key_id))
    assert describe(client, key_id).key_state == "PendingImport"  # no material to be Enabled with
    import_material(client, key_id, material)
    client.disable_key(kms.DisableKeyRequest(key_id=key_id))
    assert refused(lambda: parameters(client, key_id)).code == "Rejected.Disabled"


def test_expired_import_tokens_are_swept(client):
    key_id = external_key(client)
    token = parameters(client, key_id).import_token
    ImportToken.objects.filter(token=token).update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("localcloud_kms_sweep")
    assert not ImportToken.objects.filter(token=token).exists()


# ---------------------------------------------------------------- a script written for Alibaba Cloud KMS


def alibaba_cloud_kms_script(endpoint: str, access_key_id: str, access_key_secret: str, region_id: str) -> dict:
    """Create a key and an alias, make a data key, bring an own key: only the arguments say where it runs."""
    config = Config(access_key_id=access_key_id, access_key_secret=access_key_secret, endpoint=endpoint)
    config.region_id = region_id
    client = Client(config)
    key = client.create_key(kms.CreateKeyRequest(description="app data", key_spec="Aliyun_AES_256")).body
    client.create_alias(kms.CreateAliasRequest(alias_name="alias/app-data", key_id=key.key_metadata.key_id))
    data_key = client.generate_data_key(kms.GenerateDataKeyRequest(key_id="alias/app-data", key_spec="AES_256")).body
    opened = client.decrypt(kms.DecryptRequest(ciphertext_blob=data_key.ciphertext_blob)).body

    byok = client.create_key(kms.CreateKeyRequest(origin="EXTERNAL", description="byok")).body.key_metadata
    params = client.get_parameters_for_import(
        kms.GetParametersForImportRequest(
            key_id=byok.key_id, wrapping_algorithm="RSAES_OAEP_SHA_256", wrapping_key_spec="RSA_2048"
        )
    ).body
    public_key = serialization.load_der_public_key(base64.b64decode(params.public_key))
    material = os.urandom(32)
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    client.import_key_material(
        kms.ImportKeyMaterialRequest(
            key_id=byok.key_id,
            encrypted_key_material=base64.b64encode(public_key.encrypt(material, oaep)).decode(),
            import_token=params.import_token,
            key_material_expire_unix=0,
        )
    )
    sealed = client.encrypt(kms.EncryptRequest(key_id=byok.key_id, plaintext=base64.b64encode(b"hi").decode())).body
    return {
        "data key opens": opened.plaintext == data_key.plaintext,
        "byok state": client.describe_key(kms.DescribeKeyRequest(key_id=byok.key_id)).body.key_metadata.key_state,
        "byok decrypts": client.decrypt(kms.DecryptRequest(ciphertext_blob=sealed.ciphertext_blob)).body.plaintext,
    }


def test_a_script_for_alibaba_cloud_kms_runs_unchanged(localcloud, credentials, settings):
    """With Alibaba Cloud the endpoint is `kms.cn-hangzhou.aliyuncs.com`; localcloud's is `http://127.0.0.1:PORT`
    (the scheme in the endpoint makes the SDK use plain HTTP, so not even `protocol` changes)."""
    result = alibaba_cloud_kms_script(localcloud, *credentials, settings.LOCALCLOUD_REGION)
    assert result == {"data key opens": True, "byok state": "Enabled", "byok decrypts": "aGk="}
