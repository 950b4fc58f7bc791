"""OSS's size rule for CopyObject, through oss2: a copy that writes the data anew (SSE or storage class changed,
or into another bucket) is refused above 5 GiB, which tests lower with LOCALCLOUD_COPY_LIMIT_BYTES; multipart
copy (UploadPartCopy) is the way for such objects and still works."""

import os

import oss2
import pytest

SSE = "x-oss-server-side-encryption"
LIMIT = 150 * 1024
PART = 128 * 1024


@pytest.fixture(autouse=True)
def lowered_limit(settings):
    settings.LOCALCLOUD_COPY_LIMIT_BYTES = LIMIT


def refusal_of(call, *args, **kwargs) -> oss2.exceptions.OssError:
    with pytest.raises(oss2.exceptions.OssError) as raised:
        call(*args, **kwargs)
    return raised.value


def copy_onto_itself(bucket, key: str, headers: dict):
    return bucket.copy_object(bucket.bucket_name, key, key, headers={"x-oss-metadata-directive": "REPLACE", **headers})


def test_the_limit_is_five_gib_unless_lowered():
    from console import settings as defaults

    assert defaults.LOCALCLOUD_COPY_LIMIT_BYTES == 5 * 1024**3


def test_re_encrypting_in_place_an_object_above_the_limit_is_refused_as_oss_refuses_it(bucket):
    content = os.urandom(LIMIT + 1)
    bucket.put_object("big.bin", content)

    error = refusal_of(copy_onto_itself, bucket, "big.bin", {SSE: "KMS"})

    assert (error.status, error.code) == (400, "EntityTooLarge")
    assert error.message == "Source object Length exceeds the maximum allowed size."
    head = bucket.head_object("big.bin")
    assert SSE not in head.headers and bucket.get_object("big.bin").read() == content


def test_changing_the_storage_class_in_place_above_the_limit_is_refused(bucket):
    bucket.put_object("big.bin", os.urandom(LIMIT + 1))

    error = refusal_of(copy_onto_itself, bucket, "big.bin", {"x-oss-storage-class": "IA"})

    assert error.code == "EntityTooLarge"
    assert bucket.head_object("big.bin").headers["x-oss-storage-class"] == "Standard"


def test_re_encrypting_in_place_an_object_at_the_limit_is_accepted(bucket):
    bucket.put_object("edge.bin", os.urandom(LIMIT))

    copy_onto_itself(bucket, "edge.bin", {SSE: "KMS"})

    assert bucket.head_object("edge.bin").headers[SSE] == "KMS"


def test_copies_that_keep_sse_and_class_within_the_bucket_have_no_limit(bucket):
    bucket.put_object("big.bin", os.urandom(LIMIT + 1), headers={SSE: "AES256"})

    bucket.update_object_meta("big.bin", {"Content-Type": "application/x-big", SSE: "AES256"})
    bucket.copy_object(bucket.bucket_name, "big.bin", "twin.bin", headers={SSE: "AES256"})

    assert bucket.head_object("big.bin").content_type == "application/x-big"
    assert bucket.head_object("twin.bin").content_length == LIMIT + 1


def test_a_copy_into_another_bucket_above_the_limit_is_refused_even_unchanged(bucket, new_bucket):
    other = new_bucket()
    bucket.put_object("big.bin", os.urandom(LIMIT + 1))

    error = refusal_of(other.copy_object, bucket.bucket_name, "big.bin", "big.bin")

    assert error.code == "EntityTooLarge"
    assert not other.object_exists("big.bin")


def test_multipart_copy_re_encrypts_in_place_an_object_above_the_limit(bucket):
    content = os.urandom(2 * PART + 1000)
    bucket.put_object("big.bin", content)
    upload = bucket.init_multipart_upload("big.bin", headers={SSE: "KMS"})

    parts = []
    for number, start in enumerate(range(0, len(content), PART), start=1):
        byte_range = (start, min(start + PART, len(content)) - 1)
        copied = bucket.upload_part_copy(bucket.bucket_name, "big.bin", byte_range, "big.bin", upload.upload_id, number)
        parts.append(oss2.models.PartInfo(number, copied.etag))
    bucket.complete_multipart_upload("big.bin", upload.upload_id, parts)

    head = bucket.head_object("big.bin")
    assert (head.headers[SSE], head.object_type) == ("KMS", "Multipart")
    assert bucket.get_object("big.bin").read() == content
