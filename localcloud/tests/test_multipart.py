"""Multipart upload (oss-api.md §7) through the real oss2 SDK: parts, copies, completion, SSE at rest, listings."""

import hashlib
import os
import uuid

import oss2
import pytest
from Crypto.PublicKey import RSA
from django.conf import settings
from oss2.models import PartInfo

from localcloud import keystore

KIB = 1024
MARKER = b"PLAINTEXT-MARKER-0123456789-"
SSE = "x-oss-server-side-encryption"
KEY_ID = "x-oss-server-side-encryption-key-id"
DATA_ENCRYPTION = "x-oss-server-side-data-encryption"


def marked(size: int) -> bytes:
    """`size` bytes made of the plaintext marker, so any unencrypted copy at rest is easy to find."""
    return (MARKER * (size // len(MARKER) + 1))[:size]


def crc64(data: bytes) -> int:
    crc = oss2.utils.Crc64()
    crc.update(data)
    return crc.crc


def multipart_etag(parts: list[bytes]) -> str:
    digest = hashlib.md5(b"".join(hashlib.md5(part).digest() for part in parts))
    return f"{digest.hexdigest().upper()}-{len(parts)}"


def upload_parts(bucket: oss2.Bucket, key: str, upload_id: str, parts: list[bytes]) -> list[PartInfo]:
    infos = []
    for number, data in enumerate(parts, start=1):
        result = bucket.upload_part(key, upload_id, number, data)
        infos.append(PartInfo(number, result.etag, size=len(data), part_crc=result.crc))
    return infos


def blob_files(data_dir) -> list:
    return [path for path in (data_dir / "blobs").rglob("*") if path.is_file()]


def blobs_at_rest(data_dir) -> list[bytes]:
    return [path.read_bytes() for path in blob_files(data_dir)]


def default_key_id() -> str:
    return keystore.default_key(settings.LOCALCLOUD_REGION).key_id


THREE_PARTS = [100 * KIB, 128 * KIB, 5 * KIB]

SSE_CASES = {
    "none": ({}, {}),
    "AES256": ({SSE: "AES256"}, {SSE: "AES256"}),
    "SM4": ({SSE: "SM4"}, {SSE: "SM4"}),
    "KMS default key": ({SSE: "KMS"}, {SSE: "KMS", KEY_ID: "default"}),
    "KMS with SM4 data": (
        {SSE: "KMS", DATA_ENCRYPTION: "SM4"},
        {SSE: "KMS", KEY_ID: "default", DATA_ENCRYPTION: "SM4"},
    ),
}


def expected_sse(reported: dict) -> dict:
    return {name: default_key_id() if value == "default" else value for name, value in reported.items()}


def sse_headers(result) -> dict:
    return {name: result.headers[name] for name in (SSE, KEY_ID, DATA_ENCRYPTION) if name in result.headers}


# -- the happy path, with and without SSE -----------------------------------------------------------


@pytest.mark.parametrize("request_headers, reported", SSE_CASES.values(), ids=SSE_CASES.keys())
def test_three_part_upload_completes_with_right_bytes_etag_crc_and_sse(bucket, data_dir, request_headers, reported):
    parts = [marked(size) for size in THREE_PARTS]
    init = bucket.init_multipart_upload("dir/three.bin", headers=request_headers)
    assert len(init.upload_id) == 32 and init.upload_id == init.upload_id.upper()
    assert sse_headers(init) == expected_sse(reported)

    infos = []
    for number, data in enumerate(parts, start=1):
        result = bucket.upload_part("dir/three.bin", init.upload_id, number, data)
        assert result.etag == hashlib.md5(data).hexdigest().upper()
        assert result.crc == crc64(data)
        assert sse_headers(result) == expected_sse(reported)
        infos.append(PartInfo(number, result.etag, size=len(data), part_crc=result.crc))
    # oss2 itself checks the returned CRC against the combination of the part CRCs.
    done = bucket.complete_multipart_upload("dir/three.bin", init.upload_id, infos)

    whole = b"".join(parts)
    assert done.etag == multipart_etag(parts) and done.etag.endswith("-3")
    assert done.crc == crc64(whole)
    assert sse_headers(done) == expected_sse(reported)
    stored = bucket.get_object("dir/three.bin")
    assert stored.read() == whole
    assert (stored.object_type, stored.etag, stored.server_crc) == ("Multipart", done.etag, done.crc)
    assert sse_headers(stored) == expected_sse(reported)
    assert bucket.list_multipart_uploads().upload_list == []
    assert len(blob_files(data_dir)) == 1, "the part blobs are deleted once the object is complete"
    leaked = [blob for blob in blobs_at_rest(data_dir) if MARKER in blob]
    assert bool(leaked) == (not request_headers)


def test_bucket_default_encryption_applies_at_initiate(new_bucket, data_dir):
    bucket = new_bucket(headers={SSE: "SM4"})
    init = bucket.init_multipart_upload("default.bin")
    assert init.headers[SSE] == "SM4"
    infos = upload_parts(bucket, "default.bin", init.upload_id, [marked(5 * KIB)])
    done = bucket.complete_multipart_upload("default.bin", init.upload_id, infos)
    assert done.headers[SSE] == "SM4"
    assert not [blob for blob in blobs_at_rest(data_dir) if MARKER in blob]


def test_parts_are_encrypted_at_rest_before_completion(bucket, data_dir):
    init = bucket.init_multipart_upload("pending.bin", headers={SSE: "KMS", DATA_ENCRYPTION: "SM4"})
    upload_parts(bucket, "pending.bin", init.upload_id, [marked(100 * KIB), marked(7 * KIB)])
    at_rest = blobs_at_rest(data_dir)
    assert len(at_rest) == 2
    assert not [blob for blob in at_rest if MARKER in blob]


def test_initiate_records_metadata_tags_acl_and_storage_class_on_the_object(bucket):
    headers = {
        "Content-Type": "text/plain",
        "Cache-Control": "no-cache",
        "x-oss-meta-owner": "alice",
        "x-oss-tagging": "k1=v1&k2=v%202",
        "x-oss-object-acl": "public-read",
        "x-oss-storage-class": "IA",
    }
    init = bucket.init_multipart_upload("meta.txt", headers=headers)
    infos = upload_parts(bucket, "meta.txt", init.upload_id, [b"hello"])
    bucket.complete_multipart_upload("meta.txt", init.upload_id, infos)
    head = bucket.head_object("meta.txt")
    assert (head.content_type, head.headers["Cache-Control"]) == ("text/plain", "no-cache")
    assert head.headers["x-oss-meta-owner"] == "alice"
    assert head.headers["x-oss-storage-class"] == "IA"
    assert {tag: value for tag, value in bucket.get_object_tagging("meta.txt").tag_set.tagging_rule.items()} == {
        "k1": "v1",
        "k2": "v 2",
    }
    assert bucket.get_object_acl("meta.txt").acl == "public-read"


def test_complete_replaces_an_existing_object_and_deletes_its_blob(bucket, data_dir):
    for content in (b"first version", b"second version"):
        init = bucket.init_multipart_upload("replaced.bin")
        infos = upload_parts(bucket, "replaced.bin", init.upload_id, [content])
        bucket.complete_multipart_upload("replaced.bin", init.upload_id, infos)
    assert bucket.get_object("replaced.bin").read() == b"second version"
    assert len(blob_files(data_dir)) == 1


def test_forbid_overwrite_refuses_to_complete_over_an_existing_object(bucket):
    init = bucket.init_multipart_upload("kept.bin")
    bucket.complete_multipart_upload(
        "kept.bin", init.upload_id, upload_parts(bucket, "kept.bin", init.upload_id, [b"a"])
    )
    second = bucket.init_multipart_upload("kept.bin")
    infos = upload_parts(bucket, "kept.bin", second.upload_id, [b"b"])
    with pytest.raises(oss2.exceptions.ServerError) as raised:
        bucket.complete_multipart_upload(
            "kept.bin", second.upload_id, infos, headers={"x-oss-forbid-overwrite": "true"}
        )
    assert (raised.value.status, raised.value.code) == (409, "FileAlreadyExists")
    assert bucket.get_object("kept.bin").read() == b"a"
    with pytest.raises(oss2.exceptions.ServerError) as raised:
        bucket.init_multipart_upload("kept.bin", headers={"x-oss-forbid-overwrite": "true"})
    assert raised.value.code == "FileAlreadyExists"


def test_forbid_overwrite_given_at_initiate_still_holds_at_complete(bucket):
    pending = bucket.init_multipart_upload("late.bin", headers={"x-oss-forbid-overwrite": "true"})
    infos = upload_parts(bucket, "late.bin", pending.upload_id, [b"from the upload"])
    bucket.put_object("late.bin", b"written meanwhile")

    with pytest.raises(oss2.exceptions.ServerError) as raised:
        bucket.complete_multipart_upload("late.bin", pending.upload_id, infos)

    assert (raised.value.status, raised.value.code) == (409, "FileAlreadyExists")
    assert bucket.get_object("late.bin").read() == b"written meanwhile"


# -- SSE on parts and complete -----------------------------------------------------------------------


def test_sse_headers_on_upload_part_and_complete_are_rejected_and_the_upload_still_completes(bucket):
    init = bucket.init_multipart_upload("sse.bin", headers={SSE: "KMS"})
    for header in ({SSE: "AES256"}, {DATA_ENCRYPTION: "SM4"}, {KEY_ID: "some-key"}):
        with pytest.raises(oss2.exceptions.InvalidArgument):
            bucket.upload_part("sse.bin", init.upload_id, 1, b"data", headers=header)
    infos = upload_parts(bucket, "sse.bin", init.upload_id, [b"data"])
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.complete_multipart_upload("sse.bin", init.upload_id, infos, headers={SSE: "KMS"})

    done = bucket.complete_multipart_upload("sse.bin", init.upload_id, infos)
    assert done.headers[SSE] == "KMS"
    assert done.headers[KEY_ID] == init.headers[KEY_ID] == default_key_id()
    assert bucket.get_object("sse.bin").read() == b"data"


def test_client_side_encryption_metadata_on_parts_is_ignored(bucket):
    init = bucket.init_multipart_upload("cse.bin")
    headers = {
        "x-oss-meta-client-side-encryption-key": "d3JhcHBlZA==",
        "x-oss-meta-client-side-encryption-start": "aXY=",
    }
    result = bucket.upload_part("cse.bin", init.upload_id, 1, b"ciphertext", headers=headers)
    assert result.etag == hashlib.md5(b"ciphertext").hexdigest().upper()


def test_initiate_with_a_missing_cmk_is_forbidden_by_kms(bucket):
    with pytest.raises(oss2.exceptions.AccessDenied) as raised:
        bucket.init_multipart_upload("kms.bin", headers={SSE: "KMS", KEY_ID: "no-such-key"})
    assert raised.value.message == "This request is forbidden by kms."


def test_initiate_with_an_unknown_algorithm_is_rejected(bucket):
    with pytest.raises(oss2.exceptions.InvalidEncryptionAlgorithmError):
        bucket.init_multipart_upload("bad.bin", headers={SSE: "DES"})


# -- Complete validation ----------------------------------------------------------------------------


def test_a_small_part_before_the_last_is_entity_too_small(bucket):
    init = bucket.init_multipart_upload("small.bin")
    infos = upload_parts(bucket, "small.bin", init.upload_id, [os.urandom(100 * KIB - 1), os.urandom(10)])
    with pytest.raises(oss2.exceptions.ServerError) as raised:
        bucket.complete_multipart_upload("small.bin", init.upload_id, infos)
    assert (raised.value.status, raised.value.code) == (400, "EntityTooSmall")


def test_a_wrong_etag_is_invalid_part(bucket):
    init = bucket.init_multipart_upload("etag.bin")
    upload_parts(bucket, "etag.bin", init.upload_id, [b"data"])
    for wrong in ([PartInfo(1, "0" * 32)], [PartInfo(2, hashlib.md5(b"data").hexdigest().upper())]):
        with pytest.raises(oss2.exceptions.ServerError) as raised:
            bucket.complete_multipart_upload("etag.bin", init.upload_id, wrong)
        assert (raised.value.status, raised.value.code) == (400, "InvalidPart")


def complete_with_body(bucket: oss2.Bucket, key: str, upload_id: str, body: bytes):
    """CompleteMultipartUpload with a hand-written body: oss2's helper always sorts the parts it sends."""
    response = bucket._Bucket__do_object("POST", key, params={"uploadId": upload_id}, data=body)
    return oss2.models.PutObjectResult(response)


def test_parts_out_of_order_are_invalid_part_order(bucket):
    init = bucket.init_multipart_upload("order.bin")
    infos = upload_parts(bucket, "order.bin", init.upload_id, [os.urandom(100 * KIB), b"tail"])
    swapped = oss2.xml_utils.to_complete_upload_request(list(reversed(infos)))
    with pytest.raises(oss2.exceptions.ServerError) as raised:
        complete_with_body(bucket, "order.bin", init.upload_id, swapped)
    assert (raised.value.status, raised.value.code) == (400, "InvalidPartOrder")
    with pytest.raises(oss2.exceptions.ServerError) as raised:
        bucket.complete_multipart_upload("order.bin", init.upload_id, [infos[0], infos[0]])
    assert raised.value.code == "InvalidPartOrder"
    bucket.complete_multipart_upload("order.bin", init.upload_id, infos)


def test_a_malformed_part_list_is_malformed_xml(bucket):
    init = bucket.init_multipart_upload("xml.bin")
    for body in (b"<CompleteMultipartUpload>", b"<CompleteMultipartUpload/>", b"<Other><Part/></Other>"):
        with pytest.raises(oss2.exceptions.MalformedXml):
            complete_with_body(bucket, "xml.bin", init.upload_id, body)


def test_unlisted_parts_are_discarded(bucket, data_dir):
    init = bucket.init_multipart_upload("subset.bin")
    infos = upload_parts(bucket, "subset.bin", init.upload_id, [os.urandom(100 * KIB), b"two", b"three"])
    done = bucket.complete_multipart_upload("subset.bin", init.upload_id, infos[:2])
    assert done.etag.endswith("-2")
    assert len(blob_files(data_dir)) == 1


def test_complete_all_uses_every_uploaded_part_in_order(bucket):
    init = bucket.init_multipart_upload("all.bin")
    parts = [os.urandom(100 * KIB), os.urandom(100 * KIB), b"last"]
    upload_parts(bucket, "all.bin", init.upload_id, parts)
    done = bucket.complete_multipart_upload("all.bin", init.upload_id, None, headers={"x-oss-complete-all": "yes"})
    assert done.etag == multipart_etag(parts)
    assert done.crc == crc64(b"".join(parts))
    assert bucket.get_object("all.bin").read() == b"".join(parts)


def test_unknown_upload_id_is_no_such_upload(bucket):
    bucket.init_multipart_upload("known.bin")
    unknown = uuid.uuid4().hex.upper()
    calls = [
        lambda: bucket.upload_part("known.bin", unknown, 1, b"data"),
        lambda: bucket.list_parts("known.bin", unknown),
        lambda: bucket.complete_multipart_upload("known.bin", unknown, [PartInfo(1, "0" * 32)]),
        lambda: bucket.abort_multipart_upload("known.bin", unknown),
    ]
    for call in calls:
        with pytest.raises(oss2.exceptions.NoSuchUpload):
            call()


def test_an_upload_id_of_another_key_is_no_such_upload(bucket):
    init = bucket.init_multipart_upload("one.bin")
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.upload_part("other.bin", init.upload_id, 1, b"data")


# -- UploadPart details -----------------------------------------------------------------------------


def test_part_number_outside_1_to_10000_is_invalid_argument(bucket):
    init = bucket.init_multipart_upload("numbers.bin")
    for number in (0, 10001, "x"):
        with pytest.raises(oss2.exceptions.InvalidArgument):
            bucket.upload_part("numbers.bin", init.upload_id, number, b"data")
    assert bucket.upload_part("numbers.bin", init.upload_id, 10000, b"data").status == 200


def test_a_wrong_content_md5_is_invalid_digest_and_stores_nothing(bucket, data_dir):
    init = bucket.init_multipart_upload("md5.bin")
    with pytest.raises(oss2.exceptions.InvalidDigest):
        bucket.upload_part("md5.bin", init.upload_id, 1, b"data", headers={"Content-MD5": oss2.utils.content_md5(b"x")})
    assert bucket.list_parts("md5.bin", init.upload_id).parts == []
    assert blob_files(data_dir) == []
    good = {"Content-MD5": oss2.utils.content_md5(b"data")}
    assert bucket.upload_part("md5.bin", init.upload_id, 1, b"data", headers=good).status == 200


def test_uploading_a_part_number_again_replaces_the_part(bucket, data_dir):
    init = bucket.init_multipart_upload("again.bin")
    upload_parts(bucket, "again.bin", init.upload_id, [b"old part"])
    upload_parts(bucket, "again.bin", init.upload_id, [b"new part"])
    [part] = bucket.list_parts("again.bin", init.upload_id).parts
    assert (part.etag, part.size) == (hashlib.md5(b"new part").hexdigest().upper(), 8)
    assert len(blob_files(data_dir)) == 1


def test_abort_removes_the_upload_and_its_part_data(bucket, data_dir):
    init = bucket.init_multipart_upload("aborted.bin")
    upload_parts(bucket, "aborted.bin", init.upload_id, [b"one", b"two"])
    assert bucket.abort_multipart_upload("aborted.bin", init.upload_id).status == 204
    assert blob_files(data_dir) == []
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.list_parts("aborted.bin", init.upload_id)


# -- UploadPartCopy ---------------------------------------------------------------------------------


def complete_object(bucket: oss2.Bucket, key: str, parts: list[bytes], headers=None):
    init = bucket.init_multipart_upload(key, headers=headers)
    return bucket.complete_multipart_upload(key, init.upload_id, upload_parts(bucket, key, init.upload_id, parts))


def test_upload_part_copy_takes_ranges_of_a_kms_source_into_an_aes256_upload(new_bucket, data_dir):
    source_bucket, bucket = new_bucket(), new_bucket()
    source = marked(210 * KIB)
    source_bucket.put_object("dir/src ü+?.bin", source, headers={SSE: "KMS", DATA_ENCRYPTION: "SM4"})

    init = bucket.init_multipart_upload("copy.bin", headers={SSE: "AES256"})
    copies = [(0, 102399), (102400, None)]
    infos = []
    for number, byte_range in enumerate(copies, start=1):
        result = bucket.upload_part_copy(
            source_bucket.bucket_name, "dir/src ü+?.bin", byte_range, "copy.bin", init.upload_id, number
        )
        assert result.headers[SSE] == "AES256"
        infos.append(PartInfo(number, result.etag))
    listed = bucket.list_parts("copy.bin", init.upload_id).parts
    assert [(part.size, part.etag) for part in listed] == [
        (102400, hashlib.md5(source[:102400]).hexdigest().upper()),
        (len(source) - 102400, hashlib.md5(source[102400:]).hexdigest().upper()),
    ]
    done = bucket.complete_multipart_upload("copy.bin", init.upload_id, infos)

    assert done.headers[SSE] == "AES256" and KEY_ID not in done.headers
    assert bucket.get_object("copy.bin").read() == source
    assert not [blob for blob in blobs_at_rest(data_dir) if MARKER in blob]


def test_upload_part_copy_without_range_copies_the_whole_source(bucket):
    complete_object(bucket, "whole-src", [b"whole source"])
    init = bucket.init_multipart_upload("whole-dst")
    result = bucket.upload_part_copy(bucket.bucket_name, "whole-src", None, "whole-dst", init.upload_id, 1)
    assert result.etag == hashlib.md5(b"whole source").hexdigest().upper()


def test_upload_part_copy_rejects_bad_ranges_and_missing_sources(bucket):
    complete_object(bucket, "src", [b"0123456789"])
    init = bucket.init_multipart_upload("dst")
    for byte_range in ((5, 10), (10, None), (7, 3)):
        with pytest.raises(oss2.exceptions.InvalidArgument):
            bucket.upload_part_copy(bucket.bucket_name, "src", byte_range, "dst", init.upload_id, 1)
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.upload_part_copy(bucket.bucket_name, "missing", None, "dst", init.upload_id, 1)
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        bucket.upload_part_copy("no-such-bucket-here", "src", None, "dst", init.upload_id, 1)


def test_upload_part_copy_honours_copy_source_conditions(bucket):
    done = complete_object(bucket, "cond-src", [b"conditional"])
    init = bucket.init_multipart_upload("cond-dst")
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.upload_part_copy(
            bucket.bucket_name, "cond-src", None, "cond-dst", init.upload_id, 1,
            headers={"x-oss-copy-source-if-match": '"0123"'},
        )  # fmt: skip
    result = bucket.upload_part_copy(
        bucket.bucket_name, "cond-src", None, "cond-dst", init.upload_id, 1,
        headers={"x-oss-copy-source-if-match": done.etag},
    )  # fmt: skip
    assert result.status == 200


# -- resumable upload -------------------------------------------------------------------------------


def test_resumable_upload_and_download_round_trip(bucket, tmp_path):
    content = os.urandom(450 * KIB)
    source, back = tmp_path / "source.bin", tmp_path / "back.bin"
    source.write_bytes(content)
    oss2.resumable_upload(
        bucket,
        "resumable.bin",
        str(source),
        store=oss2.ResumableStore(root=str(tmp_path)),
        multipart_threshold=200 * KIB,
        part_size=100 * KIB,
        # One thread: the SQLite test database is an in-memory shared cache, whose writers fail rather than wait.
        num_threads=1,
    )
    head = bucket.head_object("resumable.bin")
    assert head.object_type == "Multipart" and head.etag.endswith("-5")
    assert "Content-MD5" not in head.headers
    oss2.resumable_download(
        bucket,
        "resumable.bin",
        str(back),
        store=oss2.ResumableDownloadStore(root=str(tmp_path)),
        multiget_threshold=200 * KIB,
        part_size=100 * KIB,
    )
    assert back.read_bytes() == content


def test_crypto_bucket_multipart_upload_round_trips(bucket, localcloud, auth):
    rsa = RSA.generate(2048)
    key_pair = {"private_key": rsa.export_key(), "public_key": rsa.publickey().export_key()}
    crypto_bucket = oss2.CryptoBucket(auth, localcloud, bucket.bucket_name, crypto_provider=oss2.RsaProvider(key_pair))
    content, part_size = os.urandom(250 * KIB), 100 * KIB
    context = oss2.models.MultipartUploadCryptoContext(data_size=len(content), part_size=part_size)
    init = crypto_bucket.init_multipart_upload("cse.bin", upload_context=context)
    infos = []
    for number, offset in enumerate(range(0, len(content), part_size), start=1):
        data = content[offset : offset + part_size]
        result = crypto_bucket.upload_part("cse.bin", init.upload_id, number, data, upload_context=context)
        infos.append(PartInfo(number, result.etag, size=len(data), part_crc=result.crc))
    crypto_bucket.complete_multipart_upload("cse.bin", init.upload_id, infos)

    assert crypto_bucket.get_object("cse.bin").read() == content
    stored = bucket.get_object("cse.bin")
    assert stored.headers["x-oss-meta-client-side-encryption-wrap-alg"] == "RSA/NONE/PKCS1Padding"
    assert len(stored.read()) == len(content)


# -- ListParts --------------------------------------------------------------------------------------


def test_list_parts_pages_with_markers(bucket):
    init = bucket.init_multipart_upload("listed.bin")
    contents = {number: os.urandom(number) for number in (1, 3, 6, 7, 9, 10)}
    for number, data in contents.items():
        bucket.upload_part("listed.bin", init.upload_id, number, data)

    page = bucket.list_parts("listed.bin", init.upload_id, marker="3", max_parts=2)
    assert [part.part_number for part in page.parts] == [6, 7]
    assert page.is_truncated and page.next_marker == "7"
    last = bucket.list_parts("listed.bin", init.upload_id, marker="7", max_parts=5)
    assert [part.part_number for part in last.parts] == [9, 10]
    assert not last.is_truncated

    parts = list(oss2.PartIterator(bucket, "listed.bin", init.upload_id, max_parts=4))
    assert [(part.part_number, part.etag, part.size) for part in parts] == [
        (number, hashlib.md5(data).hexdigest().upper(), len(data)) for number, data in contents.items()
    ]


def test_list_parts_rejects_bad_paging_parameters(bucket):
    init = bucket.init_multipart_upload("paging.bin")
    for arguments in ({"max_parts": 0}, {"max_parts": 1001}, {"marker": "x"}):
        with pytest.raises(oss2.exceptions.InvalidArgument):
            bucket.list_parts("paging.bin", init.upload_id, **arguments)


# -- ListMultipartUploads ---------------------------------------------------------------------------


def test_list_multipart_uploads_orders_by_key_then_upload_id_and_pages(bucket):
    same = sorted(bucket.init_multipart_upload("same").upload_id for _ in range(10))
    others = {key: bucket.init_multipart_upload(key).upload_id for key in ("a-before", "z-after", "same-longer")}
    expected = [("a-before", others["a-before"]), *(("same", upload_id) for upload_id in same)]
    expected += [("same-longer", others["same-longer"]), ("z-after", others["z-after"])]

    listed = list(oss2.MultipartUploadIterator(bucket, max_uploads=3))
    assert [(upload.key, upload.upload_id) for upload in listed] == expected

    page = bucket.list_multipart_uploads(key_marker="same", upload_id_marker=same[4], max_uploads=3)
    assert [upload.upload_id for upload in page.upload_list] == same[5:8]
    assert page.is_truncated and (page.next_key_marker, page.next_upload_id_marker) == ("same", same[7])
    after_key = bucket.list_multipart_uploads(key_marker="same")
    assert [upload.key for upload in after_key.upload_list] == ["same-longer", "z-after"]
    assert not after_key.is_truncated and after_key.next_key_marker == ""


def test_list_multipart_uploads_rolls_up_common_prefixes_once(bucket):
    for key in ("dir/a", "dir/b", "dir/sub/c", "other/x", "top", "Top"):
        bucket.init_multipart_upload(key)
    result = bucket.list_multipart_uploads(delimiter="/")
    assert [upload.key for upload in result.upload_list] == ["Top", "top"]
    assert result.prefix_list == ["dir/", "other/"]

    inside = bucket.list_multipart_uploads(prefix="dir/", delimiter="/")
    assert [upload.key for upload in inside.upload_list] == ["dir/a", "dir/b"]
    assert inside.prefix_list == ["dir/sub/"]

    seen = [entry.key for entry in oss2.MultipartUploadIterator(bucket, delimiter="/", max_uploads=1)]
    assert seen == ["Top", "dir/", "other/", "top"]
    assert [upload.key for upload in bucket.list_multipart_uploads(prefix="t").upload_list] == ["top"]


def test_keys_xml_cannot_carry_travel_url_encoded(bucket):
    key = "odd/\x01 ü+%?"
    init = bucket.init_multipart_upload(key)
    assert [(upload.key, upload.upload_id) for upload in oss2.MultipartUploadIterator(bucket)] == [
        (key, init.upload_id)
    ]
    upload_parts(bucket, key, init.upload_id, [b"odd"])
    assert len(bucket.list_parts(key, init.upload_id).parts) == 1


def test_names_holding_nul_are_refused_cleanly(bucket):
    init = bucket.init_multipart_upload("nul")
    with pytest.raises(oss2.exceptions.InvalidObjectName):
        bucket.init_multipart_upload("a\0b")
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.upload_part("a\0b", init.upload_id, 1, b"data")
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.list_parts("nul", init.upload_id + "\0")
    listed = bucket.list_multipart_uploads(prefix="n\0", key_marker="m\0", upload_id_marker="0")
    assert listed.upload_list == []
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.list_multipart_uploads(key_marker="nul", upload_id_marker="0\0")


def test_aborted_uploads_leave_the_listing(bucket):
    uploads = [bucket.init_multipart_upload(f"key-{index}").upload_id for index in range(3)]
    for index, upload_id in enumerate(uploads):
        bucket.abort_multipart_upload(f"key-{index}", upload_id)
    assert bucket.list_multipart_uploads().upload_list == []


def test_list_multipart_uploads_rejects_bad_max_uploads(bucket):
    for value in (0, 1001):
        with pytest.raises(oss2.exceptions.InvalidArgument):
            bucket.list_multipart_uploads(max_uploads=value)
