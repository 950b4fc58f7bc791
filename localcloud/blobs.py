"""Object and part data at rest: streaming writes that seal as they go, reads that open only what they need.

A blob's identity (bucket, key, blob id) is bound into every frame and into its wrapped data key,
so a blob file moved under another object, or a key row pointed at another blob, fails to open.
"""

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import transaction

from localcloud import crypto, errors, keystore, pipeline, sealing
from localcloud.models import ServiceMasterKey
from localcloud.sse import SseChoice
from localcloud.storage import blob_store

READ_CHUNK = 256 * 1024
_OSS_WRAPPED = b"O"
_KMS_WRAPPED = b"K"
_MASTER_PURPOSE = "sse-oss-master-key"


def master_keys() -> dict[int, bytes]:
    """Every SSE-OSS master-key version, creating version 1 on first use."""
    rows = list(ServiceMasterKey.objects.order_by("version"))
    if not rows:
        rotate_master_key()
        rows = list(ServiceMasterKey.objects.order_by("version"))
    return {row.version: sealing.unseal(_MASTER_PURPOSE, row.sealed_material, str(row.version)) for row in rows}


def rotate_master_key() -> int:
    """Add a master-key version; new objects use it, objects under older versions still open."""
    with transaction.atomic():
        latest = ServiceMasterKey.objects.select_for_update().order_by("-version").first()
        version = (latest.version if latest else 0) + 1
        material = os.urandom(32)
        ServiceMasterKey.objects.create(
            version=version, sealed_material=sealing.seal(_MASTER_PURPOSE, material, str(version))
        )
    return version


def master_key_version(record) -> int | None:
    """The SSE-OSS master-key version that wraps a record's data key (None for plain and SSE-KMS records)."""
    sealed = bytes(record.sealed_data_key or b"")
    if sealed[:1] != _OSS_WRAPPED:
        return None
    return crypto.wrapped_key_version(sealed[1:])


def identity(bucket_name: str, key: str, blob_id: str) -> bytes:
    return b"\0".join((bucket_name.encode(), key.encode("utf-8", "surrogateescape"), blob_id.encode()))


@dataclass(frozen=True)
class Written:
    blob: str
    size: int
    md5: bytes
    crc64: int
    cipher: str
    sealed_data_key: bytes | None
    base_nonce: bytes | None
    sse: SseChoice

    @property
    def etag(self) -> str:
        return self.md5.hex().upper()

    def fields(self) -> dict:
        """Column values for a StoredObject or UploadPart row."""
        return {
            "blob": self.blob,
            "size": self.size,
            "etag": self.etag,
            "crc64": str(self.crc64),
            "cipher": self.cipher,
            "sealed_data_key": self.sealed_data_key,
            "base_nonce": self.base_nonce,
            "sse_algorithm": self.sse.algorithm,
            "sse_kms_key_id": self.sse.kms_key_id,
            "sse_data_encryption": self.sse.data_encryption,
        }


def _kms_data_key(choice: SseChoice, region: str, cipher: str, context: bytes) -> tuple[crypto.DataKey, bytes, str]:
    try:
        if choice.kms_key_id:
            cmk = keystore.find_key(choice.kms_key_id, region)
        else:
            cmk = keystore.default_key(region)
        pair = keystore.generate_data_key(cmk, region=region, size=crypto.KEY_SIZES[cipher], context=context)
    except keystore.KeyStoreError:
        raise errors.kms_forbidden() from None
    data_key = crypto.DataKey(cipher, pair.plaintext, os.urandom(crypto.NONCE_SIZE))
    return data_key, _KMS_WRAPPED + pair.ciphertext_blob, choice.kms_key_id or cmk.key_id


def _new_data_key(choice: SseChoice, region: str, context: bytes):
    """(data key, sealed form, the SSE to report) for a new blob under `choice`."""
    if not choice.algorithm:
        return None, None, choice
    if choice.algorithm == "KMS":
        data_key, sealed, key_id = _kms_data_key(choice, region, choice.cipher, context)
        return data_key, sealed, SseChoice("KMS", key_id, choice.data_encryption)
    data_key = crypto.new_data_key(choice.cipher)
    return data_key, _OSS_WRAPPED + crypto.wrap_key(master_keys(), data_key.key, context), choice


def write(chunks: Iterable[bytes], *, choice: SseChoice, bucket, key: str) -> Written:
    """Store `chunks` as a new blob sealed per `choice`; the blob is visible only once complete."""
    store = blob_store()
    with store.writer() as writer:
        context = identity(bucket.name, key, writer.blob_id)
        data_key, sealed_key, reported = _new_data_key(choice, bucket.region, context)
        encryptor = crypto.FrameEncryptor(data_key, context) if data_key else None
        sealer = pipeline.BackgroundSink(encryptor.update, writer.write) if encryptor else None
        md5, crc = hashlib.md5(), crypto.Crc64()
        try:
            for chunk in chunks:
                md5.update(chunk)
                crc.update(chunk)
                sealer.put(chunk) if sealer else writer.write(chunk)
        finally:
            if sealer:
                sealer.close()
        if encryptor:
            writer.write(encryptor.finish())
        size = encryptor.plaintext_size if encryptor else writer.size
        blob_id = writer.commit()
    return Written(
        blob=blob_id,
        size=size,
        md5=md5.digest(),
        crc64=crc.value,
        cipher=choice.cipher if data_key else "",
        sealed_data_key=sealed_key,
        base_nonce=data_key.base_nonce if data_key else None,
        sse=reported,
    )


def _open_data_key(record, context: bytes, region: str) -> crypto.DataKey:
    sealed = bytes(record.sealed_data_key)
    kind, body = sealed[:1], sealed[1:]
    if kind == _KMS_WRAPPED:
        try:
            key, _ = keystore.decrypt(body, region=region, context=context)
        except keystore.KeyStoreError:
            raise errors.kms_forbidden() from None
    else:
        try:
            key = crypto.unwrap_key(master_keys(), body, context)
        except crypto.IntegrityError:
            raise errors.OssError(500, "InternalError", "The object's data key failed authentication.") from None
    return crypto.DataKey(record.cipher, key, bytes(record.base_nonce))


def prepare_read(record, *, bucket, key: str):
    """Everything a read needs that can fail with a clean error (key access), checked before any byte is sent."""
    if not record.cipher:
        return None
    return _open_data_key(record, identity(bucket.name, key, record.blob), bucket.region)


def read(record, data_key, *, bucket, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Plaintext bytes start..end (inclusive) of a stored blob; a tampered blob raises IntegrityError."""
    end = record.size - 1 if end is None else end
    with blob_store().open(record.blob) as handle:
        if data_key is None:
            handle.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = handle.read(min(READ_CHUNK, remaining))
                if not chunk:
                    raise crypto.IntegrityError("blob is shorter than the object")
                remaining -= len(chunk)
                yield chunk
            return
        context = identity(bucket.name, key, record.blob)
        yield from pipeline.prefetched(
            lambda: crypto.decrypt_range(data_key, context, handle, record.size, start=start, end=end)
        )
