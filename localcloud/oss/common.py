"""Pieces every operation group shares: bucket lookup, anonymous access, names, metadata, conditions."""

import re
from urllib.parse import unquote

from localcloud import errors
from localcloud.models import Bucket, StoredObject
from localcloud.oss.http import Request, http_date, parse_http_date

BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
ACLS = ("private", "public-read", "public-read-write")
OBJECT_ACLS = ("default", *ACLS)
STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")
CONTENT_HEADERS = ("Content-Encoding", "Content-Disposition", "Cache-Control", "Expires", "Content-Language")
MAX_USER_META_BYTES = 8 * 1024
MAX_KEY_BYTES = 1023
READ_METHODS = ("GET", "HEAD")
# Tab is the one control character a header value may hold (RFC 9110 §5.5).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def validate_bucket_name(name: str) -> None:
    if not BUCKET_NAME.match(name):
        raise errors.OssError(400, "InvalidBucketName", "The specified bucket is not valid.", BucketName=name)


def validate_key(key: str) -> None:
    encoded = key.encode("utf-8")
    if not encoded or len(encoded) > MAX_KEY_BYTES or key[0] in "/\\":
        raise errors.OssError(400, "InvalidObjectName", "The specified object is not valid.", Key=key[:1100])


def get_bucket(request: Request, *, for_update: bool = False) -> Bucket:
    """The request's bucket. A name no bucket can have is not looked up: PostgreSQL cannot even take one with NUL."""
    if not BUCKET_NAME.match(request.bucket_name):
        raise errors.no_such_bucket(request.bucket_name)
    queryset = Bucket.objects.select_for_update() if for_update else Bucket.objects
    bucket = queryset.filter(name=request.bucket_name).first()
    if bucket is None:
        raise errors.no_such_bucket(request.bucket_name)
    return bucket


def require_signed(request: Request) -> None:
    """Service and bucket-configuration operations are never open to anonymous callers."""
    if request.anonymous:
        raise errors.access_denied("You have no right to access this bucket because of bucket acl.")


def effective_acl(bucket: Bucket, obj: StoredObject | None) -> str:
    if obj is not None and obj.acl != "default":
        return obj.acl
    return bucket.acl


def authorize(request: Request, bucket: Bucket, obj: StoredObject | None = None) -> None:
    """Anonymous callers get what the effective ACL grants (oss-api.md §2.8); signed callers own everything.
    Every path that writes an object passes the object now at its key, so that its own ACL decides."""
    if not request.anonymous:
        return
    acl = effective_acl(bucket, obj)
    if request.method in READ_METHODS and acl in ("public-read", "public-read-write"):
        if obj is not None and obj.sse_algorithm == "KMS":
            raise errors.kms_forbidden()
        return
    if request.method not in READ_METHODS and acl == "public-read-write":
        return
    raise errors.access_denied()


def content_headers(request: Request) -> tuple[str, dict[str, str]]:
    """Content-Type (default application/octet-stream) and the other stored content headers."""
    content_type = request.headers.get("content-type") or "application/octet-stream"
    stored = {name: request.headers[name] for name in CONTENT_HEADERS if name in request.headers}
    return content_type, stored


def user_meta(request: Request) -> dict[str, str]:
    """x-oss-meta-* with lower-cased names; values keep their wire bytes (as latin-1 text)."""
    meta = {name: value for name, value in request.headers.items() if name.startswith("x-oss-meta-")}
    size = sum(len(name) + len(value) for name, value in meta.items())
    if size > MAX_USER_META_BYTES:
        raise errors.OssError(
            400,
            "MetadataTooLarge",
            f"Your metadata headers exceed the maximum allowed metadata size of {MAX_USER_META_BYTES} bytes.",
        )
    return meta


def acl_header(request: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.headers.get(name)
    if value is None:
        return default
    if value not in allowed:
        raise errors.invalid_argument(f"The ACL {value!r} is not valid.", name, value)
    return value


def storage_class_header(request: Request, default: str) -> str:
    value = request.headers.get("x-oss-storage-class")
    if value is None:
        return default
    if value not in STORAGE_CLASSES:
        raise errors.invalid_argument(f"The storage class {value!r} is not valid.", "x-oss-storage-class", value)
    return value


_TAG_CHARS = re.compile(r"^[\w +\-=._:/]*$", re.UNICODE)
MAX_TAGS = 10


def validate_tags(tags: list[tuple[str, str]]) -> list[list[str]]:
    keys = [key for key, _ in tags]
    if len(tags) > MAX_TAGS or len(set(keys)) != len(keys):
        raise errors.OssError(400, "InvalidTag", "An object can carry at most 10 tags with unique keys.")
    for key, value in tags:
        if not 1 <= len(key) <= 128 or len(value) > 256 or not _TAG_CHARS.match(key) or not _TAG_CHARS.match(value):
            raise errors.OssError(400, "InvalidTag", f"The tag {key!r} is not valid.")
    return [[key, value] for key, value in tags]


def tags_from_header(request: Request) -> list[list[str]]:
    """The url-encoded `k1=v1&k2=v2` of x-oss-tagging (decoded with unquote: a literal + stays +)."""
    raw = request.headers.get("x-oss-tagging")
    if not raw:
        return []
    pairs = []
    for part in raw.split("&"):
        key, sep, value = part.partition("=")
        if not key or "=" in value:
            raise errors.OssError(400, "InvalidTag", "The x-oss-tagging header is not valid.")
        pairs.append((unquote(key), unquote(value) if sep else ""))
    return validate_tags(pairs)


def etag_matches(header_value: str, etag: str) -> bool:
    candidates = [item.strip().strip('"') for item in header_value.split(",")]
    return "*" in candidates or etag in candidates


def check_conditions(request: Request, obj: StoredObject, prefix: str = "") -> None:
    """If-Match, If-Unmodified-Since (412) then If-None-Match, If-Modified-Since (304), oss-api.md §4.8."""
    headers = request.headers
    modified = obj.last_modified.timestamp()
    if_match = headers.get(f"{prefix}if-match")
    if if_match is not None and not etag_matches(if_match, obj.etag):
        raise errors.precondition_failed(f"{prefix}If-Match")
    unmodified_since = parse_http_date(headers.get(f"{prefix}if-unmodified-since"))
    if unmodified_since is not None and modified > unmodified_since:
        raise errors.precondition_failed(f"{prefix}If-Unmodified-Since")
    if_none_match = headers.get(f"{prefix}if-none-match")
    if if_none_match is not None and etag_matches(if_none_match, obj.etag):
        raise errors.OssError(304, "", "")
    modified_since = parse_http_date(headers.get(f"{prefix}if-modified-since"))
    if modified_since is not None and modified <= modified_since:
        raise errors.OssError(304, "", "")


def object_headers(obj: StoredObject) -> dict[str, str]:
    """The headers GetObject and HeadObject return (oss-api.md §4.7), SSE excluded."""
    headers = {
        "Content-Type": obj.content_type,
        "ETag": f'"{obj.etag}"',
        "Last-Modified": http_date(obj.last_modified),
        "Accept-Ranges": "bytes",
        "x-oss-object-type": obj.object_type,
        "x-oss-storage-class": obj.storage_class,
        "x-oss-hash-crc64ecma": obj.crc64,
        **obj.content_headers,
        **obj.user_meta,
    }
    if obj.object_type == "Appendable":
        headers["x-oss-next-append-position"] = str(obj.size)
    if obj.tags:
        headers["x-oss-tagging-count"] = str(len(obj.tags))
    if obj.content_md5:
        headers["Content-MD5"] = obj.content_md5
    return headers
