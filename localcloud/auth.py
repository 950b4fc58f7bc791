"""Request signature verification for localcloud's OSS and KMS endpoints.

Pure Python on purpose: the OSS and KMS views adapt their framework request into the small
types below, so the canonicalisation can be tested against the real SDK signers without
Django. Recipes: shared/docs/oss-api.md §2 (OSS, as oss2 2.19.1 signs) and the
alibabacloud_tea_openapi 0.4.x signers used by alibabacloud-kms20160120 3.3.1 (KMS).
Errors never carry a secret or the expected signature, only what the server signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, quote, unquote, unquote_to_bytes

SecretLookup = Callable[[str], "str | None"]

MAX_SKEW_SECONDS = 15 * 60
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
OSS4 = "OSS4-HMAC-SHA256"

# V1 signs only these query parameters. It must be exactly oss2's set (plus the v2 SDK's
# `cloudboxes`): a missing name breaks requests that sign it, an extra one breaks requests
# that send it unsigned (oss-api.md §2.2).
# fmt: off
OSS_SUBRESOURCES = frozenset((
    "accessPoint", "accessPointPolicy", "acl", "append", "asyncFetch", "bucketArchiveDirectRead", "bucketInfo",
    "callback", "callback-var", "cloudboxes", "cname", "comp", "continuation-token", "cors", "delete", "encryption",
    "endTime", "group", "httpsConfig", "inventory", "inventoryId", "lifecycle", "link", "live", "location", "logging",
    "metaQuery", "objectInfo", "objectMeta", "partNumber", "policy", "position", "publicAccessBlock", "qos", "qosInfo",
    "qosRequester", "redundancyTransition", "referer", "regionList", "replication", "replicationLocation",
    "replicationProgress", "requestPayment", "requesterQosInfo", "resourceGroup", "resourcePool",
    "resourcePoolBuckets", "resourcePoolInfo", "response-cache-control", "response-content-disposition",
    "response-content-encoding", "response-content-language", "response-content-type", "response-expires", "restore",
    "security-token", "sequential", "startTime", "stat", "status", "style", "styleName", "symlink", "tagging",
    "transferAcceleration", "uploadId", "uploads", "versionId", "versioning", "versions", "vod", "website", "worm",
    "wormExtend", "wormId", "x-oss-ac-forward-allow", "x-oss-ac-source-ip", "x-oss-ac-subnet-mask", "x-oss-ac-vpc-id",
    "x-oss-access-point-name", "x-oss-async-process", "x-oss-process", "x-oss-redundancy-transition-taskid",
    "x-oss-request-payer", "x-oss-target-redundancy-type", "x-oss-traffic-limit", "x-oss-write-get-object-response",
))
# fmt: on


class AuthError(Exception):
    """An OSS authentication failure; `details` become extra elements of the error XML
    (StringToSign, OSSAccessKeyId, CanonicalRequest), never a secret or expected signature."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, str] | None = None):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details or {}

    @property
    def string_to_sign(self) -> str | None:
        return self.details.get("StringToSign")


class KmsAuthError(AuthError):
    """A KMS (POP) authentication failure with the POP error code; rendered as JSON by the caller."""


@dataclass(frozen=True)
class Identity:
    """Who signed a request. The caller must still honour `security_token` (STS) and, when
    set, check the body against `content_sha256` (OSS V4 with a signed payload hash) and
    reject a reused `nonce` (KMS replay protection). KMS views must dispatch on `action`,
    the signed action: the RPC HMAC-SHA1 scheme leaves the x-acs-action header unsigned."""

    access_key_id: str
    scheme: str
    presigned: bool = False
    security_token: str | None = None
    content_sha256: str | None = None
    nonce: str | None = None
    action: str | None = None


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive headers. Values are the latin-1 view of the wire bytes,
    which is what WSGI and ASGI servers hand over; bytes values are accepted as well.
    Repeated headers are joined with ',' as a WSGI server would."""

    def __init__(self, items: Mapping | Iterable = ()):
        self._items: dict[str, str] = {}
        for name, value in items.items() if isinstance(items, Mapping) else items:
            if value is None:
                continue
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            key = name.lower()
            self._items[key] = f"{self._items[key]},{value}" if key in self._items else value

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class SignedRequest:
    """An incoming OSS request. `raw_path` is undecoded, as sent (`/b/a%2Fb%20c`); `query`
    holds form-decoded (name, value-or-None) pairs; `host_bucket` is set for virtual-hosted
    requests, where the whole path is the key."""

    method: str
    raw_path: str
    query: tuple = ()
    headers: Headers = field(default_factory=Headers)
    host_bucket: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "query", tuple((k, v) for k, v in self.query))
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))

    @classmethod
    def from_target(cls, method: str, target: str, headers, host_bucket: str | None = None):
        """Build from the request target (`/b/k?acl`), parsed the way oss-api.md §1.2 asks."""
        path, _, qs = target.partition("?")
        return cls(method.upper(), path or "/", parse_qsl(qs, keep_blank_values=True), headers, host_bucket)

    @property
    def params(self) -> dict[str, str]:
        # Later duplicates win and a bare `acl` equals `acl=`: both match how oss2 signs a dict.
        return {k: v or "" for k, v in self.query}

    def bucket_and_key(self) -> tuple[str, bytes]:
        """The bucket and the key as raw bytes; the key may hold '/' sent as '%2F' or not."""
        path = _wire(self.raw_path)
        if self.host_bucket is not None:
            return self.host_bucket, unquote_to_bytes(path[1:])
        bucket, _, key = path[1:].partition(b"/")
        return unquote(bucket.decode("latin-1")), unquote_to_bytes(key)


# ---------------------------------------------------------------- shared helpers


def _wire(value: str) -> bytes:
    """Back to the bytes on the wire: servers decode them as latin-1, and the SDKs sign the
    UTF-8 bytes of non-ASCII values (oss-api.md §1.7). Fall back for already-decoded text."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _pct(data: bytes | str, keep_slash: bool = False) -> str:
    # RFC 3986 unreserved characters stay, everything else becomes %XX (upper case).
    return quote(data, safe="/" if keep_slash else "")


def _b64_hmac(key: bytes, data: bytes, digest) -> str:
    return base64.b64encode(hmac.new(key, data, digest).digest()).decode("ascii")


def _epoch(now) -> float:
    return now.timestamp() if isinstance(now, datetime) else float(now)


def _utc(text: str, fmt: str) -> float | None:
    try:
        return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
    except (TypeError, ValueError):
        return None


def _split_fields(text: str, sep: str) -> dict[str, str]:
    """`A=1, B=2` style lists: order-free, spaces after commas optional (oss-api.md §2.4)."""
    out = {}
    for part in text.split(","):
        name, found, value = part.strip().partition(sep)
        if found:
            out[name.strip()] = value.strip()
    return out


# ---------------------------------------------------------------- OSS


def _invalid(message: str = "Authorization header is invalid.") -> AuthError:
    return AuthError(400, "InvalidArgument", message)


def _oss_secret(lookup_secret: SecretLookup, ak: str) -> str:
    secret = lookup_secret(ak) if ak else None
    if secret is None:
        message = "The OSS Access Key Id you provided does not exist in our records."
        raise AuthError(403, "InvalidAccessKeyId", message, {"OSSAccessKeyId": ak})
    return secret


def _oss_check(expected: str, provided: str, ak: str, string_to_sign: bytes, extra=None) -> None:
    if not hmac.compare_digest(expected.encode(), provided.encode()):  # constant time
        details = {"StringToSign": string_to_sign.decode("utf-8", "replace"), "OSSAccessKeyId": ak, **(extra or {})}
        message = "The request signature we calculated does not match the signature you provided."
        raise AuthError(403, "SignatureDoesNotMatch", message, details)


def _check_skew(request_time: float | None, now: float) -> None:
    if request_time is None:
        raise AuthError(403, "AccessDenied", "OSS authentication requires a valid Date.")
    if abs(request_time - now) > MAX_SKEW_SECONDS:
        message = "The difference between the request time and the current time is too large."
        raise AuthError(403, "RequestTimeTooSkewed", message)


def _http_date(text: str | None) -> float | None:
    try:
        parsed = parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError):
        return _utc(text, "%Y%m%dT%H%M%SZ")
    return parsed and (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _header_list(text: str) -> list[str]:
    return [n.strip().lower() for n in text.split(";") if n.strip()]


def _canon_headers(headers: Headers, also: Iterable[str]) -> bytes:
    """Every x-oss-* header plus the names in `also`: lower-cased, sorted, values exactly as received."""
    also = set(also)
    return b"".join(
        k.encode() + b":" + _wire(headers[k]) + b"\n" for k in sorted(headers) if k.startswith("x-oss-") or k in also
    )


def _encoded_query(req: SignedRequest, skip: str | None) -> str:
    """V2/V4: every parameter decoded, then re-encoded and sorted, so `+`, `%20` and a
    literal `/` from different SDKs all end up in the same canonical form."""
    pairs = sorted((_pct(k.encode()), _pct(v.encode())) for k, v in req.params.items() if k != skip)
    return "&".join(f"{k}={v}" if v else k for k, v in pairs)


def _path(req: SignedRequest) -> bytes:
    bucket, key = req.bucket_and_key()
    return b"/" + bucket.encode() + b"/" + key if bucket else b"/"


def _hmac_string_to_sign(req: SignedRequest, date: str, v2: bool, additional: list[str], skip: str | None) -> bytes:
    """V1 and V2 share VERB, Content-MD5, Content-Type, date and the x-oss-* headers. V1 then
    signs the raw /bucket/key and only the sub-resources; V2 adds its extra header names,
    encodes the whole path ('/' included) and signs every query parameter."""
    h = req.headers
    head = [req.method.encode(), _wire(h.get("content-md5", "")), _wire(h.get("content-type", "")), _wire(date)]
    head = b"\n".join(head) + b"\n"
    if not v2:
        subs = sorted((k, v) for k, v in req.params.items() if k in OSS_SUBRESOURCES)
        query = "&".join(f"{k}={v}" if v else k for k, v in subs).encode("utf-8")
        return head + _canon_headers(h, ()) + _path(req) + (b"?" + query if query else b"")
    query = _encoded_query(req, skip)
    resource = _pct(_path(req)) + ("?" + query if query else "")
    headers = _canon_headers(h, additional)
    return head + headers + ";".join(sorted(additional)).encode() + b"\n" + resource.encode()


def _verify_hmac(req, v2: bool, ak: str, signature: str, date: str, additional, lookup_secret, skip=None) -> None:
    secret = _oss_secret(lookup_secret, ak)
    sts = _hmac_string_to_sign(req, date, v2, additional, skip)
    _oss_check(_b64_hmac(secret.encode(), sts, hashlib.sha256 if v2 else hashlib.sha1), signature, ak, sts)


def _hmac_header(req: SignedRequest, rest: str, lookup_secret, now: float, v2: bool) -> Identity:
    """`OSS ak:sig` (V1, date from x-oss-date or Date) or `OSS2 AccessKeyId:..,Signature:..` (V2, Date only)."""
    if v2:
        fields = _split_fields(rest, ":")
        ak, signature, additional = fields.get("AccessKeyId"), fields.get("Signature"), fields.get("AdditionalHeaders")
    else:
        (ak, _, signature), additional = rest.partition(":"), None
    if not ak or not signature:
        raise _invalid()
    date = req.headers.get("date", "") if v2 else req.headers.get("x-oss-date") or req.headers.get("date", "")
    _check_skew(_http_date(date), now)
    _verify_hmac(req, v2, ak, signature, date, _header_list(additional or ""), lookup_secret)
    return Identity(ak, "OSS2" if v2 else "OSS", security_token=req.headers.get("x-oss-security-token"))


_PRESIGNED_NAMES = {
    False: ("OSSAccessKeyId", "Expires", "Signature"),
    True: ("x-oss-access-key-id", "x-oss-expires", "x-oss-signature"),
}


def _hmac_query(req: SignedRequest, v2: bool, lookup_secret, now: float) -> Identity:
    """V1/V2 presigned URLs: `Expires` is absolute and is signed in the Date slot."""
    p = req.params
    names = _PRESIGNED_NAMES[v2]
    ak, expires, signature = (p.get(name, "") for name in names)
    if not (ak and expires.isdigit() and signature):
        raise _invalid(f"Presigned URL needs {', '.join(names)}.")
    if now > int(expires):
        raise AuthError(403, "AccessDenied", "Request has expired.")
    # Expires is signed in the Date slot, as OSS does: were an x-oss-date header to take the slot (oss2's V1
    # signer lets it), Expires would be outside the signature and a replay could extend the URL at will.
    date = expires
    additional = _header_list(p.get("x-oss-additional-headers", "")) if v2 else []
    _verify_hmac(req, v2, ak, signature, date, additional, lookup_secret, skip="x-oss-signature")
    return Identity(ak, "OSS2" if v2 else "OSS", presigned=True, security_token=p.get("security-token"))


def _v4_scope(credential: str, date_time: str, region: str | None) -> list[str]:
    """Split `ak/yyyymmdd/region/product/aliyun_v4_request` and check it against the request."""
    parts = credential.split("/")
    if len(parts) != 5 or not parts[0] or parts[1] != date_time[:8] or parts[3] not in ("oss", "oss-cloudbox"):
        raise _invalid("Invalid credential in Authorization header.")
    if parts[4] != "aliyun_v4_request":
        raise _invalid("Invalid credential in Authorization header.")
    if region is not None and parts[2] != region:
        raise _invalid("Invalid signing region in Authorization header.")
    return parts


def _v4_verify(req: SignedRequest, scope: list[str], date_time: str, additional, signature, skip, lookup_secret):
    secret = _oss_secret(lookup_secret, scope[0])
    payload = req.headers.get("x-oss-content-sha256", UNSIGNED_PAYLOAD)
    lines = [req.method, _pct(_path(req), keep_slash=True), _encoded_query(req, skip)]
    canonical = b"\n".join(
        [*(x.encode() for x in lines), _canon_headers(req.headers, ["content-type", "content-md5", *additional])]
    )
    canonical += b"\n" + ";".join(sorted(additional)).encode() + b"\n" + _wire(payload)
    scope_text = "/".join(scope[1:])
    sts = f"{OSS4}\n{date_time}\n{scope_text}\n{hashlib.sha256(canonical).hexdigest()}"
    key = ("aliyun_v4" + secret).encode()
    for part in scope[1:]:  # yyyymmdd, region, product, aliyun_v4_request
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    _oss_check(expected, signature, scope[0], sts.encode(), {"CanonicalRequest": canonical.decode("utf-8", "replace")})


def _v4_header(req: SignedRequest, rest: str, lookup_secret, region, now: float) -> Identity:
    fields = _split_fields(rest, "=")
    credential, signature = fields.get("Credential", ""), fields.get("Signature", "")
    if not credential or not signature:
        raise _invalid()
    date_time, h = req.headers.get("x-oss-date", ""), req.headers
    _check_skew(_utc(date_time, "%Y%m%dT%H%M%SZ"), now)
    scope = _v4_scope(credential, date_time, region)
    _v4_verify(req, scope, date_time, _header_list(fields.get("AdditionalHeaders", "")), signature, None, lookup_secret)
    payload = h.get("x-oss-content-sha256", UNSIGNED_PAYLOAD)
    payload = None if payload == UNSIGNED_PAYLOAD else payload
    return Identity(scope[0], OSS4, security_token=h.get("x-oss-security-token"), content_sha256=payload)


def _v4_query(req: SignedRequest, lookup_secret, region, now: float) -> Identity:
    p = req.params
    date_time, expires = p.get("x-oss-date", ""), p.get("x-oss-expires", "")
    credential, signature = p.get("x-oss-credential", ""), p.get("x-oss-signature", "")
    signed_at = _utc(date_time, "%Y%m%dT%H%M%SZ")
    if signed_at is None or not expires.isdigit() or not credential or not signature:
        raise _invalid("Presigned URL needs x-oss-date, x-oss-expires, x-oss-credential and x-oss-signature.")
    if now > signed_at + int(expires):  # x-oss-expires is relative to x-oss-date
        raise AuthError(403, "AccessDenied", "Request has expired.")
    scope = _v4_scope(credential, date_time, region)
    additional = _header_list(p.get("x-oss-additional-headers", ""))
    _v4_verify(req, scope, date_time, additional, signature, "x-oss-signature", lookup_secret)
    return Identity(scope[0], OSS4, presigned=True, security_token=p.get("x-oss-security-token"))


def authenticate_oss(request: SignedRequest, lookup_secret: SecretLookup, region: str | None, now) -> Identity | None:
    """Verify an OSS request signed with V1, V2 or V4 (header or presigned URL).

    Returns None for an anonymous request, the signer's Identity otherwise; raises AuthError.
    `region` is the V4 signing region localcloud answers for (None skips that check) and
    `now` is the server time (epoch seconds or an aware datetime)."""
    now = _epoch(now)
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, rest = authorization.strip().partition(" ")
        if scheme == OSS4:
            return _v4_header(request, rest.strip(), lookup_secret, region, now)
        if scheme not in ("OSS", "OSS2"):
            raise _invalid()
        return _hmac_header(request, rest.strip(), lookup_secret, now, v2=scheme == "OSS2")
    params = request.params
    version = params.get("x-oss-signature-version")
    if version == OSS4:
        return _v4_query(request, lookup_secret, region, now)
    if version == "OSS2":
        return _hmac_query(request, True, lookup_secret, now)
    if version is not None or "x-oss-signature" in params:
        raise _invalid("Unsupported x-oss-signature-version.")
    if "Signature" in params or "OSSAccessKeyId" in params:
        return _hmac_query(request, False, lookup_secret, now)
    return None


# ---------------------------------------------------------------- KMS (POP RPC)


def _kms_secret(lookup_secret: SecretLookup, ak: str) -> str:
    secret = lookup_secret(ak) if ak else None
    if secret is None:
        raise KmsAuthError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    return secret


def _kms_check(expected: str, provided: str, string_to_sign: str) -> None:
    if not hmac.compare_digest(expected.encode(), provided.encode()):  # constant time
        message = "Specified signature is not matched with our calculation."
        raise KmsAuthError(400, "SignatureDoesNotMatch", message, {"StringToSign": string_to_sign})


def _kms_time(text: str | None, now: float) -> None:
    """POP accepts requests up to 15 minutes away from its clock (x-acs-date / Timestamp)."""
    if not text:
        raise KmsAuthError(400, "MissingTimestamp", "Timestamp is mandatory for this action.")
    when = _utc(text, "%Y-%m-%dT%H:%M:%SZ")
    if when is None:
        raise KmsAuthError(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
    if abs(when - now) > MAX_SKEW_SECONDS:
        raise KmsAuthError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")


def _incomplete() -> KmsAuthError:
    return KmsAuthError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.")


def _acs_canonical_request(method, path, params, headers: Headers, signed: list[str], body: bytes, encode_keys) -> str:
    """ACS3 signs the query keys raw and ACS4 percent-encodes them; both encode values with
    only '~' safe, list the signed headers trimmed in the order given, and end with the
    payload hash, which we compute from the body instead of trusting x-acs-content-sha256."""
    query = "&".join(f"{quote(k, safe='~') if encode_keys else k}={quote(params[k], safe='~')}" for k in sorted(params))
    canon = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed)
    return f"{method}\n{path or '/'}\n{query}\n{canon}\n{';'.join(signed)}\n{hashlib.sha256(body).hexdigest()}"


def _acs(method, path, params, headers: Headers, body: bytes, scheme: str, rest: str, lookup_secret, now) -> Identity:
    fields = _split_fields(rest, "=")
    credential, signature = fields.get("Credential", ""), fields.get("Signature", "")
    signed = [n.strip().lower() for n in fields.get("SignedHeaders", "").split(";") if n.strip()]
    if not credential or not signature or not signed:
        raise _incomplete()
    # Every common header present must be signed, or the action/date/body type could be swapped.
    if any((n.startswith("x-acs-") or n in ("host", "content-type")) and n not in signed for n in headers):
        raise _incomplete()
    _kms_time(headers.get("x-acs-date"), now)
    acs4 = scheme.startswith("ACS4-")
    parts = credential.split("/")
    day = headers["x-acs-date"][:10].replace("-", "")
    if acs4 and (len(parts) != 5 or parts[1] != day or parts[4] != "aliyun_v4_request"):
        raise _incomplete()
    ak = parts[0] if acs4 else credential
    secret = _kms_secret(lookup_secret, ak)
    canonical = _acs_canonical_request(method, path, params, headers, signed, body, acs4)
    sts = f"{scheme}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
    key = secret.encode("utf-8")
    if acs4:  # signing key derived like OSS V4, over date/region/product
        key = ("aliyun_v4" + secret).encode("utf-8")
        for part in parts[1:]:
            key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    _kms_check(hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest(), signature, sts)
    token, nonce = headers.get("x-acs-security-token"), headers.get("x-acs-signature-nonce")
    return Identity(ak, scheme, security_token=token, nonce=nonce, action=headers.get("x-acs-action"))


def _rpc_v1(method, params: dict[str, str], headers: Headers, body: bytes, lookup_secret, now) -> Identity:
    """The older RPC signature (Config(signature_algorithm='v2')): HMAC-SHA1 over the sorted
    query plus form-body parameters, keyed with secret + '&'."""
    signed = {k: v for k, v in params.items() if k != "Signature"}
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        signed.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if signed.get("SignatureMethod") != "HMAC-SHA1" or signed.get("SignatureVersion", "1.0") != "1.0":
        raise KmsAuthError(400, "InvalidSignatureMethod", "Specified signature method is not supported.")
    ak = signed.get("AccessKeyId", "")
    if not ak:
        raise KmsAuthError(400, "MissingAccessKeyId", "AccessKeyId is mandatory for this action.")
    _kms_time(signed.get("Timestamp"), now)
    secret = _kms_secret(lookup_secret, ak)
    query = "&".join(f"{quote(k, safe='~')}={quote(signed[k], safe='~')}" for k in sorted(signed))
    sts = f"{method}&%2F&{quote(query, safe='~')}"
    _kms_check(_b64_hmac((secret + "&").encode("utf-8"), sts.encode("utf-8"), hashlib.sha1), params["Signature"], sts)
    token, nonce = signed.get("SecurityToken"), signed.get("SignatureNonce")
    return Identity(ak, "HMAC-SHA1", security_token=token, nonce=nonce, action=signed.get("Action"))


def authenticate_kms(method: str, path: str, query, headers, body: bytes, lookup_secret: SecretLookup, now) -> Identity:
    """Verify a KMS RPC request as alibabacloud-kms20160120 sends it: ACS3-HMAC-SHA256 in the
    Authorization header (the default), ACS4-HMAC-SHA256 (Config.signature_version='v4') or
    the RPC HMAC-SHA1 query signature (Config.signature_algorithm='v2'). `query` holds
    form-decoded (name, value) pairs, `headers` a mapping or pairs. Raises KmsAuthError."""
    now, method = _epoch(now), method.upper()
    headers = headers if isinstance(headers, Headers) else Headers(headers)
    pairs = query.items() if isinstance(query, Mapping) else query
    params = {k: v or "" for k, v in pairs}
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, rest = authorization.strip().partition(" ")
        if scheme not in ("ACS3-HMAC-SHA256", "ACS4-HMAC-SHA256"):
            raise _incomplete()
        return _acs(method, path, params, headers, body or b"", scheme, rest, lookup_secret, now)
    if "Signature" in params:
        return _rpc_v1(method, params, headers, body or b"", lookup_secret, now)
    raise KmsAuthError(400, "MissingAuthorization", "Authorization is mandatory for this action.")
