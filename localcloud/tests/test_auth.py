"""localcloud.auth against requests signed by the real oss2 and KMS SDK signers (no network).

oss2 requests are captured at `Session.do_request` and prepared with `requests` exactly as
they would go on the wire; KMS requests are captured at `DaraCore.do_action`.
"""

import time
from urllib.parse import parse_qsl, urlsplit

import oss2
import pytest
import requests
from alibabacloud_kms20160120 import models as kms_models
from alibabacloud_kms20160120.client import Client as KmsClient
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.core import DaraCore
from darabonba.response import DaraResponse
from oss2.models import ServerSideEncryptionRule, Tagging, TaggingRule

from localcloud.auth import AuthError, KmsAuthError, SignedRequest, authenticate_kms, authenticate_oss

AK, SK = "LTAI5tLocalTestKey", "s3cr3t-Value/+="
REGION = "cn-hangzhou"
ENDPOINT = "http://127.0.0.1:9900"
BUCKET = "enc-bucket"
NASTY_KEYS = ["plain.txt", "dir/a b.txt", "a+b=c&d", "q?x=1#frag", "100%25 %zz", "测试/ünï cödé.bin", "a//b/"]


def lookup(access_key_id):
    return {AK: SK}.get(access_key_id)


class _Sent(Exception):
    pass


def _wire(method, url, headers, params=None, data=None):
    """What a WSGI server sees: the raw target as sent and header values as latin-1 text."""
    prepared = requests.Session().prepare_request(
        requests.Request(method, url, params=params, headers=headers, data=data)
    )
    return prepared.path_url, dict(prepared.headers)


def to_signed(req, host_bucket=None):
    target, headers = _wire(req.method, req.url, req.headers, req.params, req.data)
    return SignedRequest.from_target(req.method, target, headers, host_bucket=host_bucket)


def make_bucket(auth=None, endpoint=ENDPOINT, **kwargs):
    kwargs.setdefault("region", REGION)
    return oss2.Bucket(auth or oss2.Auth(AK, SK), endpoint, BUCKET, **kwargs)


def capture(call, bucket=None):
    """Run a real oss2 call and return the signed request it would have sent."""
    bucket = bucket or make_bucket()
    sent = []

    def do_request(req, timeout):
        sent.append(req)
        raise _Sent

    bucket.session.do_request = do_request
    with pytest.raises(_Sent):
        call(bucket)
    return sent[0]


def presigned(bucket, method, key, headers=None, **kwargs):
    url = bucket.sign_url(method, key, 60, headers=headers, **kwargs)
    parts = urlsplit(url)
    target, wire_headers = _wire(method, f"{ENDPOINT}{parts.path}?{parts.query}", headers)
    return SignedRequest.from_target(method, target, wire_headers)


def verify(signed, now=None, region=REGION):
    return authenticate_oss(signed, lookup, region, time.time() if now is None else now)


def _tagging(**tags):
    rule = TaggingRule()
    for name, value in tags.items():
        rule.add(name, value)
    return Tagging(rule)


AUTHS = {
    "v1": lambda: oss2.Auth(AK, SK),
    "v2": lambda: oss2.AuthV2(AK, SK),
    "v4": lambda: oss2.AuthV4(AK, SK),
}
SCHEMES = {"v1": "OSS", "v2": "OSS2", "v4": "OSS4-HMAC-SHA256"}

OPERATIONS = {
    "put_object_with_meta_and_sse": lambda b: b.put_object(
        "dir/x y.txt",
        b"hello",
        headers={
            "x-oss-meta-Owner": "ops team",
            "x-oss-server-side-encryption": "KMS",
            "x-oss-server-side-encryption-key-id": "key-1",
            "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==",
        },
    ),
    "get_object_range": lambda b: b.get_object("a/b c", byte_range=(0, 9)),
    "bucket_acl": lambda b: b.get_bucket_acl(),
    "object_acl": lambda b: b.put_object_acl("k", oss2.OBJECT_ACL_PUBLIC_READ),
    "initiate_multipart": lambda b: b.init_multipart_upload("big file.bin"),
    "upload_part": lambda b: b.upload_part("big file.bin", "upload+id/1==", 1, b"part"),
    "complete_multipart": lambda b: b.abort_multipart_upload("k", "x"),
    "bucket_encryption": lambda b: b.put_bucket_encryption(ServerSideEncryptionRule("KMS", "key-1")),
    "delete_bucket_encryption": lambda b: b.delete_bucket_encryption(),
    "object_tagging": lambda b: b.put_object_tagging("t k", _tagging(env="prod")),
    "list_objects_v2": lambda b: b.list_objects_v2(
        prefix="logs/2024 01", delimiter="/", continuation_token="tok/en+= x", max_keys=5
    ),
    "list_objects_v1": lambda b: b.list_objects(prefix="p", marker="m k", max_keys=3),
    "object_meta": lambda b: b.get_object_meta("m"),
    "delete_objects": lambda b: b.batch_delete_objects(["a", "b c"]),
    "append_object": lambda b: b.append_object("log", 0, b"line"),
    "copy_object": lambda b: b.copy_object(BUCKET, "src key", "dst", headers={"x-oss-metadata-directive": "REPLACE"}),
    "version_id_with_plus": lambda b: b.get_object("k", params={"versionId": "x+y z"}),
}


# ---------------------------------------------------------------- OSS: accepted signatures


@pytest.mark.parametrize("version", AUTHS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_header_signatures_from_oss2_are_accepted_for_each_operation(version, operation):
    req = capture(OPERATIONS[operation], make_bucket(AUTHS[version]()))
    identity = verify(to_signed(req))
    assert identity.access_key_id == AK
    assert identity.scheme == SCHEMES[version]
    assert not identity.presigned


@pytest.mark.parametrize("version", AUTHS)
@pytest.mark.parametrize("key", NASTY_KEYS)
def test_awkward_keys_are_canonicalised_like_oss2(version, key):
    req = capture(lambda b: b.put_object(key, b"x"), make_bucket(AUTHS[version]()))
    signed = to_signed(req)
    assert signed.bucket_and_key() == (BUCKET, key.encode("utf-8"))
    assert verify(signed).access_key_id == AK


def test_v4_header_signature_from_oss2_is_accepted():
    req = capture(lambda b: b.get_object("测试 key"), make_bucket(oss2.AuthV4(AK, SK)))
    assert req.headers["authorization"].startswith("OSS4-HMAC-SHA256 Credential=" + AK)
    identity = verify(to_signed(req))
    assert identity.scheme == "OSS4-HMAC-SHA256"
    assert identity.content_sha256 is None  # UNSIGNED-PAYLOAD


@pytest.mark.parametrize("version", AUTHS)
def test_unicode_header_value_is_verified_over_its_utf8_bytes(version):
    req = capture(
        lambda b: b.put_object("u", b"x", headers={"x-oss-meta-unicode": "测试".encode()}),
        make_bucket(AUTHS[version]()),
    )
    assert verify(to_signed(req)).access_key_id == AK


@pytest.mark.parametrize("version", AUTHS)
def test_service_level_request_is_accepted(version):
    service = oss2.Service(AUTHS[version](), ENDPOINT, region=REGION)
    sent = []

    def do_request(req, timeout):
        sent.append(req)
        raise _Sent

    service.session.do_request = do_request
    with pytest.raises(_Sent):
        service.list_buckets(prefix="enc")
    signed = to_signed(sent[0])
    assert signed.bucket_and_key() == ("", b"")
    assert verify(signed).access_key_id == AK


@pytest.mark.parametrize("version", AUTHS)
def test_virtual_hosted_request_uses_the_bucket_from_the_host(version):
    bucket = make_bucket(AUTHS[version](), endpoint="http://oss-cn-hangzhou.aliyuncs.com")
    req = capture(lambda b: b.get_object("dir/k 1"), bucket)
    assert req.url.startswith(f"http://{BUCKET}.oss-cn-hangzhou.aliyuncs.com/")
    assert verify(to_signed(req, host_bucket=BUCKET)).access_key_id == AK


def test_v4_additional_headers_are_signed():
    req = oss2.http.Request(
        "GET",
        f"{ENDPOINT}/{BUCKET}/k",
        headers={"Range": "bytes=0-1", "x-oss-meta-a": "1"},
        region=REGION,
        product="oss",
    )
    oss2.AuthV4(AK, SK)._sign_request(req, BUCKET, "k", in_additional_headers=["range", "host"])
    assert (
        "AdditionalHeaders=host;range" in req.headers["authorization"]
        or "AdditionalHeaders=range;host" in req.headers["authorization"]
    )
    signed = to_signed(req)
    assert verify(signed).access_key_id == AK
    tampered = SignedRequest(signed.method, signed.raw_path, signed.query, {**signed.headers, "range": "bytes=0-9"})
    with pytest.raises(AuthError) as err:
        verify(tampered)
    assert err.value.code == "SignatureDoesNotMatch"


def test_v4_cloudbox_scope_is_accepted_for_its_region():
    bucket = make_bucket(oss2.AuthV4(AK, SK), cloudbox_id="cb-f8z7yvzgwfkl9q0h")
    req = capture(lambda b: b.get_object("k"), bucket)
    assert "/cb-f8z7yvzgwfkl9q0h/oss-cloudbox/aliyun_v4_request" in req.headers["authorization"]
    assert verify(to_signed(req), region="cb-f8z7yvzgwfkl9q0h").access_key_id == AK


def test_sts_token_is_reported_for_the_caller_to_check():
    auth = oss2.StsAuth(AK, SK, "sts-token-1", auth_version="v4")
    req = capture(lambda b: b.get_object("k"), make_bucket(auth))
    assert verify(to_signed(req)).security_token == "sts-token-1"


def test_anonymous_request_returns_none():
    req = capture(lambda b: b.get_object("public.txt"), make_bucket(oss2.AnonymousAuth()))
    assert verify(to_signed(req)) is None


# ---------------------------------------------------------------- OSS: presigned URLs


@pytest.mark.parametrize("version", AUTHS)
@pytest.mark.parametrize("key", NASTY_KEYS)
def test_presigned_get_from_oss2_is_accepted(version, key):
    signed = presigned(make_bucket(AUTHS[version]()), "GET", key, params={"response-content-type": "text/plain"})
    identity = verify(signed)
    assert identity.presigned and identity.scheme == SCHEMES[version]


@pytest.mark.parametrize("version", AUTHS)
def test_presigned_url_with_slash_safe_path_is_accepted(version):
    signed = presigned(make_bucket(AUTHS[version]()), "GET", "a/b/c d", slash_safe=True)
    assert "/a/b/c%20d" in signed.raw_path
    assert verify(signed).presigned


@pytest.mark.parametrize("version", AUTHS)
def test_presigned_put_with_other_content_type_is_rejected(version):
    bucket = make_bucket(AUTHS[version]())
    url = bucket.sign_url("PUT", "up.txt", 60, headers={"Content-Type": "text/plain"})
    parts = urlsplit(url)
    ok = SignedRequest.from_target("PUT", f"{parts.path}?{parts.query}", {"Content-Type": "text/plain"})
    assert verify(ok).access_key_id == AK
    bad = SignedRequest.from_target("PUT", f"{parts.path}?{parts.query}", {"Content-Type": "image/png"})
    with pytest.raises(AuthError) as err:
        verify(bad)
    assert (err.value.status, err.value.code) == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("version", AUTHS)
def test_expired_presigned_url_is_access_denied(version):
    signed = presigned(make_bucket(AUTHS[version]()), "GET", "k")
    with pytest.raises(AuthError) as err:
        verify(signed, now=time.time() + 3600)
    assert (err.value.status, err.value.code, err.value.message) == (403, "AccessDenied", "Request has expired.")


def test_presigned_v4_additional_headers_are_signed():
    bucket = make_bucket(oss2.AuthV4(AK, SK))
    headers = {"x-oss-meta-a": "1", "Cache-Control": "no-cache"}
    signed = presigned(bucket, "PUT", "k", headers=headers, additional_headers=["cache-control"])
    assert dict(signed.query)["x-oss-additional-headers"] == "cache-control"
    assert verify(signed).access_key_id == AK
    tampered = SignedRequest(signed.method, signed.raw_path, signed.query, {**signed.headers, "cache-control": "x"})
    with pytest.raises(AuthError):
        verify(tampered)


def test_presigned_v1_sts_token_is_signed_as_sub_resource():
    signed = presigned(make_bucket(oss2.StsAuth(AK, SK, "tok+en/1")), "GET", "k")
    assert verify(signed).security_token == "tok+en/1"


# ---------------------------------------------------------------- OSS: rejected requests


@pytest.mark.parametrize("version", AUTHS)
def test_wrong_secret_gives_signature_does_not_match_with_string_to_sign(version):
    req = capture(
        lambda b: b.get_object("k", params={"acl": ""}),
        make_bucket({"v1": oss2.Auth, "v2": oss2.AuthV2, "v4": oss2.AuthV4}[version](AK, "wrong")),
    )
    with pytest.raises(AuthError) as err:
        verify(to_signed(req))
    e = err.value
    assert (e.status, e.code) == (403, "SignatureDoesNotMatch")
    assert e.details["OSSAccessKeyId"] == AK
    assert "GET\n" in (e.details.get("CanonicalRequest") or e.string_to_sign)
    for value in [e.message, *e.details.values()]:
        assert SK not in value and "wrong" not in value


def test_v1_string_to_sign_matches_oss2():
    req = capture(lambda b: b.put_object_acl("dir/k", "private"), make_bucket(oss2.Auth(AK, "wrong")))
    with pytest.raises(AuthError) as err:
        verify(to_signed(req))
    assert err.value.string_to_sign == (
        f"PUT\n\n\n{req.headers['date']}\nx-oss-object-acl:private\n/{BUCKET}/dir/k?acl"
    )


@pytest.mark.parametrize("version", AUTHS)
def test_unknown_access_key_gives_invalid_access_key_id(version):
    auth = {"v1": oss2.Auth, "v2": oss2.AuthV2, "v4": oss2.AuthV4}[version]("LTAIunknown", SK)
    req = capture(lambda b: b.get_object("k"), make_bucket(auth))
    with pytest.raises(AuthError) as err:
        verify(to_signed(req))
    assert (err.value.status, err.value.code) == (403, "InvalidAccessKeyId")


@pytest.mark.parametrize("version", AUTHS)
@pytest.mark.parametrize("change", ["header", "key", "sub_resource", "method"])
def test_tampering_after_signing_gives_signature_mismatch(version, change):
    def op(b):
        return b.init_multipart_upload("k", headers={"x-oss-meta-a": "1"})

    s = to_signed(capture(op, make_bucket(AUTHS[version]())))
    assert verify(s).access_key_id == AK
    tampered = {
        "header": lambda: SignedRequest(s.method, s.raw_path, s.query, {**s.headers, "x-oss-meta-a": "2"}),
        "key": lambda: SignedRequest(s.method, s.raw_path + "2", s.query, s.headers),
        "sub_resource": lambda: SignedRequest(s.method, s.raw_path, [("acl", "")], s.headers),
        "method": lambda: SignedRequest("PUT", s.raw_path, s.query, s.headers),
    }[change]()
    with pytest.raises(AuthError) as err:
        verify(tampered)
    assert err.value.code == "SignatureDoesNotMatch"


def test_v1_ignores_unsigned_parameters_but_v4_signs_them():
    v1 = to_signed(capture(lambda b: b.list_objects(prefix="p"), make_bucket(oss2.Auth(AK, SK))))
    v4 = to_signed(capture(lambda b: b.list_objects(prefix="p"), make_bucket(oss2.AuthV4(AK, SK))))
    for signed, accepted in ((v1, True), (v4, False)):
        changed = SignedRequest(
            signed.method,
            signed.raw_path,
            [(k, "other" if k == "prefix" else v) for k, v in signed.query],
            signed.headers,
        )
        if accepted:
            assert verify(changed).access_key_id == AK
        else:
            with pytest.raises(AuthError):
                verify(changed)


@pytest.mark.parametrize("version", AUTHS)
@pytest.mark.parametrize("direction", [-1, 1])
def test_clock_skew_over_15_minutes_is_rejected(version, direction):
    signed = to_signed(capture(lambda b: b.get_object("k"), make_bucket(AUTHS[version]())))
    assert verify(signed, now=time.time() + direction * 14 * 60)
    with pytest.raises(AuthError) as err:
        verify(signed, now=time.time() + direction * 16 * 60)
    assert (err.value.status, err.value.code) == (403, "RequestTimeTooSkewed")
    assert err.value.message == "The difference between the request time and the current time is too large."


def test_v4_signing_region_must_be_ours():
    signed = to_signed(capture(lambda b: b.get_object("k"), make_bucket(oss2.AuthV4(AK, SK), region="cn-beijing")))
    with pytest.raises(AuthError) as err:
        verify(signed)
    assert (err.value.status, err.value.code) == (400, "InvalidArgument")
    assert err.value.message == "Invalid signing region in Authorization header."


def test_v4_scope_date_must_match_x_oss_date():
    signed = to_signed(capture(lambda b: b.get_object("k"), make_bucket(oss2.AuthV4(AK, SK))))
    auth = signed.headers["authorization"]
    day = auth.split("Credential=")[1].split("/")[1]
    headers = {**signed.headers, "authorization": auth.replace(f"/{day}/", "/20000101/")}
    with pytest.raises(AuthError) as err:
        verify(SignedRequest(signed.method, signed.raw_path, signed.query, headers))
    assert err.value.message == "Invalid credential in Authorization header."


def test_v4_claimed_payload_hash_is_signed_and_reported():
    signed = to_signed(capture(lambda b: b.get_object("k"), make_bucket(oss2.AuthV4(AK, SK))))
    headers = {**signed.headers, "x-oss-content-sha256": "ab" * 32}
    with pytest.raises(AuthError):
        verify(SignedRequest(signed.method, signed.raw_path, signed.query, headers))


@pytest.mark.parametrize(
    "authorization",
    [
        "OSS no-colon",
        "OSS :sig",
        "Bearer abc",
        "AWS4-HMAC-SHA256 Credential=x",
        "OSS4-HMAC-SHA256 Signature=ab",
        "OSS2 AccessKeyId:x",
        "",
    ],
)
def test_malformed_authorization_is_invalid_argument(authorization):
    signed = SignedRequest.from_target(
        "GET", f"/{BUCKET}/k", {"Authorization": authorization, "Date": oss2.utils.http_date()}
    )
    with pytest.raises(AuthError) as err:
        verify(signed)
    assert (err.value.status, err.value.code) == (400, "InvalidArgument")


def test_v1_header_without_date_is_access_denied():
    signed = to_signed(capture(lambda b: b.get_object("k"), make_bucket(oss2.Auth(AK, SK))))
    headers = {k: v for k, v in signed.headers.items() if k != "date"}
    with pytest.raises(AuthError) as err:
        verify(SignedRequest(signed.method, signed.raw_path, signed.query, headers))
    assert (err.value.status, err.value.code) == (403, "AccessDenied")


@pytest.mark.parametrize(
    "query",
    [
        "OSSAccessKeyId=x",
        "Signature=abc&Expires=soon&OSSAccessKeyId=x",
        "x-oss-signature-version=OSS9",
        "x-oss-signature=abc",
    ],
)
def test_incomplete_presigned_query_is_invalid_argument(query):
    with pytest.raises(AuthError) as err:
        verify(SignedRequest.from_target("GET", f"/{BUCKET}/k?{query}", {}))
    assert err.value.code == "InvalidArgument"


# ---------------------------------------------------------------- KMS


@pytest.fixture
def kms_sent(monkeypatch):
    """Capture what the KMS SDK would put on the wire, and answer with an empty success."""
    sent = []

    def do_action(request, runtime_option=None):
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=request.method.upper(), url=DaraCore.compose_url(request), data=body, headers=request.headers
        )
        sent.append(prepared)
        response = DaraResponse()
        response.status_code, response.headers = 200, {"content-type": "application/json"}
        response.body = b'{"RequestId": "r"}'
        return response

    monkeypatch.setattr(DaraCore, "do_action", staticmethod(do_action))
    return sent


def kms_client(secret=SK, access_key_id=AK, **config):
    return KmsClient(
        Config(
            access_key_id=access_key_id,
            access_key_secret=secret,
            endpoint="127.0.0.1:9900",
            protocol="http",
            region_id=REGION,
            **config,
        )
    )


def kms_wire(prepared):
    """The request as a server sees it: decoded query pairs, headers, raw body bytes."""
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    return (
        prepared.method,
        url.path,
        parse_qsl(url.query, keep_blank_values=True),
        dict(prepared.headers),
        body.encode("utf-8") if isinstance(body, str) else body,
    )


def kms_verify(wire, now=None):
    method, path, query, headers, body = wire
    return authenticate_kms(method, path, query, headers, body, lookup, time.time() if now is None else now)


KMS_CONFIGS = {"acs3": {}, "acs4": {"signature_version": "v4"}, "rpc_hmac_sha1": {"signature_algorithm": "v2"}}
KMS_SCHEMES = {"acs3": "ACS3-HMAC-SHA256", "acs4": "ACS4-HMAC-SHA256", "rpc_hmac_sha1": "HMAC-SHA1"}
KMS_CALLS = {  # by action; PutSecretValue is the one that sends a form body
    "DescribeKey": lambda c: c.describe_key(kms_models.DescribeKeyRequest(key_id="alias/acs oss+x")),
    "CreateKey": lambda c: c.create_key(
        kms_models.CreateKeyRequest(description="测试 key", key_usage="ENCRYPT/DECRYPT")
    ),
    "Encrypt": lambda c: c.encrypt(
        kms_models.EncryptRequest(key_id="k", plaintext="aGk=", encryption_context={"a": "b c"})
    ),
    "PutSecretValue": lambda c: c.put_secret_value(
        kms_models.PutSecretValueRequest(secret_name="s", version_id="v1", secret_data="héllo &x=y")
    ),
}


@pytest.mark.parametrize("config", KMS_CONFIGS)
@pytest.mark.parametrize("call", KMS_CALLS)
def test_kms_sdk_signatures_are_accepted(kms_sent, config, call):
    KMS_CALLS[call](kms_client(**KMS_CONFIGS[config]))
    identity = kms_verify(kms_wire(kms_sent[-1]))
    assert identity.access_key_id == AK
    assert identity.scheme == KMS_SCHEMES[config]
    assert identity.nonce
    assert identity.action == call


def test_kms_default_is_acs3_with_all_sdk_headers_signed(kms_sent):
    KMS_CALLS["DescribeKey"](kms_client())
    method, path, query, headers, body = kms_wire(kms_sent[-1])
    assert (method, path, query, body) == ("POST", "/", [("KeyId", "alias/acs oss+x")], b"")
    assert headers["x-acs-action"] == "DescribeKey" and headers["x-acs-version"] == "2016-01-20"
    assert headers["Authorization"].startswith(f"ACS3-HMAC-SHA256 Credential={AK},SignedHeaders=accept;host;")
    assert kms_verify(kms_wire(kms_sent[-1])).nonce == headers["x-acs-signature-nonce"]


@pytest.mark.parametrize("config", KMS_CONFIGS)
def test_kms_wrong_secret_gives_signature_does_not_match_without_secret(kms_sent, config):
    KMS_CALLS["DescribeKey"](kms_client(secret="wrong-secret", **KMS_CONFIGS[config]))
    with pytest.raises(KmsAuthError) as err:
        kms_verify(kms_wire(kms_sent[-1]))
    e = err.value
    assert (e.status, e.code) == (400, "SignatureDoesNotMatch")
    assert e.string_to_sign
    assert all(s not in text for s in (SK, "wrong-secret") for text in (e.message, e.string_to_sign))


@pytest.mark.parametrize("config", KMS_CONFIGS)
def test_kms_unknown_access_key_is_not_found(kms_sent, config):
    KMS_CALLS["DescribeKey"](kms_client(access_key_id="LTAIunknown", **KMS_CONFIGS[config]))
    with pytest.raises(KmsAuthError) as err:
        kms_verify(kms_wire(kms_sent[-1]))
    assert (err.value.status, err.value.code) == (404, "InvalidAccessKeyId.NotFound")


@pytest.mark.parametrize("config", KMS_CONFIGS)
@pytest.mark.parametrize("part", ["query", "body", "action"])
def test_kms_tampering_gives_signature_mismatch(kms_sent, config, part):
    KMS_CALLS["PutSecretValue"](kms_client(**KMS_CONFIGS[config]))
    method, path, query, headers, body = kms_wire(kms_sent[-1])
    if part == "query":
        query = [(k, "other" if k == "SecretName" else v) for k, v in query]
    elif part == "body":
        body = body.replace(b"llo", b"LLO")
    else:
        headers["x-acs-action"] = "DeleteSecret"
        query = [(k, "DeleteSecret" if k == "Action" else v) for k, v in query]
    with pytest.raises(KmsAuthError) as err:
        kms_verify((method, path, query, headers, body))
    assert err.value.code == "SignatureDoesNotMatch"


def test_kms_rpc_action_comes_from_the_signed_query_not_the_header(kms_sent):
    KMS_CALLS["DescribeKey"](kms_client(signature_algorithm="v2"))
    method, path, query, headers, body = kms_wire(kms_sent[-1])
    headers["x-acs-action"] = "ScheduleKeyDeletion"  # unsigned in this scheme
    assert kms_verify((method, path, query, headers, body)).action == "DescribeKey"


def test_kms_unsigned_common_header_is_incomplete_signature(kms_sent):
    KMS_CALLS["DescribeKey"](kms_client())
    method, path, query, headers, body = kms_wire(kms_sent[-1])
    headers["Authorization"] = headers["Authorization"].replace("x-acs-action;", "")
    with pytest.raises(KmsAuthError) as err:
        kms_verify((method, path, query, headers, body))
    assert (err.value.status, err.value.code) == (400, "IncompleteSignature")


@pytest.mark.parametrize("authorization", ["ACS3-HMAC-SHA256 Credential=x", "HMAC foo", "ACS3-HMAC-SHA256"])
def test_kms_malformed_authorization_is_incomplete_signature(authorization):
    with pytest.raises(KmsAuthError) as err:
        authenticate_kms("POST", "/", [], {"Authorization": authorization}, b"", lookup, time.time())
    assert err.value.code == "IncompleteSignature"


def test_kms_request_without_signature_is_missing_authorization():
    with pytest.raises(KmsAuthError) as err:
        authenticate_kms("POST", "/", [("KeyId", "k")], {"x-acs-action": "DescribeKey"}, b"", lookup, time.time())
    assert (err.value.status, err.value.code) == (400, "MissingAuthorization")


@pytest.mark.parametrize("config", KMS_CONFIGS)
def test_kms_clock_skew_over_15_minutes_is_rejected(kms_sent, config):
    KMS_CALLS["DescribeKey"](kms_client(**KMS_CONFIGS[config]))
    wire = kms_wire(kms_sent[-1])
    assert kms_verify(wire, now=time.time() + 14 * 60)
    with pytest.raises(KmsAuthError) as err:
        kms_verify(wire, now=time.time() + 16 * 60)
    assert (err.value.status, err.value.code) == (400, "InvalidTimeStamp.Expired")
