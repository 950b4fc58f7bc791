"""Bring your own key: GetParametersForImport, ImportKeyMaterial, DeleteKeyMaterial for EXTERNAL keys.

GetParametersForImport makes a fresh RSA-2048 wrapping key pair per request; the private half is sealed
under the root key next to the token (ImportToken rows, valid 24 h) and only the public half leaves.
ImportKeyMaterial unwraps the material with RSAES-OAEP (SHA-256 or SHA-1, MGF1 with the same hash).

A key keeps one material for life: its version id is an HMAC of the key id and the material under a sub-key
of the root key, so re-importing after DeleteKeyMaterial or expiry fills the same version again (and its
blobs open again) while different material is refused, without keeping anything about the material
once it is deleted.
"""

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from localcloud import crypto, keystore, sealing
from localcloud.kms import errors
from localcloud.kms.actions import Call, b64, iso, key_param, require_state, require_user_key
from localcloud.models import Cmk, ImportToken

TOKEN_LIFETIME = timedelta(hours=24)
WRAPPING_KEY_SPECS = ("RSA_2048",)
WRAPPING_HASHES = {"RSAES_OAEP_SHA_256": hashes.SHA256, "RSAES_OAEP_SHA_1": hashes.SHA1}
_PRIVATE_KEY_PURPOSE = "kms-import-wrapping-key"
_VERSION_ID_PURPOSE = "kms-external-version-id"
# Beyond this, KeyMaterialExpireUnix is not a date datetime can hold; nothing legitimate asks for it.
_MAX_EXPIRY_UNIX = 253402300799  # 9999-12-31T23:59:59Z


def _external_key(call: Call) -> Cmk:
    """The EXTERNAL key named by KeyId: only those take, lose and re-take imported material."""
    cmk = key_param(call)
    require_user_key(cmk)
    if cmk.origin != Cmk.Origin.EXTERNAL:
        raise errors.unsupported_origin(cmk.origin)
    return cmk


def get_parameters_for_import(call: Call) -> dict:
    p = call.params
    algorithm = p.required("WrappingAlgorithm")
    if algorithm not in WRAPPING_HASHES:
        raise errors.invalid("WrappingAlgorithm", f"Valid values: {', '.join(WRAPPING_HASHES)}.")
    if p.required("WrappingKeySpec") not in WRAPPING_KEY_SPECS:
        raise errors.invalid("WrappingKeySpec", f"Valid values: {', '.join(WRAPPING_KEY_SPECS)}.")
    cmk = _external_key(call)
    require_state(cmk, Cmk.State.ENABLED, Cmk.State.PENDING_IMPORT)
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = secrets.token_urlsafe(32)
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    row = ImportToken.objects.create(
        token=token,
        cmk=cmk,
        wrapping_algorithm=algorithm,
        sealed_private_key=sealing.seal(_PRIVATE_KEY_PURPOSE, der, token),
        expires_at=timezone.now() + TOKEN_LIFETIME,
    )
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {"KeyId": cmk.key_id, "ImportToken": token, "PublicKey": b64(public_der),
            "TokenExpireTime": iso(row.expires_at)}  # fmt: skip


def _token_for(cmk: Cmk, token: str) -> ImportToken:
    row = ImportToken.objects.filter(token=token).first()
    if row is None or row.cmk_id != cmk.pk:
        raise errors.KmsError(400, "InvalidImportToken", "import token is invalid: it was not issued for this key.")
    if row.expires_at <= timezone.now():
        raise errors.KmsError(400, "ExpiredImportToken", "import token is expired: call GetParametersForImport again.")
    return row


def _unwrap(row: ImportToken, wrapped: bytes) -> bytes:
    private_key = serialization.load_der_private_key(
        sealing.unseal(_PRIVATE_KEY_PURPOSE, row.sealed_private_key, row.token), password=None
    )
    digest = WRAPPING_HASHES[row.wrapping_algorithm]()
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)
    try:
        return private_key.decrypt(wrapped, oaep)
    except ValueError:
        raise errors.invalid_key_material(
            f"it does not unwrap with this token's public key and {row.wrapping_algorithm}."
        ) from None


def _material_version_id(cmk: Cmk, material: bytes) -> str:
    key = crypto.derive_key(settings.LOCALCLOUD_ROOT_KEY, _VERSION_ID_PURPOSE)
    digest = hmac.new(key, cmk.key_id.encode() + b"\0" + material, hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _expiry(call: Call) -> datetime | None:
    """KeyMaterialExpireUnix: absent or 0 means never; otherwise a future epoch second."""
    unix = call.params.integer("KeyMaterialExpireUnix", 0, _MAX_EXPIRY_UNIX, default=0)
    if not unix:
        return None
    expires_at = datetime.fromtimestamp(unix, UTC)
    if expires_at <= timezone.now():
        raise errors.invalid("KeyMaterialExpireUnix", "It must be in the future.")
    return expires_at


def import_key_material(call: Call) -> dict:
    p = call.params
    wrapped = p.base64("EncryptedKeyMaterial")
    token = p.required("ImportToken")
    expires_at = _expiry(call)
    cmk = _external_key(call)
    material = _unwrap(_token_for(cmk, token), wrapped)
    size = keystore.MATERIAL_SIZES[cmk.spec]
    if len(material) != size:
        raise errors.invalid_key_material(f"a {cmk.spec} key takes {size * 8}-bit material.")
    version_id = _material_version_id(cmk, material)
    with transaction.atomic():  # the key row locked: two first imports of different material cannot both win
        locked = Cmk.objects.select_for_update().filter(pk=cmk.pk).first()
        if locked is None:
            raise errors.key_not_found(cmk.key_id)
        require_state(locked, Cmk.State.ENABLED, Cmk.State.PENDING_IMPORT)
        known = set(locked.versions.values_list("version_id", flat=True))
        if known and version_id not in known:
            raise errors.invalid_key_material("only the material imported before can be imported into this key.")
        keystore.import_material(locked, material, version_id, expires_at)
    return {}


def delete_key_material(call: Call) -> dict:
    """Shreds the material: SSE-KMS objects and blobs under the key stay unreadable until it is re-imported."""
    keystore.delete_material(_external_key(call))
    return {}


ACTIONS = {
    "GetParametersForImport": get_parameters_for_import,
    "ImportKeyMaterial": import_key_material,
    "DeleteKeyMaterial": delete_key_material,
}
