"""Framed AEAD, key wrapping and CRC64 of localcloud.crypto (design.md §6, oss-api.md §4.3)."""

import io
import os
import random

import oss2.utils
import pytest
from cryptography.exceptions import InvalidTag

from localcloud import crypto
from localcloud.crypto import (
    AES256,
    FRAME_SIZE,
    SM4,
    TAG_SIZE,
    Crc64,
    DataKey,
    FrameEncryptor,
    IntegrityError,
    ciphertext_size,
    combine,
    decrypt_range,
    derive_key,
    encrypt_chunks,
    frame_offset,
    frames_for_range,
    new_data_key,
    unwrap_key,
    wrap_key,
    wrapped_key_version,
)

ALGORITHMS = [AES256, SM4]
IDENTITY = b"bucket-a/photos/cat.jpg\0v1"
F = FRAME_SIZE


def encrypt(data_key, data, identity=IDENTITY, chunk_size=None):
    chunk_size = chunk_size or max(1, len(data))
    chunks = (data[i : i + chunk_size] for i in range(0, len(data), chunk_size))
    return b"".join(encrypt_chunks(data_key, identity, chunks))


def decrypt(data_key, blob, size, identity=IDENTITY, **range_):
    return b"".join(decrypt_range(data_key, identity, io.BytesIO(blob), size, **range_))


def frames_of(blob, frame_size=F):
    step = frame_size + TAG_SIZE
    return [blob[i : i + step] for i in range(0, len(blob), step)]


class CountingFile(io.BytesIO):
    """Counts the bytes actually read, to prove which frames a range read touches."""

    bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("size", [0, 1, F - 1, F, F + 1, 3 * F + 12345])
def test_round_trip_restores_the_plaintext(algorithm, size):
    data_key = new_data_key(algorithm)
    data = os.urandom(size)

    blob = encrypt(data_key, data, chunk_size=7777)

    assert len(blob) == ciphertext_size(size)
    assert decrypt(data_key, blob, size) == data


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_chunk_boundaries_do_not_change_the_ciphertext(algorithm):
    data_key = new_data_key(algorithm)
    data = os.urandom(2 * F + 3)

    whole = encrypt(data_key, data)

    assert encrypt(data_key, data, chunk_size=1000) == whole
    assert encrypt(data_key, data, chunk_size=F) == whole
    assert encrypt(data_key, data, chunk_size=F + 1) == whole


def test_ciphertext_hides_the_plaintext_and_differs_per_object():
    data = b"A" * (2 * F)

    first, second = encrypt(new_data_key(AES256), data), encrypt(new_data_key(AES256), data)

    assert data[:64] not in first
    assert first != second
    assert frames_of(first)[0][:64] != frames_of(first)[1][:64]  # per-frame nonces differ


def test_empty_object_is_one_authenticated_frame():
    blob = encrypt(new_data_key(SM4), b"")

    assert len(blob) == TAG_SIZE == ciphertext_size(0)
    assert frames_for_range(0, 0, -1) == range(1)


def test_encryptor_rejects_use_after_finish():
    encryptor = FrameEncryptor(new_data_key(AES256), IDENTITY)
    encryptor.update(b"abc")
    encryptor.finish()

    with pytest.raises(ValueError):
        encryptor.update(b"more")
    with pytest.raises(ValueError):
        encryptor.finish()


def test_encryptor_emits_full_frames_as_soon_as_it_knows_they_are_not_last():
    encryptor = FrameEncryptor(new_data_key(AES256), IDENTITY)

    assert encryptor.update(os.urandom(F)) == b""  # could still be the last frame
    assert len(encryptor.update(b"x")) == F + TAG_SIZE
    assert len(encryptor.finish()) == 1 + TAG_SIZE
    assert encryptor.plaintext_size == F + 1


# -- ranges -----------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_range_matches_the_plaintext_slice(algorithm):
    frame_size = 16
    data_key = new_data_key(algorithm, frame_size=frame_size)
    data = os.urandom(4 * frame_size + 5)
    blob = encrypt(data_key, data, chunk_size=9)

    for start in range(len(data)):
        for end in range(start, len(data)):
            assert decrypt(data_key, blob, len(data), start=start, end=end) == data[start : end + 1]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_random_ranges_match_with_the_default_frame_size(algorithm):
    data_key = new_data_key(algorithm)
    data = os.urandom(5 * F + 777)
    blob = encrypt(data_key, data, chunk_size=100_000)
    rng = random.Random(1234)
    edges = [0, 1, F - 1, F, F + 1, 2 * F, len(data) - 1]

    ranges = [(s, e) for s in edges for e in edges if s <= e]
    ranges += [tuple(sorted(rng.sample(range(len(data)), 2))) for _ in range(200)]
    for start, end in ranges:
        assert decrypt(data_key, blob, len(data), start=start, end=end) == data[start : end + 1]


def test_range_inside_one_frame_reads_only_that_frame():
    data_key = new_data_key(AES256)
    data = os.urandom(4 * F + 10)
    blob_file = CountingFile(encrypt(data_key, data))

    out = b"".join(decrypt_range(data_key, IDENTITY, blob_file, len(data), start=2 * F + 5, end=2 * F + 99))

    assert out == data[2 * F + 5 : 2 * F + 100]
    assert blob_file.bytes_read == F + TAG_SIZE


def test_range_reads_only_the_frames_it_touches_even_when_others_are_damaged():
    data_key = new_data_key(SM4)
    data = os.urandom(4 * F)
    frames = frames_of(encrypt(data_key, data))
    damaged = b"\0" * len(frames[0]) + frames[1] + frames[2] + b"\0" * len(frames[3])
    blob_file = CountingFile(damaged)

    out = b"".join(decrypt_range(data_key, IDENTITY, blob_file, len(data), start=F, end=3 * F - 1))

    assert out == data[F : 3 * F]
    assert blob_file.bytes_read == 2 * (F + TAG_SIZE)


def test_small_last_frame_is_read_with_its_own_length():
    data_key = new_data_key(AES256)
    data = os.urandom(2 * F + 3)
    blob_file = CountingFile(encrypt(data_key, data))

    out = b"".join(decrypt_range(data_key, IDENTITY, blob_file, len(data), start=2 * F + 1, end=2 * F + 2))

    assert out == data[-2:]
    assert blob_file.bytes_read == 3 + TAG_SIZE


def test_frame_geometry_maps_ranges_to_ciphertext_offsets():
    assert frames_for_range(3 * F, 0, 0) == range(1)
    assert frames_for_range(3 * F, F - 1, F) == range(2)
    assert frames_for_range(3 * F, F, 3 * F - 1) == range(1, 3)
    assert frame_offset(2) == 2 * (F + TAG_SIZE)
    assert ciphertext_size(F) == F + TAG_SIZE
    assert ciphertext_size(F + 1) == F + 1 + 2 * TAG_SIZE


@pytest.mark.parametrize("start, end", [(-1, 3), (5, 4), (0, 10), (10, 10)])
def test_ranges_outside_the_object_are_rejected(start, end):
    data_key = new_data_key(AES256)
    blob = encrypt(data_key, b"0123456789")

    with pytest.raises(ValueError):
        decrypt(data_key, blob, 10, start=start, end=end)


# -- tampering --------------------------------------------------------------------------------


def three_frame_object(algorithm=AES256):
    data_key = new_data_key(algorithm)
    data = os.urandom(2 * F + 100)
    return data_key, data, encrypt(data_key, data)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("position", [0, F // 2, F + TAG_SIZE - 1, F + TAG_SIZE + 7, -1])
def test_flipped_byte_fails_integrity_check(algorithm, position):
    data_key, data, blob = three_frame_object(algorithm)
    tampered = bytearray(blob)
    tampered[position] ^= 0x01

    with pytest.raises(IntegrityError):
        decrypt(data_key, bytes(tampered), len(data))


def test_flipped_byte_in_an_empty_object_fails_integrity_check():
    data_key = new_data_key(SM4)
    tampered = bytearray(encrypt(data_key, b""))
    tampered[3] ^= 0x80

    with pytest.raises(IntegrityError):
        decrypt(data_key, bytes(tampered), 0)


def test_swapped_frames_fail_integrity_check():
    data_key, data, blob = three_frame_object()
    frames = frames_of(blob)

    with pytest.raises(IntegrityError):
        decrypt(data_key, frames[1] + frames[0] + frames[2], len(data))


def test_frame_from_another_object_fails_integrity_check():
    data_key = new_data_key(AES256)  # even under the same key, the identity tells objects apart
    data = os.urandom(2 * F)
    mine, theirs = frames_of(encrypt(data_key, data)), frames_of(encrypt(data_key, data, identity=b"bucket-b/x"))

    with pytest.raises(IntegrityError):
        decrypt(data_key, theirs[0] + mine[1], len(data))


def test_truncated_file_fails_integrity_check():
    data_key, data, blob = three_frame_object()

    with pytest.raises(IntegrityError):
        decrypt(data_key, blob[:-1], len(data))
    with pytest.raises(IntegrityError):
        decrypt(data_key, blob + b"\0", len(data))


def test_length_mismatch_is_reported_on_the_call_before_any_streaming():
    data_key, data, blob = three_frame_object()
    blob_file = CountingFile(blob[:-TAG_SIZE])

    with pytest.raises(IntegrityError, match="length"):
        decrypt_range(data_key, IDENTITY, blob_file, len(data))
    assert blob_file.bytes_read == 0


def test_dropping_the_last_frame_fails_even_if_the_size_is_adjusted():
    data_key, _, blob = three_frame_object()
    frames = frames_of(blob)

    with pytest.raises(IntegrityError):  # frame 1 was not sealed as the last frame
        decrypt(data_key, frames[0] + frames[1], 2 * F)


def test_dropping_the_only_frame_of_an_empty_object_fails():
    with pytest.raises(IntegrityError):
        decrypt(new_data_key(AES256), b"", 0)


def test_short_reads_are_completed_rather_than_mistaken_for_truncation():
    data_key, data, blob = three_frame_object()

    class Trickle(io.BytesIO):
        def read(self, size=-1):
            return super().read(min(size, 1000) if size >= 0 else size)

    assert b"".join(decrypt_range(data_key, IDENTITY, Trickle(blob), len(data))) == data


def test_wrong_identity_fails_integrity_check():
    data_key, data, blob = three_frame_object()

    with pytest.raises(IntegrityError):
        decrypt(data_key, blob, len(data), identity=b"bucket-a/photos/dog.jpg\0v1")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_wrong_key_fails_integrity_check_without_revealing_keys(algorithm):
    data_key, data, blob = three_frame_object(algorithm)
    other = DataKey(algorithm, os.urandom(len(data_key.key)), data_key.base_nonce)

    with pytest.raises(IntegrityError) as excinfo:
        decrypt(other, blob, len(data))

    for key in (data_key.key, other.key):
        assert key.hex() not in str(excinfo.value) and repr(key) not in str(excinfo.value)
        assert key.hex() not in repr(other) and repr(key) not in repr(data_key)


def test_data_key_rejects_wrong_sizes_and_algorithms():
    with pytest.raises(ValueError):
        DataKey(AES256, os.urandom(16), os.urandom(12))
    with pytest.raises(ValueError):
        DataKey(SM4, os.urandom(16), os.urandom(8))
    with pytest.raises(ValueError):
        new_data_key("KMS")
    assert len(new_data_key(AES256).key) == 32 and len(new_data_key(SM4).key) == 16


# -- SM4-GCM known answer ---------------------------------------------------------------------

# RFC 8998, appendix A.1 (SM4-GCM).
RFC8998_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
RFC8998_IV = bytes.fromhex("00001234567800000000ABCD")
RFC8998_AAD = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
RFC8998_PLAINTEXT = bytes.fromhex(
    "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
    "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
)
RFC8998_CIPHERTEXT = bytes.fromhex(
    "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
    "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
)
RFC8998_TAG = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")


def test_sm4_gcm_matches_the_rfc_8998_test_vector():
    sealed = crypto.aead_seal(SM4, RFC8998_KEY, RFC8998_IV, RFC8998_PLAINTEXT, RFC8998_AAD)

    assert sealed == RFC8998_CIPHERTEXT + RFC8998_TAG
    assert crypto.aead_open(SM4, RFC8998_KEY, RFC8998_IV, sealed, RFC8998_AAD) == RFC8998_PLAINTEXT


def test_sm4_gcm_rejects_a_wrong_tag_of_the_test_vector():
    sealed = RFC8998_CIPHERTEXT + bytes([RFC8998_TAG[0] ^ 1]) + RFC8998_TAG[1:]

    with pytest.raises(InvalidTag):
        crypto.aead_open(SM4, RFC8998_KEY, RFC8998_IV, sealed, RFC8998_AAD)


# -- key wrapping -----------------------------------------------------------------------------


def test_wrapped_key_unwraps_with_the_same_context():
    master_keys = {1: os.urandom(32)}
    data_key = os.urandom(32)

    wrapped = wrap_key(master_keys, data_key, b"bucket-a/cat.jpg")

    assert data_key not in wrapped
    assert unwrap_key(master_keys, wrapped, b"bucket-a/cat.jpg") == data_key


def test_rotation_wraps_with_the_newest_version_and_old_versions_still_unwrap():
    v1, v2 = os.urandom(32), os.urandom(32)
    old = wrap_key({1: v1}, b"k" * 16, b"ctx")

    rotated = {1: v1, 2: v2}
    new = wrap_key(rotated, b"n" * 32, b"ctx")

    assert (wrapped_key_version(old), wrapped_key_version(new)) == (1, 2)
    assert unwrap_key(rotated, old, b"ctx") == b"k" * 16
    assert unwrap_key(rotated, new, b"ctx") == b"n" * 32


def test_retired_master_key_version_cannot_unwrap():
    old = wrap_key({1: os.urandom(32)}, b"k" * 32, b"ctx")

    with pytest.raises(IntegrityError, match="version 1"):
        unwrap_key({2: os.urandom(32)}, old, b"ctx")


def test_wrong_context_fails_unwrap():
    master_keys = {7: os.urandom(32)}
    wrapped = wrap_key(master_keys, b"k" * 32, b"bucket-a/cat.jpg")

    with pytest.raises(IntegrityError):
        unwrap_key(master_keys, wrapped, b"bucket-a/dog.jpg")


def test_tampered_or_wrongly_keyed_wrapped_key_fails_without_revealing_keys():
    master = os.urandom(32)
    wrapped = wrap_key({1: master}, b"k" * 32, b"ctx")
    flipped = wrapped[:-1] + bytes([wrapped[-1] ^ 1])

    for keys, blob in [({1: master}, flipped), ({1: os.urandom(32)}, wrapped), ({1: master}, wrapped[:10])]:
        with pytest.raises(IntegrityError) as excinfo:
            unwrap_key(keys, blob, b"ctx")
        assert master.hex() not in str(excinfo.value)


def test_wrap_requires_a_32_byte_master_key():
    with pytest.raises(ValueError):
        wrap_key({1: os.urandom(16)}, b"k" * 32, b"ctx")
    with pytest.raises(ValueError):
        wrap_key({}, b"k" * 32, b"ctx")


def test_derived_keys_are_stable_and_independent_per_purpose():
    root = os.urandom(32)

    master = derive_key(root, "sse-oss-master/1")

    assert len(master) == 32
    assert derive_key(root, "sse-oss-master/1") == master
    assert derive_key(root, "kms-material-kek") != master
    assert derive_key(os.urandom(32), "sse-oss-master/1") != master
    with pytest.raises(ValueError):
        derive_key(b"short", "x")


# -- CRC64 ------------------------------------------------------------------------------------


def oss2_crc(data):
    crc = oss2.utils.Crc64()
    crc.update(data)
    return crc.crc


def test_crc64_known_values_from_the_oss_spec():
    assert Crc64().update(b"123456789").value == 0x995DC9BBDF1939FA
    assert Crc64().update(b"hello").value == 11177612005948864433
    assert Crc64().value == 0


@pytest.mark.parametrize("size", [0, 1, 8, 1000, 300_000])
def test_crc64_equals_oss2_on_random_data_fed_in_pieces(size):
    data = os.urandom(size)
    crc = Crc64()
    for i in range(0, size, 4099):
        crc.update(data[i : i + 4099])

    assert crc.value == oss2_crc(data)


def test_crc64_continues_from_an_earlier_value_as_appends_do():
    first, second = os.urandom(500), os.urandom(700)

    assert Crc64(Crc64().update(first).value).update(second).value == oss2_crc(first + second)


@pytest.mark.parametrize("len_a, len_b", [(0, 0), (0, 5), (5, 0), (1, 1), (1000, 4097), (70_000, 123_457)])
def test_crc64_combine_equals_the_crc_of_the_concatenation(len_a, len_b):
    a, b = os.urandom(len_a), os.urandom(len_b)

    combined = combine(oss2_crc(a), oss2_crc(b), len_b)

    assert combined == oss2_crc(a + b)
    assert combined == oss2.utils.Crc64().combine(oss2_crc(a), oss2_crc(b), len_b)


def test_crc64_combine_folds_multipart_parts_and_huge_lengths_like_oss2():
    parts = [os.urandom(n) for n in (5000, 1, 77_777, 3)]
    total = 0
    for part in parts:
        total = combine(total, oss2_crc(part), len(part))
    assert total == oss2_crc(b"".join(parts))

    huge = 5 * 1024**4 + 12345  # the shift by zeros is computed, not streamed
    assert combine(123, 456, huge) == oss2.utils.Crc64().combine(123, 456, huge)
