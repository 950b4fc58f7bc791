"""ListObjects (v1) and ListObjectsV2 (oss-api.md §6.9, §6.10), plus the paging pieces ListBuckets shares.

Memory stays bounded for any bucket: each query reads at most one page of rows after a cursor, in
code-point order, and a common prefix is stepped over with a range bound instead of reading every key
under it.
"""

import base64
from dataclasses import dataclass
from urllib.parse import quote

from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Collate

from localcloud import errors, xml
from localcloud.models import Bucket, StoredObject
from localcloud.oss import common
from localcloud.oss.http import Request, Response, iso_time, xml_response

# One account owns everything (oss-api.md §2.8), so every Owner element names it.
OWNER_ID = "localcloud"
OWNER = [("ID", OWNER_ID), ("DisplayName", OWNER_ID)]
DEFAULT_MAX_KEYS = 100
MAX_KEYS = 1000
# Rows per query when a delimiter may roll many of them into one prefix; without one, a page is one query.
DELIMITED_BATCH = 100
LAST_CODE_POINT = 0x10FFFF
COLUMNS = ("key", "last_modified", "etag", "object_type", "size", "storage_class")


# -- Parameters ---------------------------------------------------------------------------------------


def max_keys(request: Request) -> int:
    """max-keys: 1..1000, 100 when absent or empty (oss2 always sends it)."""
    value = request.params.get("max-keys", "")
    if value == "":
        return DEFAULT_MAX_KEYS
    # isascii first: int() would also accept other scripts' digits, and the length cap keeps int() cheap.
    if not (value.isascii() and value.isdigit() and len(value) <= 4 and 1 <= int(value) <= MAX_KEYS):
        raise errors.invalid_argument("max-keys must be an integer between 1 and 1000.", "max-keys")
    return int(value)


def xml_text(value: str) -> str:
    """A value that goes into a response unencoded; one XML cannot carry needs encoding-type=url."""
    if not xml.carries(value):
        raise errors.invalid_argument(
            "The listing holds characters that XML 1.0 cannot carry; request it with encoding-type=url.",
            "encoding-type",
        )
    return value


def url_encoded(value: str) -> str:
    """%20 for a space and never `+`: oss2 decodes with unquote, not unquote_plus."""
    return quote(value, safe="/")


def encoder(request: Request):
    """How names travel in this response: url-encoded on request, else checked for XML safety."""
    encoding = request.params.get("encoding-type", "")
    if encoding == "":
        return xml_text
    if encoding == "url":
        return url_encoded
    raise errors.invalid_argument("The encoding-type must be url.", "encoding-type")


# -- Code-point ranges --------------------------------------------------------------------------------


def _code_point(field: str):
    """Order and compare by code point (= UTF-8 byte order): SQLite's BINARY collation does, PostgreSQL's
    default collation may be linguistic, so it gets C."""
    if connection.vendor == "postgresql":
        return Collate(F(field), "C")
    return F(field)


def _db_bound(value: str) -> str:
    """A bound PostgreSQL can take. Its text holds no NUL, so no stored key does; cutting the bound at its first
    NUL and appending U+0001 then selects exactly the same keys, as a lower or as an upper bound."""
    if connection.vendor == "postgresql" and "\0" in value:
        return value[: value.index("\0")] + "\x01"
    return value


def after(value: str) -> str:
    """The first string sorting strictly after `value`, to turn an exclusive bound into an inclusive one."""
    return value + "\0"


def past_prefix(prefix: str) -> str | None:
    """The first string after every string that starts with `prefix`; None when nothing sorts after them."""
    stripped = prefix.rstrip(chr(LAST_CODE_POINT))
    if not stripped:
        return None
    code = ord(stripped[-1]) + 1
    if 0xD800 <= code <= 0xDFFF:  # surrogates are not characters: no key holds one, UTF-8 cannot encode one
        code = 0xE000
    return stripped[:-1] + chr(code)


def start_bound(prefix: str, marker: str) -> str:
    """The inclusive lower bound of names with `prefix` strictly after `marker`."""
    return max(prefix, after(marker)) if marker else prefix


def in_range(queryset, field: str, low: str, high: str | None):
    """Rows whose `field` is in [low, high) by code point, in that order."""
    queryset = queryset.alias(code_point=_code_point(field)).filter(code_point__gte=_db_bound(low))
    if high is not None:
        queryset = queryset.filter(code_point__lt=_db_bound(high))
    return queryset.order_by("code_point")


# -- The walk ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """Objects (rows of COLUMNS) and common prefixes, in code-point order, and the name to resume after."""

    entries: list
    truncated: bool

    @property
    def objects(self) -> list[tuple]:
        return [entry for entry in self.entries if isinstance(entry, tuple)]

    @property
    def prefixes(self) -> list[str]:
        return [entry for entry in self.entries if isinstance(entry, str)]

    @property
    def last_name(self) -> str:
        last = self.entries[-1]
        return last if isinstance(last, str) else last[0]


def _rolled_up(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    position = key.find(delimiter, len(prefix))
    return None if position < 0 else key[: position + len(delimiter)]


def _current_objects(bucket: Bucket):
    """What ListObjects shows: each key's current version, unless that is a delete marker."""
    return StoredObject.objects.filter(bucket=bucket, is_latest=True, is_delete_marker=False)


def _walk(bucket: Bucket, prefix: str, delimiter: str, marker: str, wanted: int) -> list:
    """Up to `wanted` objects and common prefixes after `marker`, a query per batch of rows.

    A rolled-up prefix is listed once and then stepped over: the next row must sort past it. A prefix
    that is <= marker was listed on an earlier page, so it is stepped over without being listed."""
    entries: list = []
    low, high = start_bound(prefix, marker), past_prefix(prefix)
    while low is not None and len(entries) < wanted:
        size = min(wanted - len(entries), DELIMITED_BATCH) if delimiter else wanted - len(entries)
        rows = list(in_range(_current_objects(bucket), "key", low, high).values_list(*COLUMNS)[:size])
        for row in rows:
            if row[0] < low:  # still under the prefix rolled up last
                continue
            rolled = _rolled_up(row[0], prefix, delimiter)
            if rolled is None:
                entries.append(row)
                low = after(row[0])
            else:
                if rolled > marker:
                    entries.append(rolled)
                low = past_prefix(rolled)
            if low is None or len(entries) == wanted:
                break
        if len(rows) < size:
            break
    return entries


def select(bucket: Bucket, prefix: str, delimiter: str, marker: str, limit: int) -> Page:
    """One page of at most `limit` entries; one more is looked up to know whether the listing goes on."""
    entries = _walk(bucket, prefix, delimiter, marker, limit + 1)
    return Page(entries[:limit], len(entries) > limit)


# -- The responses ------------------------------------------------------------------------------------


def _contents(row: tuple, encode, with_owner: bool) -> tuple:
    key, last_modified, etag, object_type, size, storage_class = row
    children = [
        ("Key", encode(key)),
        ("LastModified", iso_time(last_modified)),
        ("ETag", f'"{etag}"'),
        ("Type", object_type),
        ("Size", size),
        ("StorageClass", storage_class),
        ("Owner", OWNER) if with_owner else None,
    ]
    return ("Contents", children)


def _entries(page: Page, encode, with_owner: bool) -> list:
    return [
        *(_contents(row, encode, with_owner) for row in page.objects),
        *(("CommonPrefixes", [("Prefix", encode(name))]) for name in page.prefixes),
    ]


def _encoding_element(request: Request):
    return ("EncodingType", "url") if request.params.get("encoding-type") == "url" else None


def _readable_bucket(request: Request) -> Bucket:
    bucket = common.get_bucket(request)
    common.authorize(request, bucket)
    return bucket


def list_objects(request: Request) -> Response:
    bucket = _readable_bucket(request)
    encode, limit = encoder(request), max_keys(request)
    prefix, delimiter, marker = (request.params.get(name, "") for name in ("prefix", "delimiter", "marker"))
    page = select(bucket, prefix, delimiter, marker, limit)
    children = [
        ("Name", bucket.name),
        ("Prefix", encode(prefix)),
        ("Marker", encode(marker)),
        ("MaxKeys", limit),
        ("Delimiter", encode(delimiter)),
        _encoding_element(request),
        ("IsTruncated", str(page.truncated).lower()),
        ("NextMarker", encode(page.last_name)) if page.truncated else None,
        *_entries(page, encode, with_owner=True),
    ]
    return xml_response(xml.document("ListBucketResult", children))


def continuation_token(name: str) -> str:
    """Opaque to clients: base64url of the last key or prefix returned."""
    return base64.urlsafe_b64encode(name.encode("utf-8")).decode("ascii")


def _resume_after(token: str) -> str:
    """The name a continuation token stands for; only tokens continuation_token() made are accepted."""
    try:
        name = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except ValueError:  # UnicodeError and binascii.Error are ValueErrors
        name = None
    if name is None or continuation_token(name) != token:
        raise errors.invalid_argument("The continuation token provided is incorrect.", "continuation-token")
    return name


def list_objects_v2(request: Request) -> Response:
    bucket = _readable_bucket(request)
    encode, limit = encoder(request), max_keys(request)
    prefix, delimiter, token, start_after = (
        request.params.get(name, "") for name in ("prefix", "delimiter", "continuation-token", "start-after")
    )
    page = select(bucket, prefix, delimiter, _resume_after(token) if token else start_after, limit)
    children = [
        ("Name", bucket.name),
        ("Prefix", encode(prefix)),
        ("StartAfter", encode(start_after)) if start_after else None,
        ("ContinuationToken", encode(token)) if token else None,
        ("MaxKeys", limit),
        ("Delimiter", encode(delimiter)),
        _encoding_element(request),
        ("IsTruncated", str(page.truncated).lower()),
        ("NextContinuationToken", encode(continuation_token(page.last_name))) if page.truncated else None,
        ("KeyCount", len(page.entries)),
        *_entries(page, encode, with_owner=request.params.get("fetch-owner") == "true"),
    ]
    return xml_response(xml.document("ListBucketResult", children))


# -- ListObjectVersions ---------------------------------------------------------------------------------


VERSION_COLUMNS = ("pk", "key", "version_id", "is_latest", "is_delete_marker", *COLUMNS[1:])


@dataclass
class _VersionCursor:
    """Where the walk over versions stands: names from `low` on, and within `key` only versions older than `pk`."""

    low: str | None
    key: str | None = None
    pk: int | None = None


def _versions_after(bucket: Bucket, cursor: _VersionCursor, high: str | None, size: int) -> list[tuple]:
    rows = in_range(StoredObject.objects.filter(bucket=bucket), "key", cursor.low, high)
    if cursor.key is not None:
        rows = rows.filter(Q(code_point__gt=_db_bound(cursor.key)) | Q(key=cursor.key, pk__lt=cursor.pk))
    return list(rows.order_by("code_point", "-pk").values_list(*VERSION_COLUMNS)[:size])


def _version_walk(bucket: Bucket, prefix: str, delimiter: str, key_marker: str, marker_pk: int | None, wanted: int):
    """Up to `wanted` versions (newest first within a key) and common prefixes, after the markers, a query per
    batch of rows; a rolled-up prefix is stepped over as in _walk."""
    entries: list = []
    high = past_prefix(prefix)
    if marker_pk is None:
        cursor = _VersionCursor(start_bound(prefix, key_marker))
    else:
        cursor = _VersionCursor(max(prefix, key_marker), key_marker, marker_pk)
    while cursor.low is not None and len(entries) < wanted:
        size = min(wanted - len(entries), DELIMITED_BATCH) if delimiter else wanted - len(entries)
        rows = _versions_after(bucket, cursor, high, size)
        for row in rows:
            key = row[1]
            if key < cursor.low:  # still under the prefix rolled up last
                continue
            rolled = _rolled_up(key, prefix, delimiter)
            if rolled is None:
                entries.append(row)
                cursor = _VersionCursor(cursor.low, key, row[0])
            else:
                if rolled > key_marker:
                    entries.append(rolled)
                cursor = _VersionCursor(past_prefix(rolled))
            if cursor.low is None or len(entries) == wanted:
                break
        if len(rows) < size:
            break
    return entries


def _version_marker_pk(bucket: Bucket, key_marker: str, version_id_marker: str) -> int | None:
    """The row the version-id-marker names (None without one); it is only meaningful with a key-marker."""
    if not version_id_marker or not key_marker:
        return None
    pk = None
    if "\0" not in key_marker and "\0" not in version_id_marker:
        rows = StoredObject.objects.filter(bucket=bucket, key=key_marker, version_id=version_id_marker)
        pk = rows.values_list("pk", flat=True).first()
    if pk is None:
        raise errors.invalid_argument(
            "The version-id-marker does not name a version of the key-marker.", "version-id-marker"
        )
    return pk


def _version_entry(row: tuple, encode) -> tuple:
    _, key, version_id, is_latest, is_delete_marker, last_modified, etag, object_type, size, storage_class = row
    common_part = [
        ("Key", encode(key)),
        ("VersionId", version_id),
        ("IsLatest", str(is_latest).lower()),
        ("LastModified", iso_time(last_modified)),
    ]
    if is_delete_marker:
        return ("DeleteMarker", [*common_part, ("Owner", OWNER)])
    details = [("ETag", f'"{etag}"'), ("Type", object_type), ("Size", size), ("StorageClass", storage_class)]
    return ("Version", [*common_part, *details, ("Owner", OWNER)])


def list_object_versions(request: Request) -> Response:
    """GET /B/?versions: every version and delete marker, keys in code-point order, each key's newest first."""
    bucket = _readable_bucket(request)
    encode, limit = encoder(request), max_keys(request)
    prefix, delimiter, key_marker = (request.params.get(name, "") for name in ("prefix", "delimiter", "key-marker"))
    version_id_marker = xml_text(request.params.get("version-id-marker", ""))
    marker_pk = _version_marker_pk(bucket, key_marker, version_id_marker)
    entries = _version_walk(bucket, prefix, delimiter, key_marker, marker_pk, limit + 1)
    truncated, entries = len(entries) > limit, entries[:limit]
    next_markers = []
    if truncated:
        last = entries[-1]
        next_key, next_version = (last, "") if isinstance(last, str) else (last[1], last[2])
        next_markers = [("NextKeyMarker", encode(next_key)), ("NextVersionIdMarker", next_version)]
    children = [
        ("Name", bucket.name),
        ("Prefix", encode(prefix)),
        ("KeyMarker", encode(key_marker)),
        ("VersionIdMarker", version_id_marker),
        ("MaxKeys", limit),
        ("Delimiter", encode(delimiter)),
        _encoding_element(request),
        ("IsTruncated", str(truncated).lower()),
        *next_markers,
        *(_version_entry(entry, encode) for entry in entries if isinstance(entry, tuple)),
        *(("CommonPrefixes", [("Prefix", encode(name))]) for name in entries if isinstance(name, str)),
    ]
    return xml_response(xml.document("ListVersionsResult", children))
