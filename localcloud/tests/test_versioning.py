"""Bucket versioning through the real oss2 SDK over HTTP: the bucket setting, version ids on every write, reads,
copies and deletes by version, delete markers, ListObjectVersions paging, batch deletes with versions, the `null`
version of a Suspended bucket and per-version encryption at rest."""

import oss2
import pytest
from oss2.models import (
    BatchDeleteObjectVersion,
    BatchDeleteObjectVersionList,
    BucketVersioningConfig,
    PartInfo,
    Tagging,
    TaggingRule,
)

from localcloud.models import StoredObject
from localcloud.storage import blob_store

SSE = "x-oss-server-side-encryption"
KEY_ID = "x-oss-server-side-encryption-key-id"
VERSION = "versionId"


def _versioning(bucket, status: str) -> None:
    config = BucketVersioningConfig()
    config.status = status
    bucket.put_bucket_versioning(config)


@pytest.fixture
def versioned(bucket):
    _versioning(bucket, "Enabled")
    return bucket


def _versions(bucket, **kwargs) -> list[tuple[str, str, bool, bool]]:
    """Every (key, version id, is latest, is delete marker) of one listing page, in the answer's order per kind."""
    result = bucket.list_object_versions(**kwargs)
    return [(v.key, v.versionid, v.is_latest, False) for v in result.versions] + [
        (m.key, m.versionid, m.is_latest, True) for m in result.delete_marker
    ]


def _all_versions(bucket, max_keys: int, **kwargs) -> tuple[list, list[str], int]:
    """(versions and delete markers as (key, version id), common prefixes, pages) of a listing walked page by page."""
    entries, prefixes, pages = [], [], 0
    key_marker = versionid_marker = ""
    while True:
        result = bucket.list_object_versions(
            key_marker=key_marker, versionid_marker=versionid_marker, max_keys=max_keys, **kwargs
        )
        pages += 1
        page = [(v.key, v.versionid) for v in result.versions] + [(m.key, m.versionid) for m in result.delete_marker]
        entries += page
        prefixes += result.common_prefix
        assert len(page) + len(result.common_prefix) <= max_keys
        if not result.is_truncated:
            return entries, prefixes, pages
        key_marker, versionid_marker = result.next_key_marker, result.next_versionid_marker


def _blob_path(bucket, key, version_id):
    row = StoredObject.objects.get(bucket__name=bucket.bucket_name, key=key, version_id=version_id)
    return blob_store().path(row.blob)


# -- the bucket setting ---------------------------------------------------------------------------------------


def test_a_bucket_never_versioned_answers_an_empty_configuration_and_no_status_in_its_info(bucket):
    assert bucket.get_bucket_versioning().status is None
    assert bucket.get_bucket_info().versioning_status is None


@pytest.mark.parametrize("status", ["Enabled", "Suspended"])
def test_versioning_is_enabled_or_suspended_and_reported_in_the_bucket_info(bucket, status):
    _versioning(bucket, status)

    assert bucket.get_bucket_versioning().status == status
    assert bucket.get_bucket_info().versioning_status == status


def test_an_unknown_versioning_status_is_refused(bucket):
    with pytest.raises(oss2.exceptions.ServerError) as refused:
        _versioning(bucket, "Off")

    assert refused.value.code == "MalformedXML"
    assert bucket.get_bucket_versioning().status is None


def test_objects_of_a_bucket_never_versioned_carry_no_version_id(bucket):
    put = bucket.put_object("plain", b"data")

    assert put.versionid is None
    assert bucket.head_object("plain").versionid is None
    assert bucket.delete_object("plain").versionid is None


# -- version ids on writes, reads by version ------------------------------------------------------------------


def test_each_put_adds_a_version_and_reads_by_version_id_see_each_content(versioned):
    first = versioned.put_object("doc", b"first").versionid
    second = versioned.put_object("doc", b"second").versionid

    assert first and second and first != second
    assert versioned.get_object("doc").read() == b"second"
    assert versioned.get_object("doc").versionid == second
    assert versioned.get_object("doc", params={VERSION: first}).read() == b"first"
    head = versioned.head_object("doc", params={VERSION: first})
    assert (head.versionid, head.content_length) == (first, 5)


def test_an_unknown_version_id_is_no_such_version(versioned):
    versioned.put_object("doc", b"data")

    with pytest.raises(oss2.exceptions.ServerError) as missing:
        versioned.get_object("doc", params={VERSION: "not-a-version"})

    assert (missing.value.status, missing.value.code) == (404, "NoSuchVersion")


def test_copy_multipart_complete_and_append_answer_with_their_version_id(versioned):
    versioned.put_object("source", b"source data")
    copied = versioned.copy_object(versioned.bucket_name, "source", "copy")
    upload_id = versioned.init_multipart_upload("multi").upload_id
    part = versioned.upload_part("multi", upload_id, 1, b"one part")
    completed = versioned.complete_multipart_upload("multi", upload_id, [PartInfo(1, part.etag)])
    appended = versioned.append_object("log", 0, b"line 1\n")

    for result, key in ((copied, "copy"), (completed, "multi"), (appended, "log")):
        assert result.versionid
        assert versioned.head_object(key).versionid == result.versionid


def test_appending_rewrites_the_current_version_rather_than_add_one(versioned):
    created = versioned.append_object("log", 0, b"line 1\n")
    extended = versioned.append_object("log", created.next_position, b"line 2\n")

    assert extended.versionid == created.versionid
    assert versioned.get_object("log").read() == b"line 1\nline 2\n"
    assert [entry[1] for entry in _versions(versioned)] == [created.versionid]


def test_copying_an_older_version_makes_its_content_the_new_current_version(versioned):
    old = versioned.put_object("doc", b"old content").versionid
    newer = versioned.put_object("doc", b"newer content").versionid

    restored = versioned.copy_object(versioned.bucket_name, "doc", "doc", params={VERSION: old})

    assert restored.versionid not in (old, newer)
    current = versioned.get_object("doc")
    assert (current.versionid, current.read()) == (restored.versionid, b"old content")
    assert len(_versions(versioned)) == 3


def test_copying_from_an_unknown_version_is_no_such_version(versioned):
    versioned.put_object("doc", b"data")

    with pytest.raises(oss2.exceptions.ServerError) as missing:
        versioned.copy_object(versioned.bucket_name, "doc", "copy", params={VERSION: "unknown"})

    assert (missing.value.status, missing.value.code) == (404, "NoSuchVersion")


def test_a_copy_onto_itself_is_a_new_version_with_its_own_blob(versioned):
    original = versioned.put_object("doc", b"content").versionid

    copied = versioned.copy_object(versioned.bucket_name, "doc", "doc").versionid

    assert copied != original
    assert _blob_path(versioned, "doc", original) != _blob_path(versioned, "doc", copied)
    assert versioned.get_object("doc", params={VERSION: original}).read() == b"content"
    assert versioned.get_object("doc").read() == b"content"


def test_acl_and_tagging_address_one_version(versioned):
    old = versioned.put_object("doc", b"old").versionid
    versioned.put_object("doc", b"new")
    rule = TaggingRule()
    rule.add("state", "archived")

    versioned.put_object_acl("doc", oss2.OBJECT_ACL_PUBLIC_READ, params={VERSION: old})
    versioned.put_object_tagging("doc", Tagging(rule), params={VERSION: old})

    assert versioned.get_object_acl("doc", params={VERSION: old}).acl == oss2.OBJECT_ACL_PUBLIC_READ
    assert versioned.get_object_acl("doc").acl == oss2.OBJECT_ACL_DEFAULT
    assert versioned.get_object_tagging("doc", params={VERSION: old}).tag_set.tagging_rule == {"state": "archived"}
    assert versioned.get_object_tagging("doc").tag_set.tagging_rule == {}


# -- delete markers and deleting versions ---------------------------------------------------------------------


def test_a_delete_without_version_id_adds_a_delete_marker_that_hides_the_key(versioned):
    kept = versioned.put_object("doc", b"data").versionid

    deleted = versioned.delete_object("doc")

    assert deleted.delete_marker is True
    assert deleted.versionid and deleted.versionid != kept
    with pytest.raises(oss2.exceptions.NoSuchKey) as hidden:
        versioned.get_object("doc")
    assert hidden.value.headers["x-oss-delete-marker"] == "true"
    assert hidden.value.headers["x-oss-version-id"] == deleted.versionid
    with pytest.raises(oss2.exceptions.NotFound) as head:
        versioned.head_object("doc")
    assert head.value.headers["x-oss-delete-marker"] == "true"
    assert versioned.get_object("doc", params={VERSION: kept}).read() == b"data"
    assert [obj.key for obj in oss2.ObjectIterator(versioned)] == []
    assert [obj.key for obj in oss2.ObjectIteratorV2(versioned)] == []


def test_deleting_the_delete_marker_brings_the_previous_version_back(versioned):
    versioned.put_object("doc", b"data")
    marker = versioned.delete_object("doc").versionid

    removed = versioned.delete_object("doc", params={VERSION: marker})

    assert (removed.versionid, removed.delete_marker) == (marker, True)
    assert versioned.get_object("doc").read() == b"data"


def test_deleting_the_current_version_makes_the_previous_one_current_and_removes_its_blob(versioned):
    first = versioned.put_object("doc", b"first").versionid
    second = versioned.put_object("doc", b"second").versionid
    blob = _blob_path(versioned, "doc", second)

    removed = versioned.delete_object("doc", params={VERSION: second})

    assert removed.versionid == second
    assert not removed.delete_marker
    assert not blob.exists()
    current = versioned.get_object("doc")
    assert (current.versionid, current.read()) == (first, b"first")
    assert _versions(versioned) == [("doc", first, True, False)]


def test_deleting_a_noncurrent_version_keeps_the_current_one(versioned):
    first = versioned.put_object("doc", b"first").versionid
    second = versioned.put_object("doc", b"second").versionid
    blob = _blob_path(versioned, "doc", first)

    versioned.delete_object("doc", params={VERSION: first})

    assert not blob.exists()
    assert versioned.get_object("doc").versionid == second
    assert _versions(versioned) == [("doc", second, True, False)]


def test_reading_a_delete_marker_by_version_id_is_not_allowed(versioned):
    versioned.put_object("doc", b"data")
    marker = versioned.delete_object("doc").versionid

    with pytest.raises(oss2.exceptions.ServerError) as refused:
        versioned.get_object("doc", params={VERSION: marker})

    assert refused.value.status == 405
    assert refused.value.headers["x-oss-delete-marker"] == "true"


def test_a_bucket_holding_only_versions_and_delete_markers_is_not_empty(versioned):
    versioned.put_object("doc", b"data")
    versioned.delete_object("doc")

    with pytest.raises(oss2.exceptions.BucketNotEmpty):
        versioned.delete_bucket()
    stat = versioned.get_bucket_stat()
    assert (stat.object_count, stat.delete_marker_count) == (1, 1)


# -- ListObjectVersions ---------------------------------------------------------------------------------------


def test_versions_are_listed_by_key_newest_first_with_delete_markers(versioned):
    a1 = versioned.put_object("a", b"1").versionid
    a2 = versioned.put_object("a", b"22").versionid
    b1 = versioned.put_object("b", b"333").versionid
    marker = versioned.delete_object("b").versionid

    result = versioned.list_object_versions()

    assert [(v.key, v.versionid, v.is_latest, v.size) for v in result.versions] == [
        ("a", a2, True, 2),
        ("a", a1, False, 1),
        ("b", b1, False, 3),
    ]
    assert [(m.key, m.versionid, m.is_latest) for m in result.delete_marker] == [("b", marker, True)]
    assert result.is_truncated is False


def test_version_listing_pages_across_keys_and_within_a_key(versioned):
    expected = []
    for key in ("k1", "k2", "k3"):
        ids = [versioned.put_object(key, str(n).encode()).versionid for n in range(3)]
        expected += [(key, version_id) for version_id in reversed(ids)]

    entries, prefixes, pages = _all_versions(versioned, max_keys=2)

    assert entries == expected
    assert (prefixes, pages) == ([], 5)


def test_version_listing_rolls_up_prefixes_by_delimiter_and_honours_the_prefix(versioned):
    for key in ("logs/2024/a", "logs/2024/b", "logs/2025/a", "logs/top", "other"):
        versioned.put_object(key, b"x")
        versioned.put_object(key, b"y")

    entries, prefixes, _ = _all_versions(versioned, max_keys=1, prefix="logs/", delimiter="/")

    assert [key for key, _ in entries] == ["logs/top", "logs/top"]
    assert prefixes == ["logs/2024/", "logs/2025/"]


def test_version_listing_carries_awkward_keys_url_encoded(versioned):
    key = "dir/a b+c&d\x01"
    version_id = versioned.put_object(key, b"x").versionid

    assert _versions(versioned) == [(key, version_id, True, False)]


# -- batch delete with versions -------------------------------------------------------------------------------


def test_a_batch_delete_removes_named_versions_and_adds_markers_for_the_rest(versioned):
    a1 = versioned.put_object("a", b"1").versionid
    a2 = versioned.put_object("a", b"2").versionid
    versioned.put_object("b", b"3")
    versions = BatchDeleteObjectVersionList([BatchDeleteObjectVersion("a", a1), BatchDeleteObjectVersion("b")])

    result = versioned.delete_object_versions(versions)

    by_key = {entry.key: entry for entry in result.delete_versions}
    assert (by_key["a"].versionid, by_key["a"].delete_marker) == (a1, False)
    assert by_key["b"].delete_marker is True and by_key["b"].delete_marker_versionid
    assert versioned.get_object("a").versionid == a2
    assert not versioned.object_exists("b")
    assert ("b", by_key["b"].delete_marker_versionid, True, True) in _versions(versioned)


def test_a_bucket_never_versioned_deletes_its_null_versions_without_adding_markers(bucket):
    for key in ("a", "b", "c"):
        bucket.put_object(key, b"x")
    versions = BatchDeleteObjectVersionList([BatchDeleteObjectVersion("a", "null"), BatchDeleteObjectVersion("b")])

    result = bucket.delete_object_versions(versions)
    single = bucket.delete_object("c", params={VERSION: "null"})

    assert [(entry.key, entry.delete_marker) for entry in result.delete_versions] == [("a", False), ("b", False)]
    assert single.delete_marker is None
    assert not StoredObject.objects.filter(bucket__name=bucket.bucket_name).exists()


def test_a_batch_delete_of_a_delete_marker_version_says_so(versioned):
    versioned.put_object("a", b"1")
    marker = versioned.delete_object("a").versionid

    result = versioned.delete_object_versions(BatchDeleteObjectVersionList([BatchDeleteObjectVersion("a", marker)]))

    entry = result.delete_versions[0]
    assert (entry.versionid, entry.delete_marker, entry.delete_marker_versionid) == (marker, True, marker)
    assert versioned.get_object("a").read() == b"1"


# -- the null version of a Suspended bucket ---------------------------------------------------------------


def test_a_suspended_bucket_replaces_its_null_version_and_keeps_the_others(versioned):
    kept = versioned.put_object("doc", b"versioned").versionid
    _versioning(versioned, "Suspended")

    first_null = versioned.put_object("doc", b"null one")
    replaced_blob = _blob_path(versioned, "doc", "null")
    second_null = versioned.put_object("doc", b"null two")

    assert first_null.versionid == second_null.versionid == "null"
    assert not replaced_blob.exists()
    assert versioned.get_object("doc").read() == b"null two"
    assert versioned.get_object("doc", params={VERSION: kept}).read() == b"versioned"
    assert _versions(versioned) == [("doc", "null", True, False), ("doc", kept, False, False)]


def test_objects_from_before_versioning_are_the_null_version(bucket):
    bucket.put_object("doc", b"before")
    _versioning(bucket, "Enabled")
    after = bucket.put_object("doc", b"after").versionid

    assert bucket.get_object("doc", params={VERSION: "null"}).read() == b"before"
    assert _versions(bucket) == [("doc", after, True, False), ("doc", "null", False, False)]


def test_a_delete_in_a_suspended_bucket_replaces_the_null_version_with_a_null_delete_marker(versioned):
    kept = versioned.put_object("doc", b"versioned").versionid
    _versioning(versioned, "Suspended")
    versioned.put_object("doc", b"null")

    deleted = versioned.delete_object("doc")

    assert (deleted.versionid, deleted.delete_marker) == ("null", True)
    assert _versions(versioned) == [("doc", kept, False, False), ("doc", "null", True, True)]


# -- encryption at rest per version ---------------------------------------------------------------------------


def test_each_version_keeps_its_own_encryption_and_data_key(versioned):
    kms = versioned.put_object("doc", b"under kms", headers={SSE: "KMS"}).versionid
    aes = versioned.put_object("doc", b"under aes", headers={SSE: "AES256"}).versionid

    kms_head = versioned.head_object("doc", params={VERSION: kms})
    aes_head = versioned.head_object("doc", params={VERSION: aes})
    assert kms_head.headers[SSE] == "KMS" and kms_head.headers[KEY_ID]
    assert aes_head.headers[SSE] == "AES256" and KEY_ID not in aes_head.headers
    rows = StoredObject.objects.filter(bucket__name=versioned.bucket_name, key="doc")
    assert len({bytes(row.sealed_data_key) for row in rows}) == 2
    assert len({row.blob for row in rows}) == 2
    assert versioned.get_object("doc", params={VERSION: kms}).read() == b"under kms"
    for version_id, plaintext in ((kms, b"under kms"), (aes, b"under aes")):
        assert plaintext not in _blob_path(versioned, "doc", version_id).read_bytes()
