"""AES-256-CTR over the object's content, block for block as oss2's `utils.AESCTRCipher` does it.

The object is one CTR keystream: the 16-byte IV read as a 128-bit big-endian number is the counter of the first
block, and it grows by one per 16-byte block of the object. No padding, no tag: the ciphertext is exactly as long
as the plaintext. Hence:

- a byte range starts at counter `iv + offset // 16`. oss2 asks OSS for the range from the block boundary below
  the wanted start (`adjust_range`) and drops the bytes before it (`discard`); `fetch_range` and `decrypt_range`
  do the same, and also accept ciphertext fetched from an unaligned offset (the keystream is advanced to it);
- multipart part N (1-based) starts at counter offset `part_size * (N - 1) / 16`, so part_size must be a multiple
  of 16 and the uploaded parts together are the same single keystream.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from cloud.cse.errors import CseError

BLOCK_SIZE = 16
KEY_SIZE = 32
IV_SIZE = 16
CHUNK_SIZE = 64 * 1024
# oss2.defaults: a CryptoBucket refuses smaller parts or more of them.
MIN_PART_SIZE = 100 * 1024
MAX_PART_COUNT = 10_000
_COUNTER_SPACE = 1 << 128


def new_data_key() -> bytes:
    """A random 32-byte AES-256 data key (oss2 `random_key(32)`)."""
    return os.urandom(KEY_SIZE)


def new_iv() -> bytes:
    """16 random bytes with bytes 8-11 zeroed, as oss2's `random_iv`: headroom before the low half overflows."""
    iv = os.urandom(IV_SIZE)
    return iv[:8] + bytes(4) + iv[12:]


def counter_offset(byte_offset: int) -> int:
    """The counter offset of the block holding `byte_offset` (oss2 `calc_offset` for aligned offsets)."""
    if byte_offset < 0:
        raise CseError("A byte offset cannot be negative.")
    return byte_offset // BLOCK_SIZE


def part_offset(part_number: int, part_size: int) -> int:
    """The byte offset where multipart part `part_number` (1-based) starts; its counter is this over 16."""
    if part_number < 1:
        raise CseError("Part numbers start at 1.")
    if part_size <= 0 or part_size % BLOCK_SIZE:
        raise CseError(f"The part size must be a positive multiple of {BLOCK_SIZE} bytes, not {part_size}.")
    return part_size * (part_number - 1)


def check_part_size(part_size: int, data_size: int) -> None:
    """oss2's `is_valid_part_size`: a multiple of 16, at least 100 KiB, and at most 10,000 parts in all."""
    if part_size % BLOCK_SIZE or part_size < MIN_PART_SIZE:
        raise CseError(
            f"The part size must be a multiple of {BLOCK_SIZE} bytes and at least {MIN_PART_SIZE} bytes "
            f"for client-side encryption, not {part_size}."
        )
    if part_size * MAX_PART_COUNT < data_size:
        raise CseError(f"A part size of {part_size} bytes needs more than {MAX_PART_COUNT} parts for this object.")


def fetch_range(start: int, end: int | None) -> tuple[int, int | None, int]:
    """What to ask OSS for to decrypt plaintext bytes `start`..`end` (inclusive, None: to the end).

    Returns (fetch start, fetch end, discard): the start moved down to a block boundary as oss2's
    `AESCTRCipher.adjust_range` moves it, the end as it is, and the bytes to drop before `start`.
    """
    check_range(start, end)
    aligned = start - start % BLOCK_SIZE
    return aligned, end, start - aligned


def check_range(start: int, end: int | None) -> None:
    if start < 0 or (end is not None and end < start):
        raise CseError(f"The byte range {start}-{'' if end is None else end} is not valid.")


class CtrStream:
    """One AES-256-CTR keystream positioned at byte `offset` of the object; encrypting and decrypting are the same.

    `offset` need not be block-aligned: the keystream of the block's leading bytes is used up first.
    """

    def __init__(self, key: bytes, iv: bytes, offset: int = 0):
        _check_material(key, iv)
        counter = (int.from_bytes(iv, "big") + counter_offset(offset)) % _COUNTER_SPACE
        self._context = Cipher(algorithms.AES(key), modes.CTR(counter.to_bytes(IV_SIZE, "big"))).encryptor()
        if offset % BLOCK_SIZE:
            self._context.update(bytes(offset % BLOCK_SIZE))

    def update(self, data: bytes) -> bytes:
        return self._context.update(data)

    def transform(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            if chunk:
                yield self._context.update(chunk)


class ContentCipher:
    """The content cipher of one object: its data key and IV (both secret; never shown)."""

    def __init__(self, key: bytes, iv: bytes):
        _check_material(key, iv)
        self._key, self._iv = key, iv

    def __repr__(self) -> str:
        return "ContentCipher(AES-256-CTR)"

    def stream(self, offset: int = 0) -> CtrStream:
        return CtrStream(self._key, self._iv, offset)

    def encrypt(self, data, offset: int = 0) -> Iterator[bytes]:
        """Ciphertext chunks for plaintext `data` (bytes, a file-like object or chunks) that starts at `offset`."""
        return self.stream(offset).transform(as_chunks(data))

    def decrypt(self, data, offset: int = 0) -> Iterator[bytes]:
        """Plaintext chunks for ciphertext `data` that starts at byte `offset` of the object."""
        return self.stream(offset).transform(as_chunks(data))

    def encrypt_part(self, data, part_number: int, part_size: int) -> Iterator[bytes]:
        """Ciphertext of multipart part `part_number` (1-based), as oss2's `CryptoBucket.upload_part` makes it."""
        return self.encrypt(data, part_offset(part_number, part_size))

    def decrypt_range(self, data, start: int, end: int | None, fetched_from: int | None = None) -> Iterator[bytes]:
        """Exactly plaintext bytes `start`..`end` (inclusive; None: to the end of `data`).

        `data` is ciphertext that starts at byte `fetched_from` of the object: by default the block boundary
        `fetch_range` asks OSS for; any offset at or before `start` does.
        """
        check_range(start, end)
        origin = fetch_range(start, end)[0] if fetched_from is None else fetched_from
        if not 0 <= origin <= start:
            raise CseError(f"Ciphertext fetched from byte {origin} cannot give plaintext from byte {start}.")
        return _window(self.decrypt(data, origin), start - origin, None if end is None else end - start + 1)


def as_chunks(data, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Chunks of bytes from bytes, a file-like object with read(), or an iterable of bytes."""
    if isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data)
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]
    elif hasattr(data, "read"):
        while chunk := data.read(chunk_size):
            yield chunk
    else:
        for chunk in data:
            yield bytes(chunk)


def _window(chunks: Iterable[bytes], skip: int, count: int | None) -> Iterator[bytes]:
    """Drop `skip` bytes, then give `count` bytes (None: all that follow)."""
    for chunk in chunks:
        if skip:
            dropped = min(skip, len(chunk))
            chunk, skip = chunk[dropped:], skip - dropped
        if count is not None:
            chunk = chunk[:count]
            count -= len(chunk)
        if chunk:
            yield chunk
        if count == 0:
            return


def _check_material(key: bytes, iv: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise CseError(f"The data key must be {KEY_SIZE} bytes for AES-256, not {len(key)}.")
    if len(iv) != IV_SIZE:
        raise CseError(f"The IV must be {IV_SIZE} bytes, not {len(iv)}.")
