"""Object operations through the real oss2 SDK over HTTP: put, get, head, ranges, conditions, deletes, tagging,
ACL, append, presigned URLs and the awkward inputs."""

import base64
import hashlib
import http.client
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate
from urllib.parse import urlsplit

import oss2
import pytest
from django.conf import settings
from oss2.models import Tagging, TaggingRule

from localcloud.models import StoredObject


def _tagging(**tags) -> Tagging:
    rule = TaggingRule()
    for key, value in tags.items():
        rule.add(key, value)
    return Tagging(rule)


def _md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _crc64(data: bytes) -> int:
    crc = oss2.utils.Crc64()
    crc.update(data)
    return crc.crc


def _stored(bucket, key):
    return StoredObject.objects.filter(bucket__name=bucket.bucket_name, key=key).first()


# -- put, get, head -------------------------------------------------------------------------------


def test_put_get_head_round_trip_carries_data_and_metadata(bucket):
    data = b"hello"
    result = bucket.put_object(
        "docs/greeting.txt",
        data,
        headers={"x-oss-meta-Owner": "ops team", "Cache-Control": "no-cache", "Content-Disposition": "inline"},
    )

    assert result.etag == "5D41402ABC4B2A76B9719D911017C592"
    assert result.crc == 11177612005948864433
    got = bucket.get_object("docs/greeting.txt")
    assert got.read() == data
    assert got.content_type == "text/plain"
    assert got.etag == result.etag
    assert got.headers["x-oss-meta-owner"] == "ops team"
    assert got.headers["Cache-Control"] == "no-cache"
    head = bucket.head_object("docs/greeting.txt")
    assert head.content_length == 5
    assert head.object_type == "Normal"
    assert head.headers["x-oss-storage-class"] == "Standard"
    assert head.headers["Content-Disposition"] == "inline"
    assert head.server_crc == result.crc
    assert abs(head.last_modified - time.time()) < 600


def test_put_without_content_type_stores_octet_stream(bucket):
    bucket.put_object("no-extension", b"x")

    assert bucket.head_object("no-extension").content_type == "application/octet-stream"


def test_chunked_upload_from_a_generator_is_stored_whole(bucket):
    parts = [b"a" * 100_000, b"b" * 70_000, b"c"]

    result = bucket.put_object("chunked.bin", (part for part in parts))

    assert bucket.get_object("chunked.bin").read() == b"".join(parts)
    assert bucket.head_object("chunked.bin").content_length == 170_001
    assert result.etag == hashlib.md5(b"".join(parts)).hexdigest().upper()


def test_empty_object_round_trips_with_zero_crc(bucket):
    result = bucket.put_object("empty", b"")

    assert result.crc == 0
    got = bucket.get_object("empty")
    assert got.read() == b""
    assert got.server_crc == 0
    assert bucket.head_object("empty").content_length == 0


def test_unicode_metadata_header_round_trips_byte_for_byte(bucket):
    bucket.put_object("unicode", b"x", headers={"x-oss-meta-unicode": "测试".encode()})

    value = bucket.head_object("unicode").headers["x-oss-meta-unicode"]

    assert value.encode("latin-1").decode("utf-8") == "测试"


def test_overwrite_replaces_data_and_metadata_and_removes_the_old_blob(bucket, data_dir):
    bucket.put_object("k", b"first", headers={"x-oss-meta-a": "1", "x-oss-tagging": "t=1"})
    old_blob = _stored(bucket, "k").blob

    bucket.put_object("k", b"second")

    head = bucket.head_object("k")
    assert bucket.get_object("k").read() == b"second"
    assert "x-oss-meta-a" not in head.headers
    assert "x-oss-tagging-count" not in head.headers
    assert not any(path.name == old_blob for path in data_dir.rglob("*"))


def test_missing_keys_and_buckets_are_reported_as_such(bucket, auth, localcloud):
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object("missing")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.head_object("missing")
    assert not bucket.object_exists("missing")
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        oss2.Bucket(auth, localcloud, "no-such-bucket-here").get_object("k")


def test_get_object_meta_returns_only_size_etag_and_dates(bucket):
    bucket.put_object("meta", b"hello", headers={"x-oss-meta-a": "1"})

    meta = bucket.get_object_meta("meta")

    assert meta.content_length == 5
    assert meta.etag == "5D41402ABC4B2A76B9719D911017C592"
    assert "x-oss-meta-a" not in meta.headers
    assert bucket.object_exists("meta")


def test_response_parameters_override_response_headers(bucket):
    bucket.put_object("report.csv", b"a,b")
    params = {
        "response-content-type": "text/x-custom",
        "response-content-disposition": "attachment; filename=r.csv",
        "response-cache-control": "max-age=5",
    }

    got = bucket.get_object("report.csv", params=params)

    assert got.headers["Content-Type"] == "text/x-custom"
    assert got.headers["Content-Disposition"] == "attachment; filename=r.csv"
    assert got.headers["Cache-Control"] == "max-age=5"


# -- ranges and conditions ------------------------------------------------------------------------

DATA = bytes(range(256)) * 4  # 1024 bytes


@pytest.mark.parametrize(
    ("byte_range", "expected"),
    [((0, 9), DATA[:10]), ((1000, None), DATA[1000:]), ((None, 24), DATA[-24:]), ((1023, 1023), DATA[-1:])],
)
def test_valid_range_gets_206_with_explicit_content_range(bucket, byte_range, expected):
    bucket.put_object("r", DATA)

    got = bucket.get_object("r", byte_range=byte_range)

    assert got.status == 206
    assert got.read() == expected
    start = len(DATA) - len(expected) if byte_range[0] is None else byte_range[0]
    assert got.headers["Content-Range"] == f"bytes {start}-{start + len(expected) - 1}/1024"
    assert got.server_crc == bucket.head_object("r").server_crc


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=0-1024", "bytes=10-5", "items=0-1", "bytes=-"])
def test_invalid_range_is_ignored_by_default(bucket, header):
    bucket.put_object("r", DATA)

    got = bucket.get_object("r", headers={"Range": header})

    assert got.status == 200
    assert got.read() == DATA


def test_standard_range_behavior_refuses_unsatisfiable_and_clamps_the_end(bucket):
    bucket.put_object("r", DATA)
    standard = {"x-oss-range-behavior": "standard"}

    with pytest.raises(oss2.exceptions.ServerError) as refused:
        bucket.get_object("r", headers={"Range": "bytes=1024-", **standard})
    clamped = bucket.get_object("r", headers={"Range": "bytes=1000-5000", **standard})

    assert (refused.value.status, refused.value.code) == (416, "InvalidRange")
    assert clamped.status == 206
    assert clamped.read() == DATA[1000:]


def test_first_of_several_ranges_is_served(bucket):
    bucket.put_object("r", DATA)

    got = bucket.get_object("r", headers={"Range": "bytes=0-1,5-6"})

    assert got.read() == DATA[:2]


def test_conditional_get_and_head_follow_the_oss_order(bucket):
    etag = bucket.put_object("c", b"content").etag
    past, future = formatdate(time.time() - 3600, usegmt=True), formatdate(time.time() + 60, usegmt=True)

    assert bucket.get_object("c", headers={"If-Match": f'"{etag}"'}).read() == b"content"
    assert bucket.get_object("c", headers={"If-Match": etag}).read() == b"content"
    assert bucket.get_object("c", headers={"If-Modified-Since": past}).read() == b"content"
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.get_object("c", headers={"If-Match": '"0000"'})
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.get_object("c", headers={"If-Unmodified-Since": past})
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.get_object("c", headers={"If-None-Match": f'"{etag}"'})
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.get_object("c", byte_range=(0, 1), headers={"If-Modified-Since": future})
    # A HEAD 304 also carries x-oss-err with an empty Code, so oss2 raises a plain ServerError for it.
    with pytest.raises(oss2.exceptions.ServerError) as not_modified:
        bucket.head_object("c", headers={"If-None-Match": etag})
    assert not_modified.value.status == 304


# -- write checks ---------------------------------------------------------------------------------


def test_content_md5_is_checked_and_a_mismatch_stores_nothing(bucket):
    bucket.put_object("good", b"hello", headers={"Content-MD5": _md5_b64(b"hello")})

    with pytest.raises(oss2.exceptions.InvalidDigest):
        bucket.put_object("bad", b"hello", headers={"Content-MD5": _md5_b64(b"other")})
    with pytest.raises(oss2.exceptions.InvalidDigest):
        bucket.put_object("bad", b"hello", headers={"Content-MD5": "not base64!"})

    assert bucket.get_object("good").read() == b"hello"
    assert not bucket.object_exists("bad")


def test_forbid_overwrite_refuses_an_existing_key(bucket):
    bucket.put_object("once", b"first", headers={"x-oss-forbid-overwrite": "true"})

    with pytest.raises(oss2.exceptions.ServerError) as refused:
        bucket.put_object("once", b"second", headers={"x-oss-forbid-overwrite": "true"})

    assert (refused.value.status, refused.value.code) == (409, "FileAlreadyExists")
    assert bucket.get_object("once").read() == b"first"


@pytest.mark.parametrize(
    "key", ["../../escape", "a//b", "dir/with space.txt", "100% sure", "a+b=c&d", "测试/ünï cödé.bin", "q?x=1#f"]
)
def test_awkward_keys_round_trip_and_stay_inside_the_data_dir(bucket, data_dir, key):
    bucket.put_object(key, b"awkward")

    assert bucket.get_object(key).read() == b"awkward"
    assert [path.name for path in data_dir.parent.iterdir()] == [data_dir.name]
    blob_files = [path for path in data_dir.rglob("*") if path.is_file()]
    assert [path.relative_to(data_dir).parts[0] for path in blob_files] == ["blobs"]
    bucket.delete_object(key)
    assert not bucket.object_exists(key)


def test_key_of_1024_bytes_is_an_invalid_object_name(bucket):
    bucket.put_object("k" * 1023, b"ok")

    with pytest.raises(oss2.exceptions.InvalidObjectName):
        bucket.put_object("k" * 1024, b"too long")


def test_key_starting_with_a_backslash_is_an_invalid_object_name(bucket):
    with pytest.raises(oss2.exceptions.InvalidObjectName):
        bucket.put_object("\\invalid-object-name", b"x")


def test_nul_characters_in_keys_and_headers_are_refused(bucket):
    with pytest.raises(oss2.exceptions.InvalidObjectName):
        bucket.put_object("a\0b", b"x")
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_object("k", b"x", headers={"x-oss-meta-a": "x\0y"})
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.append_object("k", 0, b"x", headers={"x-oss-server-side-encryption-key-id": "a\0b"})

    assert not bucket.object_exists("k")


def test_metadata_over_8_kib_is_refused_and_nothing_is_stored(bucket):
    meta = {f"x-oss-meta-field{index}": "v" * 1000 for index in range(9)}

    with pytest.raises(oss2.exceptions.OssError) as refused:
        bucket.put_object("fat", b"x", headers=meta)

    assert refused.value.status == 400
    assert not bucket.object_exists("fat")


def test_invalid_tagging_header_fails_the_put(bucket):
    with pytest.raises(oss2.exceptions.OssError):
        bucket.put_object("tagged", b"x", headers={"x-oss-tagging": "a=b&a=c"})

    assert not bucket.object_exists("tagged")


def test_body_shorter_than_its_content_length_stores_nothing(bucket):
    url = urlsplit(bucket.sign_url("PUT", "short", 60))
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.putrequest("PUT", f"{url.path}?{url.query}", skip_accept_encoding=True)
    connection.putheader("Content-Length", "100")
    connection.endheaders(b"only fifty bytes".ljust(50, b"."))
    connection.sock.shutdown(socket.SHUT_WR)

    response = connection.getresponse()

    assert response.status == 400
    assert b"IncompleteBody" in response.read()
    connection.close()
    assert not bucket.object_exists("short")


# -- deletes --------------------------------------------------------------------------------------


def test_delete_object_answers_204_also_for_a_missing_key(bucket, data_dir):
    bucket.put_object("gone", b"x")
    blob = _stored(bucket, "gone").blob

    assert bucket.delete_object("gone").status == 204
    assert bucket.delete_object("gone").status == 204
    assert not bucket.object_exists("gone")
    assert not any(path.name == blob for path in data_dir.rglob("*"))


def test_batch_delete_lists_every_requested_key(bucket):
    keys = ["a", "b c", "d+e", "测试/x", "never-existed"]
    for key in keys[:-1]:
        bucket.put_object(key, b"x")

    result = bucket.batch_delete_objects(keys)

    assert result.deleted_keys == keys
    assert [key for key in keys if bucket.object_exists(key)] == []


def _signed_batch_delete(bucket, body: bytes, headers: dict):
    """DeleteMultipleObjects with exactly these headers: batch_delete_objects always adds a correct Content-MD5."""
    url = f"{bucket.endpoint}/{bucket.bucket_name}/"
    request = oss2.http.Request("POST", url, data=body, params={"delete": ""}, headers=headers)
    bucket.auth._sign_request(request, bucket.bucket_name, "")
    return bucket.session.do_request(request, timeout=30)


def test_batch_delete_requires_a_matching_content_md5(bucket):
    bucket.put_object("keep", b"x")
    body = b"<Delete><Quiet>false</Quiet><Object><Key>keep</Key></Object></Delete>"

    missing = _signed_batch_delete(bucket, body, {})
    wrong = _signed_batch_delete(bucket, body, {"Content-MD5": _md5_b64(b"other")})

    assert (missing.status, wrong.status) == (400, 400)
    assert b"InvalidDigest" in wrong.read()
    assert bucket.object_exists("keep")


def test_quiet_batch_delete_reports_nothing(bucket):
    bucket.put_object("quiet", b"x")
    body = b"<Delete><Quiet>true</Quiet><Object><Key>quiet</Key></Object></Delete>"

    response = _signed_batch_delete(bucket, body, {"Content-MD5": _md5_b64(body)})

    assert response.status == 200
    assert b"<Deleted>" not in response.read()
    assert not bucket.object_exists("quiet")


def test_batch_delete_of_more_than_1000_keys_is_malformed(bucket):
    with pytest.raises(oss2.exceptions.MalformedXml):
        bucket.batch_delete_objects([f"k{index}" for index in range(1001)])


# -- tagging and ACL ------------------------------------------------------------------------------


def test_object_tagging_put_get_delete(bucket):
    bucket.put_object("t", b"x", headers={"x-oss-tagging": "env=prod&team=a%20b"})
    assert bucket.get_object_tagging("t").tag_set.tagging_rule == {"env": "prod", "team": "a b"}
    assert bucket.head_object("t").headers["x-oss-tagging-count"] == "2"

    bucket.put_object_tagging("t", _tagging(owner="中文", empty=""))
    assert bucket.get_object_tagging("t").tag_set.tagging_rule == {"owner": "中文", "empty": ""}

    assert bucket.delete_object_tagging("t").status == 204
    assert bucket.get_object_tagging("t").tag_set.tagging_rule == {}


def test_invalid_tags_are_refused(bucket):
    bucket.put_object("t", b"x")

    with pytest.raises(oss2.exceptions.OssError):
        bucket.put_object_tagging("t", _tagging(**{f"k{index}": "v" for index in range(11)}))
    with pytest.raises(oss2.exceptions.OssError):
        bucket.put_object_tagging("t", _tagging(bad="a@b"))
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.put_object_tagging("missing", _tagging(a="b"))


def test_object_acl_defaults_to_default_and_can_be_changed(bucket):
    bucket.put_object("acl", b"x")
    assert bucket.get_object_acl("acl").acl == "default"

    bucket.put_object_acl("acl", oss2.OBJECT_ACL_PUBLIC_READ)

    assert bucket.get_object_acl("acl").acl == "public-read"
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_object_acl("acl", "everyone")


def test_object_acl_opens_one_object_of_a_private_bucket_to_anonymous_reads(bucket, localcloud):
    bucket.put_object("open", b"open")
    bucket.put_object("closed", b"closed")
    bucket.put_object_acl("open", oss2.OBJECT_ACL_PUBLIC_READ)
    anonymous = oss2.Bucket(oss2.AnonymousAuth(), localcloud, bucket.bucket_name)

    assert anonymous.get_object("open").read() == b"open"
    with pytest.raises(oss2.exceptions.AccessDenied):
        anonymous.get_object("closed")
    with pytest.raises(oss2.exceptions.AccessDenied):
        anonymous.put_object("open", b"overwrite")


def test_anonymous_callers_write_and_read_a_public_read_write_bucket(new_bucket, localcloud):
    bucket = new_bucket(permission="public-read-write")
    anonymous = oss2.Bucket(oss2.AnonymousAuth(), localcloud, bucket.bucket_name)

    anonymous.put_object("anon", b"by anyone")

    assert anonymous.get_object("anon").read() == b"by anyone"
    assert anonymous.delete_object("anon").status == 204


# -- signatures -----------------------------------------------------------------------------------


def test_presigned_urls_put_and_get(bucket):
    bucket.put_object_with_url(bucket.sign_url("PUT", "signed/k y", 60), b"via url")

    assert bucket.get_object_with_url(bucket.sign_url("GET", "signed/k y", 60)).read() == b"via url"
    assert bucket.head_object("signed/k y").content_type == "application/octet-stream"


def test_expired_presigned_url_is_refused(bucket):
    bucket.put_object("k", b"x")

    with pytest.raises(oss2.exceptions.AccessDenied) as refused:
        bucket.get_object_with_url(bucket.sign_url("GET", "k", -10))

    assert refused.value.message == "Request has expired."


def test_v4_signed_requests_work_on_objects(auth_v4, bucket, localcloud):
    v4 = oss2.Bucket(auth_v4, localcloud, bucket.bucket_name, region=settings.LOCALCLOUD_REGION)

    v4.put_object("v4/obj ect.txt", b"v4 data", headers={"x-oss-meta-v": "4"})

    assert v4.get_object("v4/obj ect.txt", byte_range=(3, 6)).read() == b"data"
    assert v4.head_object("v4/obj ect.txt").headers["x-oss-meta-v"] == "4"
    v4.delete_object("v4/obj ect.txt")
    assert not v4.object_exists("v4/obj ect.txt")


class PayloadHashAuthV4(oss2.AuthV4):
    """AuthV4 that signs a given x-oss-content-sha256 instead of UNSIGNED-PAYLOAD (oss2 itself never does)."""

    def __init__(self, access_key_id, secret, payload_hash):
        super().__init__(access_key_id, secret)
        self.payload_hash = payload_hash

    def _sign_request(self, req, bucket_name, key, in_additional_headers=None):
        super()._sign_request(req, bucket_name, key, in_additional_headers)
        req.headers["x-oss-content-sha256"] = self.payload_hash
        credentials = self.credentials_provider.get_credentials()
        date = req.headers["x-oss-date"]
        signature = self._ProviderAuthV4__make_signature(req, bucket_name, key, [], credentials, date)
        scope = self._ProviderAuthV4__get_scope(date[:8], req)
        credential = f"{credentials.get_access_key_id()}/{scope}"
        req.headers["authorization"] = f"OSS4-HMAC-SHA256 Credential={credential}, Signature={signature}"


@pytest.mark.parametrize(("signed", "stored"), [(b"the body", True), (b"another body", False)])
def test_v4_signed_payload_hash_must_match_the_body(credentials, bucket, localcloud, signed, stored):
    auth = PayloadHashAuthV4(*credentials, hashlib.sha256(signed).hexdigest())
    v4 = oss2.Bucket(auth, localcloud, bucket.bucket_name, region=settings.LOCALCLOUD_REGION)

    if stored:
        v4.put_object("hashed", b"the body")
    else:
        with pytest.raises(oss2.exceptions.InvalidDigest):
            v4.put_object("hashed", b"the body")

    assert bucket.object_exists("hashed") is stored


# -- append ---------------------------------------------------------------------------------------


def test_append_grows_the_object_and_reports_positions_and_crc(bucket):
    first = bucket.append_object("log", 0, b"one ", headers={"x-oss-meta-origin": "first"})
    second = bucket.append_object("log", first.next_position, b"two", headers={"x-oss-meta-origin": "later"})

    assert (first.next_position, second.next_position) == (4, 7)
    assert second.crc == _crc64(b"one two")
    head = bucket.head_object("log")
    assert head.object_type == "Appendable"
    assert head.headers["x-oss-next-append-position"] == "7"
    assert head.headers["x-oss-meta-origin"] == "first"
    assert bucket.get_object("log").read() == b"one two"


def test_append_at_the_wrong_position_reports_the_length(bucket):
    bucket.append_object("log", 0, b"12345")

    with pytest.raises(oss2.exceptions.PositionNotEqualToLength) as mismatch:
        bucket.append_object("log", 3, b"x")
    with pytest.raises(oss2.exceptions.PositionNotEqualToLength) as on_missing:
        bucket.append_object("new-log", 5, b"x")

    assert mismatch.value.next_position == 5
    assert on_missing.value.next_position == 0
    assert bucket.get_object("log").read() == b"12345"


def test_append_checks_the_crc_oss2_continues(bucket):
    first = bucket.append_object("log", 0, b"abc", init_crc=0)

    second = bucket.append_object("log", first.next_position, b"def", init_crc=first.crc)

    assert second.crc == _crc64(b"abcdef")


def test_append_onto_a_normal_object_is_refused(bucket):
    bucket.put_object("normal", b"x")

    with pytest.raises(oss2.exceptions.ObjectNotAppendable):
        bucket.append_object("normal", 1, b"y")


def test_append_with_a_bad_content_md5_changes_nothing(bucket):
    bucket.append_object("log", 0, b"kept")

    with pytest.raises(oss2.exceptions.InvalidDigest):
        bucket.append_object("log", 4, b"more", headers={"Content-MD5": _md5_b64(b"other")})

    assert bucket.get_object("log").read() == b"kept"


def test_concurrent_first_appends_let_exactly_one_win(bucket):
    def append(index):
        try:
            bucket.append_object("race", 0, f"writer {index}".encode())
            return "won", index
        except oss2.exceptions.PositionNotEqualToLength as mismatch:
            return "lost", mismatch.next_position

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(append, range(6)))

    winners = [index for result, index in outcomes if result == "won"]
    assert len(winners) == 1
    assert bucket.get_object("race").read() == f"writer {winners[0]}".encode()
    assert sorted(outcomes)[:5] == [("lost", len(b"writer 0"))] * 5


def test_reads_during_overwrites_see_one_whole_version(bucket):
    versions = [bytes([index]) * 300_000 for index in range(2)]
    bucket.put_object("busy", versions[0])

    def overwrite():
        for index in range(20):
            bucket.put_object("busy", versions[index % 2], headers={"x-oss-server-side-encryption": "AES256"})

    with ThreadPoolExecutor(max_workers=1) as pool:
        writing = pool.submit(overwrite)
        reads = [bucket.get_object("busy").read() for _ in range(20)]
        writing.result()

    assert all(read in versions for read in reads)


def test_put_replaces_an_appendable_object_with_a_normal_one(bucket):
    bucket.append_object("log", 0, b"appended")

    bucket.put_object("log", b"put")

    assert bucket.head_object("log").object_type == "Normal"
    assert bucket.append_object("other", 0, b"x").next_position == 1
