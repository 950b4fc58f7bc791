"""CopyObject and update_object_meta through oss2, including the self-copy that re-encrypts an object in place."""

from xml.etree import ElementTree

import oss2
import pytest
from oss2.models import Tagging, TaggingRule

from localcloud.models import StoredObject
from localcloud.storage import blob_store

SSE = "x-oss-server-side-encryption"
KEY_ID = "x-oss-server-side-encryption-key-id"
DATA_ENCRYPTION = "x-oss-server-side-data-encryption"
COPY_IF_MATCH = "x-oss-copy-source-if-match"
REPLACE = {"x-oss-metadata-directive": "REPLACE"}


def _row(bucket, key) -> StoredObject:
    return StoredObject.objects.get(bucket__name=bucket.bucket_name, key=key)


def _sse_headers(result) -> dict:
    return {name: value for name, value in result.headers.items() if name.lower().startswith(SSE)}


def _put_document(bucket, key="doc.txt", **headers):
    """An object with content headers, user metadata and tags, as the re-encryption engine finds them."""
    base = {"x-oss-meta-author": "ada", "Cache-Control": "no-cache", "x-oss-tagging": "env=prod"}
    return bucket.put_object(key, b"the document" * 10000, headers={**base, **headers})


def _reencryption_headers(head, target: dict) -> dict:
    """design.md §7: REPLACE, every content header and x-oss-meta-* re-sent, the target SSE, and the ETag."""
    kept = {name: value for name, value in head.headers.items() if name.lower().startswith("x-oss-meta-")}
    kept["Content-Type"] = head.content_type
    kept["Cache-Control"] = head.headers["Cache-Control"]
    return {**REPLACE, **kept, **target, COPY_IF_MATCH: head.etag}


# -- copy onto itself -----------------------------------------------------------------------------


def test_self_copy_with_new_sse_reencrypts_into_a_new_blob_and_keeps_everything_else(bucket):
    put = _put_document(bucket, **{SSE: "AES256"})
    before = _row(bucket, "doc.txt")
    head = bucket.head_object("doc.txt")

    result = bucket.copy_object(
        bucket.bucket_name, "doc.txt", "doc.txt", headers=_reencryption_headers(head, {SSE: "KMS"})
    )

    after = bucket.head_object("doc.txt")
    row = _row(bucket, "doc.txt")
    assert result.headers[SSE] == after.headers[SSE] == "KMS"
    assert after.headers[KEY_ID]
    assert bucket.get_object("doc.txt").read() == b"the document" * 10000
    assert (after.etag, after.server_crc, after.content_type) == (put.etag, put.crc, "text/plain")
    assert after.headers["x-oss-meta-author"] == "ada"
    assert after.headers["Cache-Control"] == "no-cache"
    assert bucket.get_object_tagging("doc.txt").tag_set.tagging_rule == {"env": "prod"}
    assert row.blob != before.blob
    assert not blob_store().path(before.blob).exists()


def test_self_copy_can_remove_encryption_or_switch_to_kms_with_sm4(bucket):
    _put_document(bucket, **{SSE: "SM4"})

    head = bucket.head_object("doc.txt")
    bucket.copy_object(
        bucket.bucket_name,
        "doc.txt",
        "doc.txt",
        headers=_reencryption_headers(head, {SSE: "KMS", DATA_ENCRYPTION: "SM4"}),
    )
    assert bucket.head_object("doc.txt").headers[DATA_ENCRYPTION] == "SM4"

    head = bucket.head_object("doc.txt")
    bucket.copy_object(bucket.bucket_name, "doc.txt", "doc.txt", headers=_reencryption_headers(head, {}))
    assert _sse_headers(bucket.head_object("doc.txt")) == {}
    assert _row(bucket, "doc.txt").cipher == ""
    assert bucket.get_object("doc.txt").read() == b"the document" * 10000


def test_self_copy_with_a_stale_etag_fails_and_leaves_the_object_untouched(bucket):
    _put_document(bucket, **{SSE: "AES256"})
    before = _row(bucket, "doc.txt")
    headers = {**REPLACE, SSE: "KMS", COPY_IF_MATCH: '"00000000000000000000000000000000"'}

    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.copy_object(bucket.bucket_name, "doc.txt", "doc.txt", headers=headers)

    after = _row(bucket, "doc.txt")
    assert (after.blob, after.sse_algorithm, after.content_type) == (before.blob, "AES256", "text/plain")
    assert bucket.head_object("doc.txt").headers["x-oss-meta-author"] == "ada"


def test_self_copy_without_an_sse_change_rewrites_only_metadata(bucket):
    _put_document(bucket, **{SSE: "KMS"})
    before = _row(bucket, "doc.txt")

    bucket.copy_object(
        bucket.bucket_name, "doc.txt", "doc.txt", headers={**REPLACE, SSE: "KMS", "x-oss-meta-author": "grace"}
    )

    after = _row(bucket, "doc.txt")
    assert after.blob == before.blob
    assert bytes(after.sealed_data_key) == bytes(before.sealed_data_key)
    assert bucket.head_object("doc.txt").headers["x-oss-meta-author"] == "grace"
    assert bucket.get_object("doc.txt").read() == b"the document" * 10000


def test_self_copy_keeps_the_object_acl_unless_told_otherwise(bucket):
    _put_document(bucket)
    bucket.put_object_acl("doc.txt", oss2.OBJECT_ACL_PUBLIC_READ)

    bucket.copy_object(bucket.bucket_name, "doc.txt", "doc.txt", headers={SSE: "AES256"})
    assert bucket.get_object_acl("doc.txt").acl == "public-read"

    bucket.copy_object(bucket.bucket_name, "doc.txt", "doc.txt", headers={"x-oss-object-acl": "private"})
    assert bucket.get_object_acl("doc.txt").acl == "private"


def test_self_copy_changing_the_storage_class_writes_a_new_blob(bucket):
    _put_document(bucket)
    before = _row(bucket, "doc.txt")

    bucket.copy_object(bucket.bucket_name, "doc.txt", "doc.txt", headers={"x-oss-storage-class": "IA"})

    assert bucket.head_object("doc.txt").headers["x-oss-storage-class"] == "IA"
    assert _row(bucket, "doc.txt").blob != before.blob


def test_self_copy_of_an_appendable_object_keeps_it_appendable(bucket):
    first = bucket.append_object("log", 0, b"one ")

    bucket.copy_object(bucket.bucket_name, "log", "log", headers={SSE: "SM4"})

    assert bucket.head_object("log").object_type == "Appendable"
    assert bucket.append_object("log", first.next_position, b"two").headers[SSE] == "SM4"
    assert bucket.get_object("log").read() == b"one two"


def test_update_object_meta_replaces_content_type_and_metadata(bucket):
    _put_document(bucket)

    bucket.update_object_meta("doc.txt", {"Content-Type": "whatever", "x-oss-meta-category": "novel"})

    head = bucket.head_object("doc.txt")
    assert head.content_type == "whatever"
    assert head.headers["x-oss-meta-category"] == "novel"
    assert "x-oss-meta-author" not in head.headers
    assert "Cache-Control" not in head.headers


# -- copy to another key or bucket ----------------------------------------------------------------


def test_copy_keeps_data_metadata_and_tags_by_default(bucket):
    put = _put_document(bucket)

    result = bucket.copy_object(bucket.bucket_name, "doc.txt", "copy.txt")

    head = bucket.head_object("copy.txt")
    assert result.etag == head.etag == put.etag
    assert result.crc == put.crc
    assert head.headers["x-oss-meta-author"] == "ada"
    assert head.object_type == "Normal"
    assert bucket.get_object_tagging("copy.txt").tag_set.tagging_rule == {"env": "prod"}
    assert bucket.get_object("copy.txt").read() == b"the document" * 10000


def test_copy_with_replace_directives_takes_the_requests_headers_and_tags(bucket):
    _put_document(bucket)
    headers = {**REPLACE, "x-oss-meta-reviewer": "bob", "x-oss-tagging-directive": "Replace", "x-oss-tagging": "k=v"}

    bucket.copy_object(bucket.bucket_name, "doc.txt", "copy", headers=headers)

    head = bucket.head_object("copy")
    assert head.content_type == "application/octet-stream"
    assert head.headers["x-oss-meta-reviewer"] == "bob"
    assert "x-oss-meta-author" not in head.headers
    assert bucket.get_object_tagging("copy").tag_set.tagging_rule == {"k": "v"}


def test_copy_with_replaced_empty_tagging_drops_the_tags(bucket):
    _put_document(bucket)

    bucket.copy_object(bucket.bucket_name, "doc.txt", "copy", headers={"x-oss-tagging-directive": "REPLACE"})

    assert bucket.get_object_tagging("copy").tag_set.tagging_rule == {}


def test_copy_to_another_bucket_never_inherits_sse(bucket, new_bucket):
    _put_document(bucket, **{SSE: "KMS", DATA_ENCRYPTION: "SM4"})
    plain, defaulted = new_bucket(), new_bucket(headers={SSE: "AES256"})

    into_plain = plain.copy_object(bucket.bucket_name, "doc.txt", "doc.txt")
    into_defaulted = defaulted.copy_object(bucket.bucket_name, "doc.txt", "doc.txt")

    assert _sse_headers(into_plain) == _sse_headers(plain.head_object("doc.txt")) == {}
    assert _row(plain, "doc.txt").cipher == ""
    assert _sse_headers(into_defaulted) == {SSE: "AES256"}
    assert plain.get_object("doc.txt").read() == defaulted.get_object("doc.txt").read() == b"the document" * 10000


def test_copy_response_carries_the_destination_sse_and_the_result_xml(bucket):
    _put_document(bucket)

    result = bucket.copy_object(bucket.bucket_name, "doc.txt", "copy", headers={SSE: "SM4"})

    body = ElementTree.fromstring(result.resp.read())
    assert result.headers[SSE] == "SM4"
    assert body.tag == "CopyObjectResult"
    assert body.findtext("ETag") == f'"{result.etag}"'
    assert body.findtext("LastModified").endswith(".000Z")


def test_copy_source_with_escaped_characters(bucket):
    source = "阿里云/加油/:?;@&=+$, /<>{}[]|/"
    bucket.put_object(source, b"escaped")

    bucket.copy_object(bucket.bucket_name, source, "target")

    assert bucket.get_object("target").read() == b"escaped"


def test_copy_of_an_empty_object(bucket):
    bucket.put_object("empty", b"", headers={SSE: "AES256"})

    bucket.copy_object(bucket.bucket_name, "empty", "empty-copy", headers={SSE: "KMS"})

    assert bucket.get_object("empty-copy").read() == b""


def test_copy_source_conditions_refuse_or_report_not_modified(bucket):
    etag = _put_document(bucket).etag

    bucket.copy_object(bucket.bucket_name, "doc.txt", "ok", headers={COPY_IF_MATCH: etag})
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.copy_object(bucket.bucket_name, "doc.txt", "no", headers={"x-oss-copy-source-if-none-match": etag})
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.copy_object(
            bucket.bucket_name,
            "doc.txt",
            "no",
            headers={"x-oss-copy-source-if-unmodified-since": "Mon, 01 Jan 2001 00:00:00 GMT"},
        )
    assert not bucket.object_exists("no")


def test_copy_from_missing_sources_and_bad_directives_fails(bucket):
    _put_document(bucket)

    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.copy_object(bucket.bucket_name, "missing", "target")
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        bucket.copy_object("no-such-bucket-anywhere", "doc.txt", "target")
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.copy_object(bucket.bucket_name, "doc.txt", "target", headers={"x-oss-metadata-directive": "MERGE"})
    assert not bucket.object_exists("target")


def test_copy_with_forbid_overwrite_refuses_an_existing_destination(bucket):
    _put_document(bucket)
    bucket.put_object("target", b"original")

    with pytest.raises(oss2.exceptions.ServerError) as refused:
        bucket.copy_object(bucket.bucket_name, "doc.txt", "target", headers={"x-oss-forbid-overwrite": "true"})

    assert (refused.value.status, refused.value.code) == (409, "FileAlreadyExists")
    assert bucket.get_object("target").read() == b"original"


def test_anonymous_copy_needs_read_on_the_source_and_write_on_the_destination(new_bucket, localcloud):
    open_bucket = new_bucket(permission="public-read-write")
    open_bucket.put_object("plain", b"readable")
    open_bucket.put_object("kms", b"sealed", headers={SSE: "KMS"})
    anonymous = oss2.Bucket(oss2.AnonymousAuth(), localcloud, open_bucket.bucket_name)

    anonymous.copy_object(open_bucket.bucket_name, "plain", "copied")

    assert open_bucket.get_object("copied").read() == b"readable"
    with pytest.raises(oss2.exceptions.AccessDenied) as refused:
        anonymous.copy_object(open_bucket.bucket_name, "kms", "stolen")
    assert refused.value.message == "This request is forbidden by kms."


def test_copy_with_tags_from_tagging_api_keeps_them(bucket):
    _put_document(bucket)
    rule = TaggingRule()
    rule.add("owner", "中文")
    bucket.put_object_tagging("doc.txt", Tagging(rule))

    bucket.copy_object(bucket.bucket_name, "doc.txt", "copy")

    assert bucket.get_object_tagging("copy").tag_set.tagging_rule == {"owner": "中文"}
