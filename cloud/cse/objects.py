"""Client-side encrypted objects through `cloud.oss.OssClient`, in the format oss2's CryptoBucket writes and reads.

- `put_encrypted`: one PutObject, as `CryptoBucket.put_object`;
- `put_encrypted_multipart`: Initiate, UploadPart per part (its counter offset `part_size * (N - 1) / 16`, the
  envelope sent again on every part as oss2 does) and Complete, as CryptoBucket's multipart calls with a
  `MultipartUploadCryptoContext(data_size, part_size)`; aborted when anything fails. Its steps
  (`start_encrypted_multipart`, `EncryptedMultipartUpload.upload_part`) serve uploads whose Complete another
  process sends;
- `get_decrypted`: GET and decrypt the whole object or a byte range, as `CryptoBucket.get_object`.

Beyond oss2, the console records the plaintext length (and MD5 for bytes) on PutObject, checks the stored length
against the envelope before decrypting, and for whole reads checks length and MD5 after; mismatches are CseErrors.
Reading never changes the stored object.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Iterator
from contextlib import closing, suppress

from cloud.cse.content import CHUNK_SIZE, ContentCipher, as_chunks, check_part_size, check_range, fetch_range
from cloud.cse.envelope import CEK_ALG, ENVELOPE_HEADERS, Envelope
from cloud.cse.errors import CseError
from cloud.errors import CloudError

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class DecryptedStream:
    """Plaintext chunks of one GET, decrypted as they arrive; close() frees the connection (iterating to the end
    does too). A whole read raises CseError at its end if the length or the MD5 does not match the envelope."""

    def __init__(self, head, envelope: Envelope, chunks: Iterable[bytes], source, length: int):
        self.head = head
        self.envelope = envelope
        self.length = length
        self._chunks = chunks
        self._source = source

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks
        finally:
            self.close()

    def close(self) -> None:
        self._source.close()


def head_envelope(oss, bucket: str, key: str) -> Envelope | None:
    """The envelope of an object from its HEAD, or None when it is not client-side encrypted."""
    return Envelope.from_headers(oss.head_object(bucket, key).headers)


def put_encrypted(
    oss,
    bucket: str,
    key: str,
    data,
    wrapper,
    headers: dict[str, str] | None = None,
    sse_headers: dict[str, str] | None = None,
    *,
    size: int | None = None,
):
    """Encrypt `data` (bytes, a file-like object or chunks) under a new data key and PUT it with its envelope.

    As oss2 does, a `Content-Length` or `Content-MD5` in `headers` describes the plaintext and moves into the
    envelope; for bytes both are filled in. `size` is the plaintext length of a stream (checked as it is sent).
    `sse_headers` (`x-oss-server-side-encryption`...) make OSS encrypt the ciphertext once more. The Written.
    """
    extra, declared_length, declared_md5 = _split_headers(headers)
    if isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data)
        if declared_length is not None and declared_length != len(data):
            raise CseError(f"Content-Length says {declared_length} bytes but the data is {len(data)} bytes.")
        length, md5 = len(data), declared_md5 or _b64(hashlib.md5(data, usedforsecurity=False).digest())
    else:
        if size is not None and declared_length is not None and size != declared_length:
            raise CseError(f"Content-Length says {declared_length} bytes but the size given is {size}.")
        length, md5 = (size if size is not None else declared_length), declared_md5
    material = wrapper.new_material()
    envelope = _new_envelope(wrapper, material, unencrypted_length=length, unencrypted_md5=md5)
    cipher = ContentCipher(material.data_key, material.iv)
    if isinstance(data, bytes):
        body = b"".join(cipher.encrypt(data))
    else:
        body = cipher.encrypt(_exactly(as_chunks(data), length))
    return oss.put_object(bucket, key, body, {**extra, **(sse_headers or {}), **envelope.to_metadata()})


def _new_envelope(wrapper, material, **sizes) -> Envelope:
    """The envelope of a new object: the material's wrapped key and IV, the wrapper's matdesc, and its sizes."""
    return Envelope(
        wrapped_key=material.wrapped_key,
        wrapped_start=material.wrapped_iv,
        wrap_alg=material.wrap_alg,
        cek_alg=CEK_ALG,
        matdesc=wrapper.matdesc_json,
        **sizes,
    )


class EncryptedMultipartUpload:
    """A multipart upload of a client-side encrypted object, initiated with its envelope: parts are encrypted at
    their offsets (part N starts at counter `part_size * (N - 1) / 16`), so they may be sent by number in any
    order, and joined by Complete from their (number, ETag) pairs by any process: only sending parts needs the
    data key, which lives in this object and nowhere else."""

    def __init__(self, oss, bucket: str, key: str, upload_id: str, cipher: ContentCipher, part_size: int, metadata):
        self.oss, self.bucket, self.key, self.upload_id = oss, bucket, key, upload_id
        self.part_size = part_size
        self._cipher = cipher
        self._metadata = metadata

    def upload_part(self, number: int, plaintext) -> str:
        """Encrypt and send part `number` (bytes or chunks of plaintext, at most part_size bytes); its ETag."""
        ciphertext = self._cipher.encrypt_part(plaintext, number, self.part_size)
        written = self.oss.upload_part(
            self.bucket, self.key, self.upload_id, number, ciphertext, headers=self._metadata
        )
        return written.etag


def start_encrypted_multipart(
    oss,
    bucket: str,
    key: str,
    size: int,
    wrapper,
    part_size: int,
    headers: dict[str, str] | None = None,
    sse_headers: dict[str, str] | None = None,
) -> EncryptedMultipartUpload:
    """Initiate the multipart upload of `size` plaintext bytes in parts of `part_size` under a new data key, as
    CryptoBucket does with a `MultipartUploadCryptoContext(size, part_size)`.

    part_size must be a multiple of 16 and at least 100 KiB (oss2's rules). The envelope carries data-size and
    part-size; `headers` and `sse_headers` go on Initiate (Content-Length/Content-MD5 move into the envelope).
    """
    if size <= 0:
        raise CseError("A multipart upload needs at least one byte; put an empty object with put_encrypted.")
    check_part_size(part_size, size)
    extra, declared_length, declared_md5 = _split_headers(headers)
    if declared_length is not None and declared_length != size:
        raise CseError(f"Content-Length says {declared_length} bytes but the size given is {size}.")
    material = wrapper.new_material()
    envelope = _new_envelope(
        wrapper,
        material,
        unencrypted_length=declared_length,
        unencrypted_md5=declared_md5,
        data_size=size,
        part_size=part_size,
    )
    metadata = envelope.to_metadata()
    upload_id = oss.init_multipart(bucket, key, {**extra, **(sse_headers or {}), **metadata})
    cipher = ContentCipher(material.data_key, material.iv)
    # oss2 sends the envelope again on every part; so does the console.
    return EncryptedMultipartUpload(oss, bucket, key, upload_id, cipher, part_size, metadata)


def put_encrypted_multipart(
    oss,
    bucket: str,
    key: str,
    fileobj,
    size: int,
    wrapper,
    part_size: int,
    headers: dict[str, str] | None = None,
    sse_headers: dict[str, str] | None = None,
    progress=None,
):
    """Encrypt `size` bytes read from `fileobj` and upload them in parts of `part_size` bytes; the Written.

    Initiate as start_encrypted_multipart, every part, then Complete. On any failure the upload is aborted, so no
    part is left behind. `progress`, when given, is called after each part with the number of plaintext bytes
    uploaded so far.
    """
    upload = start_encrypted_multipart(oss, bucket, key, size, wrapper, part_size, headers, sse_headers)
    try:
        parts = []
        for number, offset in enumerate(range(0, size, part_size), start=1):
            etag = upload.upload_part(number, read_exactly(fileobj, min(part_size, size - offset)))
            parts.append((number, etag))
            if progress is not None:
                progress(min(offset + part_size, size))
        return oss.complete_multipart(bucket, key, upload.upload_id, parts)
    except BaseException:
        with suppress(CloudError):
            oss.abort_multipart(bucket, key, upload.upload_id)
        raise


def get_decrypted(
    oss, bucket: str, key: str, wrapper, byte_range: tuple[int | None, int | None] | None = None, *, stream=False
):
    """The plaintext of an object, or of `byte_range` (start, end) of it: inclusive, end None to the end, start
    None for the last `end` bytes. Bytes, or with `stream` a DecryptedStream of chunks.

    As oss2 does, a range is fetched from the block boundary below its start; exactly the bytes asked for come
    back (an end past the object stops at its end). The stored length must match the envelope's plaintext length;
    a whole read also checks the decrypted length and the MD5 when the envelope records one.
    """
    span = _wanted(byte_range)
    if span is None:
        download = oss.download_object(bucket, key)
    elif span[0] is None:
        download = oss.download_range(bucket, key, None, span[1])
    else:
        fetch_start, fetch_end, _ = fetch_range(*span)
        download = oss.download_range(bucket, key, fetch_start, fetch_end)
    try:
        decrypted = _decrypting(download, wrapper, span)
    except BaseException:
        download.chunks.close()
        raise
    if stream:
        return decrypted
    with closing(decrypted):
        return b"".join(decrypted)


def _decrypting(download, wrapper, span) -> DecryptedStream:
    head = download.head
    envelope = Envelope.from_headers(head.headers)
    if envelope is None:
        raise CseError(
            "The object is not client-side encrypted: it has no x-oss-meta-client-side-encryption-key "
            "(nor the older x-oss-meta-oss-crypto-key) metadata."
        )
    data_key, iv = wrapper.unwrap(envelope)
    cipher = ContentCipher(data_key, iv)
    received = _content_range(head.header("content-range"))
    stored_size = received[2] if received else head.size
    expected = envelope.plaintext_size
    if expected is not None and stored_size != expected:
        raise CseError(
            f"The stored object is {stored_size} bytes but its envelope records {expected} bytes of plaintext "
            "(the ciphertext is exactly as long): the object was truncated or altered."
        )
    first, last = (received[0], received[1]) if received else (0, stored_size - 1)
    if span is None:
        if received:
            raise CseError("OSS answered a whole-object GET with a partial content.")
        chunks = _verified(cipher.decrypt(download.chunks), stored_size, envelope.unencrypted_md5)
        return DecryptedStream(head, envelope, chunks, download.chunks, stored_size)
    start, end = span
    if start is None:
        start, end = max(stored_size - end, 0), stored_size - 1
    else:
        end = stored_size - 1 if end is None else min(end, stored_size - 1)
    if start > end or start < first or end > last:
        raise CseError(f"OSS returned bytes {first}-{last} of {stored_size}, which do not hold bytes {start}-{end}.")
    chunks = cipher.decrypt_range(download.chunks, start, end, fetched_from=first)
    return DecryptedStream(head, envelope, chunks, download.chunks, end - start + 1)


def _wanted(byte_range) -> tuple[int | None, int | None] | None:
    if byte_range is None or tuple(byte_range) == (None, None):
        return None
    start, end = byte_range
    if start is None:
        if end is None or end <= 0:
            raise CseError("A suffix range needs a positive number of bytes.")
        return None, end
    check_range(start, end)
    return start, end


def _verified(chunks: Iterable[bytes], expected: int, md5: str | None) -> Iterator[bytes]:
    digest, count = hashlib.md5(usedforsecurity=False), 0
    for chunk in chunks:
        count += len(chunk)
        digest.update(chunk)
        yield chunk
    if count != expected:
        raise CseError(f"The object ended after {count} of its {expected} bytes: it was truncated in transit.")
    if md5 and md5.strip() != _b64(digest.digest()) and md5.strip().lower() != digest.hexdigest():
        raise CseError(
            "The decrypted content does not match the MD5 its envelope records: the data key is not the "
            "object's, or the content was altered."
        )


def _split_headers(headers: dict[str, str] | None) -> tuple[dict[str, str], int | None, str | None]:
    """The caller's headers without envelope ones, and its Content-Length and Content-MD5 (which oss2 moves)."""
    extra, length, md5 = {}, None, None
    for name, value in (headers or {}).items():
        lowered = name.lower()
        if lowered == "content-length":
            if not str(value).strip().isdigit():
                raise CseError("Content-Length must be a number of bytes.")
            length = int(value)
        elif lowered == "content-md5":
            md5 = str(value).strip()
        elif lowered not in ENVELOPE_HEADERS:
            extra[name] = value
    return extra, length, md5


def _exactly(chunks: Iterable[bytes], length: int | None) -> Iterator[bytes]:
    """The chunks, refusing more or fewer bytes than `length` (None: any number) before the upload ends."""
    count = 0
    for chunk in chunks:
        count += len(chunk)
        if length is not None and count > length:
            raise CseError(f"The data is longer than the {length} bytes declared.")
        yield chunk
    if length is not None and count != length:
        raise CseError(f"The data ended after {count} of the {length} bytes declared.")


def read_exactly(fileobj, length: int) -> Iterator[bytes]:
    """`length` bytes of `fileobj` as chunks; a CseError if it ends first."""
    remaining = length
    while remaining:
        chunk = fileobj.read(min(CHUNK_SIZE, remaining))
        if not chunk:
            raise CseError(f"The file ended {remaining} bytes before the size given.")
        remaining -= len(chunk)
        yield chunk


def _content_range(value: str) -> tuple[int, int, int] | None:
    match = _CONTENT_RANGE.match(value.strip()) if value else None
    return tuple(int(group) for group in match.groups()) if match else None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
