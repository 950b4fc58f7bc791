"""At-rest cryptography for localcloud (design.md §6): framed AEAD, data-key wrapping, CRC64.

Object blob layout: the plaintext is cut into frames of `frame_size` bytes (the last one may be
shorter, and an empty object is one empty frame); each frame is stored as its ciphertext followed
by a 16-byte GCM tag, with nothing else in the file. The data key, base nonce and frame size live
in the object's metadata row (the key wrapped), so the blob alone reveals nothing but its length.
New content (an overwrite, an append, a re-encryption) always gets a new DataKey: sealing other
bytes under the same key and frame nonce would break GCM.

Pure functions over `cryptography`; the only I/O is on file-like objects the caller passes in.
"""

import os
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

import crcmod
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

AES256 = "AES256"
SM4 = "SM4"
KEY_SIZES = {AES256: 32, SM4: 16}

FRAME_SIZE = 64 * 1024
TAG_SIZE = 16
NONCE_SIZE = 12

# Versioned so a future layout can coexist with blobs already on disk.
_FRAME_AAD_PREFIX = b"localcloud-frame-v1\0"
_WRAP_FORMAT = 1
_WRAP_HEADER = struct.Struct(">BI")  # format, master-key version


class IntegrityError(Exception):
    """Ciphertext, wrapped key or parameters do not authenticate. Messages never carry key material."""


@dataclass(frozen=True)
class DataKey:
    """Per-object encryption parameters. `key` is secret and kept out of repr()."""

    algorithm: str
    key: bytes = field(repr=False)
    base_nonce: bytes
    frame_size: int = FRAME_SIZE

    def __post_init__(self):
        if self.algorithm not in KEY_SIZES:
            raise ValueError(f"unsupported algorithm {self.algorithm!r}")
        if len(self.key) != KEY_SIZES[self.algorithm]:
            raise ValueError(f"{self.algorithm} needs a {KEY_SIZES[self.algorithm]}-byte key")
        if len(self.base_nonce) != NONCE_SIZE:
            raise ValueError(f"base nonce must be {NONCE_SIZE} bytes")
        if self.frame_size <= 0:
            raise ValueError("frame size must be positive")


def new_data_key(algorithm: str, frame_size: int = FRAME_SIZE) -> DataKey:
    """A fresh random key and base nonce for one object; never reuse it for different content."""
    if algorithm not in KEY_SIZES:
        raise ValueError(f"unsupported algorithm {algorithm!r}")
    return DataKey(algorithm, os.urandom(KEY_SIZES[algorithm]), os.urandom(NONCE_SIZE), frame_size)


# -- frame geometry ---------------------------------------------------------------------------


def frame_count(plaintext_size: int, frame_size: int = FRAME_SIZE) -> int:
    """Number of frames for an object; an empty object still has one (empty, authenticated) frame."""
    return max(1, -(-plaintext_size // frame_size))


def ciphertext_size(plaintext_size: int, frame_size: int = FRAME_SIZE) -> int:
    """Size of the blob on disk for `plaintext_size` bytes of object data."""
    return plaintext_size + TAG_SIZE * frame_count(plaintext_size, frame_size)


def frame_offset(index: int, frame_size: int = FRAME_SIZE) -> int:
    """Offset in the blob where frame `index` starts (every frame but the last is full)."""
    return index * (frame_size + TAG_SIZE)


def frame_plaintext_size(plaintext_size: int, index: int, frame_size: int = FRAME_SIZE) -> int:
    """Plaintext bytes held by frame `index`."""
    return max(0, min(frame_size, plaintext_size - index * frame_size))


def frames_for_range(plaintext_size: int, start: int, end: int, frame_size: int = FRAME_SIZE) -> range:
    """Indexes of the frames covering plaintext bytes `start`..`end` (inclusive, as in HTTP Range).

    For an empty object the only valid range is start=0, end=-1, covering its one empty frame.
    """
    if plaintext_size == 0 and (start, end) == (0, -1):
        return range(1)
    if not 0 <= start <= end < plaintext_size:
        raise ValueError(f"range {start}-{end} is outside an object of {plaintext_size} bytes")
    return range(start // frame_size, end // frame_size + 1)


# -- framed AEAD ------------------------------------------------------------------------------


def _frame_nonce(data_key: DataKey, index: int) -> bytes:
    # XOR into the low 64 bits: distinct per frame under this key without storing per-frame nonces.
    low = int.from_bytes(data_key.base_nonce[4:], "big") ^ index
    return data_key.base_nonce[:4] + low.to_bytes(8, "big")


def _frame_aad(identity: bytes, index: int, last: bool) -> bytes:
    # Fixed-width fields before the identity keep the encoding unambiguous without a length prefix.
    return _FRAME_AAD_PREFIX + struct.pack(">QB", index, last) + identity


def aead_seal(algorithm: str, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM or SM4-GCM: ciphertext followed by the 16-byte tag."""
    if algorithm == AES256:
        return AESGCM(key).encrypt(nonce, plaintext, aad)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    body = enc.update(plaintext) + enc.finalize()
    return body + enc.tag


def aead_open(algorithm: str, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Inverse of aead_seal; raises InvalidTag and never returns unauthenticated bytes."""
    if algorithm == AES256:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    if len(sealed) < TAG_SIZE:
        raise InvalidTag()
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, sealed[-TAG_SIZE:])).decryptor()
    dec.authenticate_additional_data(aad)
    plaintext = dec.update(sealed[:-TAG_SIZE])
    dec.finalize()  # verifies the tag; `plaintext` is returned only after it passes
    return plaintext


def _seal(data_key: DataKey, identity: bytes, index: int, last: bool, plaintext: bytes) -> bytes:
    nonce, aad = _frame_nonce(data_key, index), _frame_aad(identity, index, last)
    return aead_seal(data_key.algorithm, data_key.key, nonce, plaintext, aad)


def _open(data_key: DataKey, identity: bytes, index: int, last: bool, sealed: bytes) -> bytes:
    nonce, aad = _frame_nonce(data_key, index), _frame_aad(identity, index, last)
    try:
        return aead_open(data_key.algorithm, data_key.key, nonce, sealed, aad)
    except InvalidTag:
        raise IntegrityError(f"frame {index} failed authentication") from None


class FrameEncryptor:
    """Streaming encryptor: feed plaintext chunks of any size with update(), then call finish() once.

    The concatenation of everything returned is the blob; its length is ciphertext_size(total).
    """

    def __init__(self, data_key: DataKey, identity: bytes):
        self._data_key = data_key
        self._identity = bytes(identity)
        self._buffer = bytearray()
        self._index = 0
        self._finished = False
        self.plaintext_size = 0

    def update(self, data: bytes) -> bytes:
        """Add plaintext; return the ciphertext of the frames completed so far (possibly b"")."""
        if self._finished:
            raise ValueError("encryptor already finished")
        self._buffer += data
        self.plaintext_size += len(data)
        size = self._data_key.frame_size
        out, pos = [], 0
        # Strictly greater: a full frame may turn out to be the last one, which must carry the flag.
        while len(self._buffer) - pos > size:
            out.append(self._seal(bytes(self._buffer[pos : pos + size]), last=False))
            pos += size
        del self._buffer[:pos]
        return b"".join(out)

    def finish(self) -> bytes:
        """Seal the last frame (empty for an empty object) and return its ciphertext."""
        if self._finished:
            raise ValueError("encryptor already finished")
        self._finished = True
        sealed = self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()
        return sealed

    def _seal(self, plaintext: bytes, last: bool) -> bytes:
        sealed = _seal(self._data_key, self._identity, self._index, last, plaintext)
        self._index += 1
        return sealed


def encrypt_chunks(data_key: DataKey, identity: bytes, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Encrypt an iterable of plaintext chunks, yielding ciphertext as frames complete."""
    encryptor = FrameEncryptor(data_key, identity)
    for chunk in chunks:
        out = encryptor.update(chunk)
        if out:
            yield out
    yield encryptor.finish()


def _read_exact(fileobj: BinaryIO, size: int) -> bytes:
    parts, remaining = [], size
    while remaining:
        part = fileobj.read(remaining)
        if not part:
            raise IntegrityError("ciphertext is truncated")
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def decrypt_range(
    data_key: DataKey,
    identity: bytes,
    fileobj: BinaryIO,
    plaintext_size: int,
    *,
    start: int = 0,
    end: int | None = None,
) -> Iterator[bytes]:
    """Plaintext bytes `start`..`end` (inclusive; default: the whole object) as an iterator of chunks.

    The range and the blob length are checked on the call, so a caller can still choose its error
    response; frames are then read, authenticated and yielded one at a time, and only the frames the
    range touches. A failing frame raises IntegrityError before any of its bytes are yielded.
    """
    if end is None:
        end = plaintext_size - 1
    indexes = frames_for_range(plaintext_size, start, end, data_key.frame_size)
    # The length check catches a truncated or extended blob even when the range avoids its tail.
    fileobj.seek(0, os.SEEK_END)
    if fileobj.tell() != ciphertext_size(plaintext_size, data_key.frame_size):
        raise IntegrityError("ciphertext length does not match the object size")
    return _decrypt_frames(data_key, identity, fileobj, plaintext_size, indexes, start, end)


def _decrypt_frames(data_key, identity, fileobj, plaintext_size, indexes, start, end) -> Iterator[bytes]:
    size = data_key.frame_size
    last_index = frame_count(plaintext_size, size) - 1
    fileobj.seek(frame_offset(indexes[0], size))
    for index in indexes:
        sealed = _read_exact(fileobj, frame_plaintext_size(plaintext_size, index, size) + TAG_SIZE)
        plaintext = _open(data_key, identity, index, index == last_index, sealed)
        lo = max(start - index * size, 0)
        hi = min(end - index * size + 1, len(plaintext))
        if hi > lo:
            yield plaintext[lo:hi]


# -- data-key wrapping ------------------------------------------------------------------------


def wrap_key(master_keys: Mapping[int, bytes], plaintext_key: bytes, context: bytes) -> bytes:
    """Wrap a data key under the newest master-key version with AES-256-GCM, `context` as AAD."""
    if not master_keys:
        raise ValueError("no master key configured")
    version = max(master_keys)
    master = _master_key(master_keys, version)
    header = _WRAP_HEADER.pack(_WRAP_FORMAT, version)
    nonce = os.urandom(NONCE_SIZE)
    return header + nonce + AESGCM(master).encrypt(nonce, plaintext_key, header + context)


def unwrap_key(master_keys: Mapping[int, bytes], wrapped: bytes, context: bytes) -> bytes:
    """Recover a data key wrapped by any master-key version still present in `master_keys`."""
    version = wrapped_key_version(wrapped)
    if version not in master_keys:
        raise IntegrityError(f"master key version {version} is not available")
    header, body_at = wrapped[: _WRAP_HEADER.size], _WRAP_HEADER.size + NONCE_SIZE
    nonce = wrapped[_WRAP_HEADER.size : body_at]
    try:
        return AESGCM(_master_key(master_keys, version)).decrypt(nonce, wrapped[body_at:], header + context)
    except InvalidTag:
        raise IntegrityError(f"wrapped key failed authentication under master key version {version}") from None


def wrapped_key_version(wrapped: bytes) -> int:
    """The master-key version that wrapped `wrapped`, so a rotation sweep can find stale keys."""
    if len(wrapped) < _WRAP_HEADER.size + NONCE_SIZE + TAG_SIZE:
        raise IntegrityError("wrapped key is malformed")
    fmt, version = _WRAP_HEADER.unpack(wrapped[: _WRAP_HEADER.size])
    if fmt != _WRAP_FORMAT:
        raise IntegrityError(f"wrapped key has unknown format {fmt}")
    return version


def _master_key(master_keys: Mapping[int, bytes], version: int) -> bytes:
    key = master_keys[version]
    if len(key) != 32:
        raise ValueError(f"master key version {version} must be 32 bytes")
    return key


def derive_key(root_key: bytes, purpose: str) -> bytes:
    """A 32-byte sub-key of `root_key` for one named purpose (HKDF-SHA256, purpose in `info`).

    Distinct purposes give independent keys, e.g. "sse-oss-master/1" or "kms-material-kek".
    """
    if len(root_key) < 32:
        raise ValueError("root key must be at least 32 bytes")
    if not purpose:
        raise ValueError("purpose must not be empty")
    info = b"localcloud/" + purpose.encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(root_key)


# -- CRC64 (x-oss-hash-crc64ecma) -------------------------------------------------------------

# CRC-64/XZ as oss2 configures crcmod: ECMA-182 polynomial, reflected, init and xor-out all ones.
_CRC_POLY = 0x142F0E1EBA9EA3693
_CRC_POLY_REFLECTED = 0xC96C5795D7870F42
_CRC_MASK = 0xFFFFFFFFFFFFFFFF


# crcmod (an oss2 dependency) is what oss2 itself uses; its C extension makes this ~100x faster than
# a pure-Python loop, and without the extension crcmod falls back to its own table-driven Python.
_crc64_update = crcmod.mkCrcFun(_CRC_POLY, initCrc=0, rev=True, xorOut=_CRC_MASK)


class Crc64:
    """Incremental CRC64-ECMA as OSS reports it; `initial` continues an earlier value (appends)."""

    def __init__(self, initial: int = 0):
        self.value = initial

    def update(self, data: bytes) -> "Crc64":
        self.value = _crc64_update(data, self.value)
        return self


def _gf2_multiply(a: int, b: int) -> int:
    # Product of two polynomials mod P in the reflected representation (bit 63 is x^0).
    product, bit = 0, 1 << 63
    while a:
        if a & bit:
            product ^= b
            a ^= bit
        bit >>= 1
        b = (b >> 1) ^ _CRC_POLY_REFLECTED if b & 1 else b >> 1
    return product


# x^(2^k) mod P for k = 0..63: combine() then needs one multiplication per set bit of the length.
_X_POW_2K = [1 << 62]
for _ in range(63):
    _X_POW_2K.append(_gf2_multiply(_X_POW_2K[-1], _X_POW_2K[-1]))


def combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC of A+B from crc(A), crc(B) and len(B), as for CompleteMultipartUpload."""
    if len2 < 0:
        raise ValueError("length must not be negative")
    if len2 == 0:  # as oss2 does: an empty B contributes nothing, whatever crc2 claims
        return crc1
    # Equal init and xor-out cancel, so shifting crc1 by len2 zero bytes is all that is needed.
    shift, k, n = 1 << 63, 3, len2  # k = 3: the length is in bytes, i.e. 2^3 bits each
    while n:
        if n & 1:
            shift = _gf2_multiply(_X_POW_2K[k], shift)
        n >>= 1
        k += 1
    return _gf2_multiply(shift, crc1) ^ crc2
