"""The key store behind SSE-KMS and the KMS API: CMKs, their versions and aliases, data keys.

A ciphertext blob names the CMK version that sealed it, so rotation keeps old blobs readable, and
a CMK that is not Enabled (or has no material, or lives in another region) opens nothing.
"""

import os
import struct
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from localcloud import crypto, sealing
from localcloud.models import Cmk, CmkAlias, CmkVersion

DEFAULT_ALIAS = "alias/acs/oss"
MATERIAL_SIZES = {Cmk.Spec.AES_256: 32, Cmk.Spec.SM4: 16}
AEAD_OF_SPEC = {Cmk.Spec.AES_256: crypto.AES256, Cmk.Spec.SM4: crypto.SM4}
_BLOB_MAGIC = b"LCK1"
_LENGTH = struct.Struct(">B")
_MATERIAL_PURPOSE = "kms-cmk-material"


class KeyStoreError(Exception):
    """Base of key-store refusals; `code` is the KMS error code."""

    code = "Forbidden.Key"


class KeyNotFound(KeyStoreError):
    code = "Forbidden.KeyNotFound"


class KeyUnusable(KeyStoreError):
    """The CMK exists but may not produce or open data keys now (state, region, material)."""

    code = "Forbidden.KeyNotEnabled"


class InvalidCiphertext(KeyStoreError):
    code = "Rejected.InvalidCiphertext"


@dataclass(frozen=True)
class DataKeyPair:
    plaintext: bytes
    ciphertext_blob: bytes
    key_id: str
    version_id: str


def regions() -> list[str]:
    return [settings.LOCALCLOUD_REGION, *settings.LOCALCLOUD_EXTRA_REGIONS]


def new_key_id() -> str:
    return str(uuid.uuid4())


def create_key(*, region: str, spec: str = Cmk.Spec.AES_256, origin: str = Cmk.Origin.KMS, description: str = "",
               is_service_default: bool = False) -> Cmk:  # fmt: skip
    """A new CMK; service-generated material for Aliyun_KMS, none (PendingImport) for EXTERNAL."""
    with transaction.atomic():
        cmk = Cmk.objects.create(
            key_id=new_key_id(),
            region=region,
            spec=spec,
            origin=origin,
            state=Cmk.State.ENABLED if origin == Cmk.Origin.KMS else Cmk.State.PENDING_IMPORT,
            description=description,
            is_service_default=is_service_default,
        )
        if origin == Cmk.Origin.KMS:
            add_version(cmk, os.urandom(MATERIAL_SIZES[spec]))
    return cmk


def add_version(cmk: Cmk, material: bytes) -> CmkVersion:
    version_id = str(uuid.uuid4())
    return CmkVersion.objects.create(
        cmk=cmk, version_id=version_id, sealed_material=sealing.seal(_MATERIAL_PURPOSE, material, version_id)
    )


def default_key(region: str) -> Cmk:
    """The service's own CMK `alias/acs/oss` for the region, created on first use."""
    alias = CmkAlias.objects.select_related("cmk").filter(region=region, name=DEFAULT_ALIAS).first()
    if alias:
        return alias.cmk
    try:
        with transaction.atomic():
            cmk = create_key(region=region, description="Default master key that protects my OSS data",
                             is_service_default=True)  # fmt: skip
            CmkAlias.objects.create(region=region, name=DEFAULT_ALIAS, cmk=cmk)
            return cmk
    except IntegrityError:  # another request created it first
        return CmkAlias.objects.select_related("cmk").get(region=region, name=DEFAULT_ALIAS).cmk


def find_key(reference: str, region: str) -> Cmk:
    """A CMK by id, `alias/<name>` or ARN (`acs:kms:<region>:<uid>:key/<id>` or `:alias/<name>`)."""
    if reference.startswith("acs:kms:"):
        parts = reference.split(":", 4)
        if len(parts) != 5 or parts[2] != region:
            raise KeyNotFound(f"The key {reference!r} is not in region {region}.")
        reference = parts[4].removeprefix("key/")
    if reference.startswith("alias/"):
        alias = CmkAlias.objects.select_related("cmk").filter(region=region, name=reference).first()
        if alias is None:
            raise KeyNotFound(f"The alias {reference!r} does not exist in region {region}.")
        return alias.cmk
    cmk = Cmk.objects.filter(key_id=reference).first()
    if cmk is None:
        raise KeyNotFound(f"The key {reference!r} does not exist.")
    return cmk


def ensure_usable(cmk: Cmk, region: str) -> CmkVersion:
    """The version that encrypts now; refuses keys in another region, not Enabled, or without material."""
    if cmk.region != region:
        raise KeyUnusable(f"The key {cmk.key_id} is in region {cmk.region}, not {region}.")
    if cmk.material_expire_time and cmk.material_expire_time <= timezone.now():
        raise KeyUnusable(f"The key material of {cmk.key_id} has expired.")
    if cmk.state != Cmk.State.ENABLED:
        raise KeyUnusable(f"The key {cmk.key_id} is {cmk.state}.")
    version = cmk.versions.exclude(sealed_material=None).order_by("-created_at", "-id").first()
    if version is None:
        raise KeyUnusable(f"The key {cmk.key_id} has no key material.")
    return version


def _material(version: CmkVersion) -> bytes:
    return sealing.unseal(_MATERIAL_PURPOSE, version.sealed_material, version.version_id)


def _blob_header(key_id: str, version_id: str) -> bytes:
    encoded = [key_id.encode(), version_id.encode()]
    return _BLOB_MAGIC + b"".join(_LENGTH.pack(len(part)) + part for part in encoded)


def encrypt(cmk: Cmk, plaintext: bytes, *, region: str, context: bytes = b"") -> bytes:
    version = ensure_usable(cmk, region)
    header = _blob_header(cmk.key_id, version.version_id)
    nonce = os.urandom(crypto.NONCE_SIZE)
    sealed = crypto.aead_seal(AEAD_OF_SPEC[cmk.spec], _material(version), nonce, plaintext, header + context)
    return header + nonce + sealed


def _parse_blob(blob: bytes) -> tuple[str, str, bytes, bytes, bytes]:
    if not blob.startswith(_BLOB_MAGIC):
        raise InvalidCiphertext("The ciphertext blob is not one this key service produced.")
    position, parts = len(_BLOB_MAGIC), []
    for _ in range(2):
        if position >= len(blob):
            raise InvalidCiphertext("The ciphertext blob is truncated.")
        (length,) = _LENGTH.unpack_from(blob, position)
        parts.append(blob[position + 1 : position + 1 + length].decode("ascii", "replace"))
        position += 1 + length
    nonce, sealed = blob[position : position + crypto.NONCE_SIZE], blob[position + crypto.NONCE_SIZE :]
    if len(nonce) != crypto.NONCE_SIZE or len(sealed) < crypto.TAG_SIZE:
        raise InvalidCiphertext("The ciphertext blob is truncated.")
    return parts[0], parts[1], blob[:position], nonce, sealed


def decrypt(blob: bytes, *, region: str, context: bytes = b"") -> tuple[bytes, Cmk]:
    """The plaintext sealed in `blob`, and the CMK that sealed it; the CMK must be usable now."""
    key_id, version_id, header, nonce, sealed = _parse_blob(blob)
    cmk = Cmk.objects.filter(key_id=key_id).first()
    if cmk is None:
        raise KeyNotFound(f"The key {key_id} of this ciphertext does not exist.")
    ensure_usable(cmk, region)
    version = cmk.versions.filter(version_id=version_id).exclude(sealed_material=None).first()
    if version is None:
        raise KeyUnusable(f"The key version {version_id} of {key_id} has no key material.")
    try:
        plaintext = crypto.aead_open(AEAD_OF_SPEC[cmk.spec], _material(version), nonce, sealed, header + context)
    except InvalidTag:
        raise InvalidCiphertext("The ciphertext blob failed authentication.") from None
    return plaintext, cmk


def generate_data_key(cmk: Cmk, *, region: str, size: int = 32, context: bytes = b"") -> DataKeyPair:
    plaintext = os.urandom(size)
    blob = encrypt(cmk, plaintext, region=region, context=context)
    _, version_id, *_ = _parse_blob(blob)
    return DataKeyPair(plaintext=plaintext, ciphertext_blob=blob, key_id=cmk.key_id, version_id=version_id)


def blob_key_version(blob: bytes) -> tuple[str, str]:
    """The CMK id and version id a ciphertext blob names; not authenticated until `decrypt` opens it."""
    key_id, version_id, *_ = _parse_blob(blob)
    return key_id, version_id


def import_material(cmk: Cmk, material: bytes, version_id: str, expires_at=None) -> CmkVersion:
    """Store imported material as `version_id` (re-importing fills the same version again, so blobs
    sealed before a DeleteKeyMaterial open again) and make a PendingImport CMK Enabled."""
    with transaction.atomic():
        version, _ = CmkVersion.objects.update_or_create(
            cmk=cmk,
            version_id=version_id,
            defaults={"sealed_material": sealing.seal(_MATERIAL_PURPOSE, material, version_id)},
        )
        if cmk.state == Cmk.State.PENDING_IMPORT:
            cmk.state = Cmk.State.ENABLED
        cmk.material_expire_time = expires_at
        cmk.save(update_fields=["state", "material_expire_time"])
    return version


def delete_material(cmk: Cmk) -> None:
    """Shred every version's material: blobs under the CMK stay unreadable until the same material is
    imported again. The CMK waits in PendingImport, unless it is already being deleted."""
    with transaction.atomic():
        cmk.versions.update(sealed_material=None)
        if cmk.state != Cmk.State.PENDING_DELETION:
            cmk.state = Cmk.State.PENDING_IMPORT
        cmk.material_expire_time = None
        cmk.save(update_fields=["state", "material_expire_time"])
