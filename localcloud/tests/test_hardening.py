"""Attacks on localcloud over HTTP, each reproduced against the running server: header injection through
response overrides and stored headers, presigned URLs extended by replay, anonymous writes that go
around an object's own ACL, and anonymous ACL and tag changes."""

import http.client
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import oss2
import pytest
import requests

INJECTED = "inline\r\nSet-Cookie: stolen=1"


def _with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture
def public_object(new_bucket):
    bucket = new_bucket(permission="public-read")
    bucket.put_object("page.html", b"<p>public</p>", headers={"Content-Type": "text/html"})
    return bucket


# -- header injection -----------------------------------------------------------------------------


def test_an_anonymous_reader_cannot_override_response_headers(public_object, localcloud):
    url = f"{localcloud}/{public_object.bucket_name}/page.html"

    answer = requests.get(url, params={"response-content-type": "application/x-evil", "response-expires": "0"})

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html"
    assert "Expires" not in answer.headers


def test_an_anonymous_reader_cannot_set_a_cookie_through_a_response_override(public_object, localcloud):
    url = f"{localcloud}/{public_object.bucket_name}/page.html"

    answer = requests.get(url, params={"response-content-disposition": INJECTED})

    assert "stolen" not in answer.cookies
    assert "Set-Cookie" not in answer.headers


def test_a_signed_reader_gets_the_overrides_it_asks_for(public_object):
    answer = public_object.get_object("page.html", params={"response-content-disposition": "attachment"})

    assert answer.headers["Content-Disposition"] == "attachment"


def test_a_signed_override_with_a_line_break_is_refused(public_object):
    url = public_object.sign_url("GET", "page.html", 60, params={"response-content-disposition": INJECTED})

    answer = requests.get(url)

    assert answer.status_code == 400
    assert "<Code>InvalidArgument</Code>" in answer.text
    assert "Set-Cookie" not in answer.headers


@pytest.mark.parametrize("value", ["a\x01b", "a\x7fb", "a\x1bb"])
def test_a_stored_header_with_a_control_character_is_refused(bucket, value):
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_object("meta", b"x", headers={"x-oss-meta-note": value})

    assert not bucket.object_exists("meta")


def test_a_control_character_sent_raw_in_a_header_is_refused(bucket, localcloud, credentials):
    """requests and oss2 refuse to send such a header themselves, so it goes over a raw connection."""
    signed = bucket.sign_url("PUT", "raw", 60, headers={"x-oss-meta-note": "a\x0bb"})
    parts = urlsplit(signed)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("PUT", f"{parts.path}?{parts.query}", skip_accept_encoding=True)
    connection.putheader("x-oss-meta-note", "a\x0bb")
    connection.putheader("Content-Length", "1")
    connection.endheaders(b"x")

    assert connection.getresponse().status == 400
    assert not bucket.object_exists("raw")


# -- presigned URLs -------------------------------------------------------------------------------


def test_a_v1_presigned_url_cannot_be_extended_by_replaying_it_with_a_later_expiry(bucket):
    bucket.put_object("secret", b"for a minute")
    x_oss_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    url = bucket.sign_url("GET", "secret", 60, headers={"x-oss-date": x_oss_date})

    replayed = requests.get(_with_query(url, Expires="9999999999"), headers={"x-oss-date": x_oss_date})

    assert replayed.status_code == 403
    assert "for a minute" not in replayed.text


def test_a_v1_presigned_url_signs_its_expiry(bucket):
    bucket.put_object("secret", b"for a minute")
    url = bucket.sign_url("GET", "secret", 60)

    assert requests.get(url).content == b"for a minute"
    assert requests.get(_with_query(url, Expires="9999999999")).status_code == 403


# -- anonymous writes -----------------------------------------------------------------------------


@pytest.fixture
def open_bucket(new_bucket, localcloud):
    """A public-read-write bucket holding `private` (own ACL private), `shared` and `other` (the bucket's ACL)."""
    bucket = new_bucket(permission="public-read-write")
    bucket.put_object("private", b"owner's", headers={"x-oss-object-acl": "private"})
    bucket.put_object("shared", b"anyone's")
    bucket.put_object("other", b"other")
    return bucket


def _anonymous(bucket, localcloud):
    return oss2.Bucket(oss2.AnonymousAuth(), localcloud, bucket.bucket_name)


def _multipart_upload(bucket, key: str, data: bytes):
    upload_id = bucket.init_multipart_upload(key).upload_id
    part = bucket.upload_part(key, upload_id, 1, data)
    return bucket.complete_multipart_upload(key, upload_id, [oss2.models.PartInfo(1, part.etag)])


# Each anonymous write and what it leaves at the key when the ACL lets it through (None: nothing).
WRITES = {
    "put": (lambda anonymous, key: anonymous.put_object(key, b"overwritten"), b"overwritten"),
    "multipart upload": (lambda anonymous, key: _multipart_upload(anonymous, key, b"uploaded"), b"uploaded"),
    "copy onto it": (lambda anonymous, key: anonymous.copy_object(anonymous.bucket_name, "other", key), b"other"),
    "delete": (lambda anonymous, key: anonymous.delete_object(key), None),
}


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_no_anonymous_write_path_goes_around_an_objects_private_acl(open_bucket, localcloud, write):
    with pytest.raises(oss2.exceptions.AccessDenied):
        WRITES[write][0](_anonymous(open_bucket, localcloud), "private")

    assert open_bucket.get_object("private").read() == b"owner's"


def test_an_anonymous_multipart_upload_cannot_even_start_over_a_private_object(open_bucket, localcloud):
    with pytest.raises(oss2.exceptions.AccessDenied):
        _anonymous(open_bucket, localcloud).init_multipart_upload("private")

    assert list(oss2.MultipartUploadIterator(open_bucket)) == []


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_anonymous_writes_still_reach_objects_the_bucket_acl_opens(open_bucket, localcloud, write):
    action, left = WRITES[write]

    action(_anonymous(open_bucket, localcloud), "shared")

    assert (open_bucket.get_object("shared").read() if open_bucket.object_exists("shared") else None) == left


def _tagging(**tags) -> oss2.models.Tagging:
    rule = oss2.models.TaggingRule()
    for key, value in tags.items():
        rule.add(key, value)
    return oss2.models.Tagging(rule)


CONFIGURATION_CHANGES = {
    "object ACL": lambda anonymous, key: anonymous.put_object_acl(key, oss2.OBJECT_ACL_PUBLIC_READ_WRITE),
    "tags": lambda anonymous, key: anonymous.put_object_tagging(key, _tagging(owner="attacker")),
    "tag removal": lambda anonymous, key: anonymous.delete_object_tagging(key),
}


@pytest.mark.parametrize("change", CONFIGURATION_CHANGES, ids=list(CONFIGURATION_CHANGES))
def test_acl_and_tag_changes_need_a_signature_even_in_a_public_read_write_bucket(open_bucket, localcloud, change):
    open_bucket.put_object_tagging("shared", _tagging(owner="team"))

    with pytest.raises(oss2.exceptions.AccessDenied):
        CONFIGURATION_CHANGES[change](_anonymous(open_bucket, localcloud), "shared")

    assert open_bucket.get_object_acl("shared").acl == oss2.OBJECT_ACL_DEFAULT
    assert open_bucket.get_object_tagging("shared").tag_set.tagging_rule == {"owner": "team"}
