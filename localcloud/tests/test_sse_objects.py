"""Server-side encryption of objects through oss2: which SSE applies, what the responses say, and what lies on disk."""

import io
import os
import uuid

import oss2
import pytest
import requests
from django.conf import settings
from django.core.management import call_command

from localcloud import blobs, keystore
from localcloud.models import StoredObject
from localcloud.storage import blob_store

SSE = "x-oss-server-side-encryption"
KEY_ID = "x-oss-server-side-encryption-key-id"
DATA_ENCRYPTION = "x-oss-server-side-data-encryption"
FRAME = 64 * 1024
ALGORITHMS = ["AES256", "SM4", "KMS"]


def _row(bucket, key) -> StoredObject:
    return StoredObject.objects.get(bucket__name=bucket.bucket_name, key=key)


def _files(data_dir):
    return [path for path in data_dir.rglob("*") if path.is_file()]


def _sse_headers(result) -> dict:
    return {name: value for name, value in result.headers.items() if name.lower().startswith(SSE)}


# -- data at rest ---------------------------------------------------------------------------------

OBJECT = os.urandom(3 * FRAME + 123)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "byte_range",
    [
        (0, FRAME - 1),
        (FRAME - 1, FRAME),
        (FRAME, 2 * FRAME - 1),
        (100, 2 * FRAME + 5),
        (3 * FRAME, None),
        (None, 70000),
    ],
)
def test_ranges_across_frame_boundaries_decrypt_exactly(bucket, algorithm, byte_range):
    bucket.put_object("framed", OBJECT, headers={SSE: algorithm})
    start, end = byte_range
    expected = OBJECT[-end:] if start is None else OBJECT[start : None if end is None else end + 1]

    got = bucket.get_object("framed", byte_range=byte_range)

    assert got.status == 206
    assert got.read() == expected


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_whole_encrypted_object_reads_back(bucket, algorithm):
    bucket.put_object("framed", OBJECT, headers={SSE: algorithm})

    assert bucket.get_object("framed").read() == OBJECT


@pytest.mark.parametrize(("algorithm", "at_rest"), [("AES256", False), ("SM4", False), ("KMS", False), (None, True)])
def test_plaintext_is_on_disk_only_for_unencrypted_objects(bucket, data_dir, algorithm, at_rest):
    marker = b"PLAINTEXT-MARKER-" + uuid.uuid4().hex.encode()
    data = (marker + b"." * 1000) * 1000
    headers = {SSE: algorithm} if algorithm else {}

    bucket.put_object("marked", data, headers=headers)

    found = any(marker in path.read_bytes() for path in _files(data_dir))
    assert found is at_rest
    assert bucket.get_object("marked").read() == data


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("offset", [10, 2 * FRAME + 10])
def test_a_flipped_byte_on_disk_fails_the_read_instead_of_returning_wrong_bytes(bucket, algorithm, offset):
    bucket.put_object("tampered", OBJECT, headers={SSE: algorithm})
    path = blob_store().path(_row(bucket, "tampered").blob)
    blob = bytearray(path.read_bytes())
    blob[offset] ^= 0x01
    path.write_bytes(bytes(blob))

    if offset < FRAME:
        # The first frame is opened before the status line: a clean error response.
        with pytest.raises(oss2.exceptions.ServerError) as failed:
            bucket.get_object("tampered")
        assert failed.value.status == 500
    else:
        # Later frames fail mid-stream: the connection is cut short of the announced length.
        with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
            bucket.get_object("tampered").read()


# -- which SSE applies ----------------------------------------------------------------------------


def test_object_header_beats_the_bucket_default(new_bucket):
    bucket = new_bucket(headers={SSE: "SM4"})

    result = bucket.put_object("k", b"x", headers={SSE: "AES256"})

    assert result.headers[SSE] == "AES256"
    assert _row(bucket, "k").cipher == "AES256"


def test_bucket_default_applies_without_a_header(new_bucket):
    bucket = new_bucket(headers={SSE: "SM4"})

    result = bucket.put_object("k", b"x")

    assert result.headers[SSE] == "SM4"
    assert bucket.head_object("k").headers[SSE] == "SM4"
    assert _row(bucket, "k").cipher == "SM4"


def test_no_header_and_no_default_leaves_the_object_unencrypted(bucket):
    result = bucket.put_object("k", b"x")

    assert _sse_headers(result) == {}
    assert _sse_headers(bucket.head_object("k")) == {}
    assert _row(bucket, "k").cipher == ""


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({SSE: "AES256", DATA_ENCRYPTION: "SM4"}, {SSE: "AES256"}),
        ({SSE: "SM4", DATA_ENCRYPTION: "SM4"}, {SSE: "SM4"}),
        ({DATA_ENCRYPTION: "SM4"}, {}),
    ],
)
def test_data_encryption_is_ignored_without_kms(bucket, headers, expected):
    result = bucket.put_object("k", b"x", headers=headers)

    assert _sse_headers(result) == expected


def test_kms_with_sm4_data_encryption_seals_with_sm4(bucket):
    result = bucket.put_object("k", b"x", headers={SSE: "KMS", DATA_ENCRYPTION: "SM4"})

    assert result.headers[DATA_ENCRYPTION] == "SM4"
    assert _row(bucket, "k").cipher == "SM4"
    assert bucket.get_object("k").headers[DATA_ENCRYPTION] == "SM4"


def test_sse_headers_come_back_on_put_get_and_head_but_not_on_object_meta(bucket):
    put = bucket.put_object("k", b"x", headers={SSE: "KMS"})
    get = bucket.get_object("k")
    head = bucket.head_object("k")
    meta = bucket.get_object_meta("k")

    assert put.headers[SSE] == get.headers[SSE] == head.headers[SSE] == "KMS"
    assert put.headers[KEY_ID] == get.headers[KEY_ID] == head.headers[KEY_ID]
    assert _sse_headers(meta) == {}


def test_kms_without_a_key_id_uses_one_default_key_for_every_object(bucket):
    first = bucket.put_object("a", b"x", headers={SSE: "KMS"})
    second = bucket.put_object("b", b"y", headers={SSE: "KMS"})

    assert first.headers[KEY_ID]
    assert first.headers[KEY_ID] == second.headers[KEY_ID]


def test_kms_with_a_named_key_reports_that_key(bucket):
    cmk = keystore.create_key(region=settings.LOCALCLOUD_REGION)

    result = bucket.put_object("k", b"x", headers={SSE: "KMS", KEY_ID: cmk.key_id})

    assert result.headers[KEY_ID] == cmk.key_id
    assert bucket.get_object("k").read() == b"x"


def test_kms_with_a_missing_key_is_forbidden_and_stores_nothing(bucket):
    with pytest.raises(oss2.exceptions.AccessDenied) as refused:
        bucket.put_object("k", b"x", headers={SSE: "KMS", KEY_ID: "no-such-key"})

    assert refused.value.message == "This request is forbidden by kms."
    assert not bucket.object_exists("k")


def test_invalid_sse_headers_are_refused(bucket):
    with pytest.raises(oss2.exceptions.InvalidEncryptionAlgorithmError):
        bucket.put_object("k", b"x", headers={SSE: "DES"})
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_object("k", b"x", headers={SSE: "AES256", KEY_ID: "some-key"})
    assert not bucket.object_exists("k")


def test_anonymous_reads_of_kms_objects_are_forbidden_by_kms(new_bucket, localcloud):
    bucket = new_bucket(permission="public-read")
    bucket.put_object("kms", b"secret", headers={SSE: "KMS"})
    bucket.put_object("aes", b"readable", headers={SSE: "AES256"})
    anonymous = oss2.Bucket(oss2.AnonymousAuth(), localcloud, bucket.bucket_name)

    with pytest.raises(oss2.exceptions.AccessDenied) as refused:
        anonymous.get_object("kms")

    assert refused.value.message == "This request is forbidden by kms."
    assert anonymous.get_object("aes").read() == b"readable"


# -- append ---------------------------------------------------------------------------------------


def test_every_append_echoes_the_sse_of_the_first(bucket):
    first = bucket.append_object("log", 0, b"one ", headers={SSE: "KMS", DATA_ENCRYPTION: "SM4"})
    second = bucket.append_object("log", first.next_position, b"two ", headers={SSE: "AES256"})
    third = bucket.append_object("log", second.next_position, b"three")

    assert _sse_headers(first) == _sse_headers(second) == _sse_headers(third)
    assert _sse_headers(third)[SSE] == "KMS"
    assert bucket.get_object("log").read() == b"one two three"
    assert bucket.head_object("log").headers[DATA_ENCRYPTION] == "SM4"


def test_each_append_reseals_the_whole_object_under_a_new_data_key(bucket, data_dir):
    first = bucket.append_object("log", 0, OBJECT[: FRAME + 5], headers={SSE: "AES256"})
    before = _row(bucket, "log")

    bucket.append_object("log", first.next_position, OBJECT[FRAME + 5 :])

    after = _row(bucket, "log")
    assert after.blob != before.blob
    assert bytes(after.sealed_data_key) != bytes(before.sealed_data_key)
    assert bytes(after.base_nonce) != bytes(before.base_nonce)
    assert [path.name for path in _files(data_dir)] == [after.blob]
    assert bucket.get_object("log", byte_range=(FRAME, 2 * FRAME)).read() == OBJECT[FRAME : 2 * FRAME + 1]


def test_objects_sealed_before_a_master_key_rotation_still_open_after_it(bucket):
    sse = {"x-oss-server-side-encryption": "AES256"}
    bucket.put_object("before.txt", b"sealed under version 1", headers=sse)
    call_command("localcloud_rotate_master_key", stdout=io.StringIO())
    bucket.put_object("after.txt", b"sealed under version 2", headers=sse)

    versions = {
        row.key: blobs.master_key_version(row)
        for row in StoredObject.objects.filter(key__in=["before.txt", "after.txt"])
    }
    assert versions["after.txt"] == versions["before.txt"] + 1
    assert bucket.get_object("before.txt").read() == b"sealed under version 1"
    assert bucket.get_object("after.txt").read() == b"sealed under version 2"
