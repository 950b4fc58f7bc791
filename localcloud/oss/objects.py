"""Object operations (oss-api.md §6): PutObject, GetObject, HeadObject, GetObjectMeta, DeleteObject,
DeleteMultipleObjects, object tagging and ACL. CopyObject is in copy.py, AppendObject in append.py."""

import re
from dataclasses import dataclass
from functools import partial
from urllib.parse import quote

from django.db import transaction

from localcloud import blobs, errors, sse, xml
from localcloud.models import Bucket, StoredObject
from localcloud.oss import common, listing, permissions, stored
from localcloud.oss.append import append_object  # noqa: F401  (routes.py names it objects.append_object)
from localcloud.oss.copy import copy_object
from localcloud.oss.http import Request, Response, http_date, now_seconds, xml_response
from localcloud.storage import blob_store

# Query parameters of GetObject that override a response header (they are signed sub-resources):
# honoured on signed requests only, as OSS does, so a public link cannot be made to say anything else.
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}
MAX_DELETE_OBJECTS = 1000
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def put_or_copy_object(request: Request) -> Response:
    """PUT /B/K: CopyObject (and update_object_meta) when x-oss-copy-source is present, else PutObject."""
    stored.refuse_control_characters(request)
    if "x-oss-copy-source" in request.headers:
        return copy_object(request)
    return _put_object(request)


def _put_object(request: Request) -> Response:
    bucket = common.get_bucket(request)
    stored.check_key(request.key)
    existing = stored.find_object(bucket, request.key)
    common.authorize(request, bucket, existing)
    attributes = stored.new_object_attributes(request, bucket)
    choice = sse.for_new_object(request.headers, bucket)
    permissions.require_data_key(request, bucket, choice)
    forbid = stored.forbids_overwrite(request)
    if forbid and existing:
        raise stored.file_exists()
    body = stored.checked(request, request.body_chunks())
    written = blobs.write(body, choice=choice, bucket=bucket, key=request.key)
    fields = {
        **written.fields(),
        **attributes,
        "object_type": "Normal",
        "last_modified": now_seconds(),
        "content_md5": stored.content_md5_of(written),
    }
    obj = stored.commit_new_blob(bucket, request.key, fields, stored.refuse_existing if forbid else None)
    # An empty response body, so Content-MD5 can describe the object, as OSS sends it.
    headers = {**stored.write_headers(obj), **stored.version_headers(bucket, obj), "Content-MD5": obj.content_md5}
    return Response(200, headers)


# -- reads ----------------------------------------------------------------------------------------


def get_object(request: Request) -> Response:
    return stored.retry_once(_get_object, request)


def _get_object(request: Request) -> Response:
    bucket, obj = stored.readable_object(request)
    common.check_conditions(request, obj)
    permissions.require_decrypt(request, bucket, obj)
    span = _requested_range(request, obj.size)
    headers = {
        **common.object_headers(obj),
        **sse.response_headers(obj),
        **stored.version_headers(bucket, obj),
        **_overrides(request),
    }
    if span is None:
        headers["Content-Length"] = str(obj.size)
        return Response(200, headers, stored.plaintext(bucket, obj))
    start, end = span
    # Content-MD5 describes the whole object, not the part sent.
    headers.pop("Content-MD5", None)
    headers["Content-Range"] = f"bytes {start}-{end}/{obj.size}"
    headers["Content-Length"] = str(end - start + 1)
    return Response(206, headers, stored.plaintext(bucket, obj, start=start, end=end))


def _overrides(request: Request) -> dict[str, str]:
    if request.anonymous:
        return {}
    overrides = {}
    for name, header in RESPONSE_OVERRIDES.items():
        value = request.params.get(name)
        if value is None:
            continue
        if common.CONTROL_CHARACTERS.search(value):
            raise errors.invalid_argument(f"The {name} parameter holds a control character.", name)
        overrides[header] = value
    return overrides


def _requested_range(request: Request, size: int) -> tuple[int, int] | None:
    """The first range of the Range header as (start, inclusive end), or None for the whole object. OSS ignores an
    invalid or unsatisfiable range unless `x-oss-range-behavior: standard` asks for RFC 7233 (416, clamped ends)."""
    header = request.headers.get("range")
    if header is None:
        return None
    standard = request.headers.get("x-oss-range-behavior", "").lower() == "standard"
    span = _parse_range(header.split(",")[0].strip(), size, standard)
    if span is None and standard:
        raise errors.OssError(
            416,
            "InvalidRange",
            "The requested range is not satisfiable.",
            headers={"Content-Range": f"bytes */{size}"},
            RangeRequested=header,
            ActualObjectSize=size,
        )
    return span


def _parse_range(spec: str, size: int, standard: bool) -> tuple[int, int] | None:
    match = _RANGE.match(spec)
    if match is None or match.groups() == ("", "") or size == 0:
        return None
    first, last = match.groups()
    if not first:  # bytes=-n: the last n bytes
        count = int(last)
        if count == 0 or (count > size and not standard):
            return None
        return max(size - count, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start or (end >= size and not standard):
        return None
    return start, min(end, size - 1)


def head_object(request: Request) -> Response:
    bucket, obj = stored.readable_object(request)
    common.check_conditions(request, obj)
    headers = {
        **common.object_headers(obj),
        **sse.response_headers(obj),
        **stored.version_headers(bucket, obj),
        "Content-Length": str(obj.size),
    }
    return Response(200, headers)


def get_object_meta(request: Request) -> Response:
    """HEAD ?objectMeta: only ETag, size, Last-Modified and CRC64; no user metadata, no SSE headers."""
    _, obj = stored.readable_object(request)
    headers = {
        "ETag": f'"{obj.etag}"',
        "Content-Length": str(obj.size),
        "Last-Modified": http_date(obj.last_modified),
        "x-oss-hash-crc64ecma": obj.crc64,
    }
    return Response(200, headers)


# -- deletes --------------------------------------------------------------------------------------


def delete_object(request: Request) -> Response:
    """204 whether or not the key or version exists. In a versioned bucket a delete without versionId adds a delete
    marker; one with versionId removes that version (and its blob)."""
    bucket = common.get_bucket(request)
    stored.check_key(request.key)
    version_id = stored.requested_version(request)
    if version_id is None:
        common.authorize(request, bucket, stored.find_object(bucket, request.key))
    else:
        common.authorize(request, bucket, stored.find_version(bucket, request.key, version_id))
    outcome = _delete_one(bucket, request.key, version_id)
    headers = {}
    if outcome is not None:
        headers[stored.VERSION_HEADER] = outcome.version_id
        if outcome.delete_marker:
            headers[stored.DELETE_MARKER_HEADER] = "true"
    return Response(204, headers)


@dataclass(frozen=True)
class Deletion:
    """What a delete in a versioned bucket did: the version it removed (or the delete marker it added) and whether
    that is a delete marker."""

    version_id: str
    delete_marker: bool


def _delete_one(bucket: Bucket, key: str, version_id: str | None) -> Deletion | None:
    """Delete the version named, else the key (None: a bucket never versioned, where its rows simply go)."""
    with transaction.atomic():
        if version_id is None and not bucket.versioning:
            stored.delete_rows(StoredObject.objects.filter(bucket=bucket, key=key))
            return None
        current = stored.lock_current(bucket, key)
        if version_id is None:
            marker = stored.add_version(bucket, key, current, stored.target_version(bucket), _marker_fields())
            return Deletion(marker.version_id, True)
        removed = stored.delete_rows(StoredObject.objects.filter(bucket=bucket, key=key, version_id=version_id))
        if removed and removed[0].is_latest:
            _promote_newest(bucket, key)
        return Deletion(version_id, bool(removed) and removed[0].is_delete_marker)


def _marker_fields() -> dict:
    return {"is_delete_marker": True, "blob": "", "size": 0, "etag": "", "crc64": "", "last_modified": now_seconds()}


def _promote_newest(bucket: Bucket, key: str) -> None:
    """After the current version is removed, the newest remaining one is current (a key's versions are in
    primary-key order)."""
    newest = StoredObject.objects.filter(bucket=bucket, key=key).order_by("-pk").values_list("pk", flat=True).first()
    if newest is not None:
        StoredObject.objects.filter(pk=newest).update(is_latest=True)


def delete_multiple_objects(request: Request) -> Response:
    """POST /B/?delete: every requested key is reported Deleted, existing or not; Quiet reports only failures.
    An object with a VersionId removes that version; without one, a versioned bucket gets a delete marker."""
    bucket = common.get_bucket(request)
    common.authorize(request, bucket)
    if "content-md5" not in request.headers:
        raise errors.OssError(400, "InvalidDigest", "DeleteMultipleObjects requires a Content-MD5 header.")
    quiet, targets = _delete_request(stored.small_body(request))
    keys = [key for key, _ in targets]
    permissions.require_each_object(request, bucket.name, keys)
    if bucket.versioning or any(version_id is not None for _, version_id in targets):
        outcomes = [_delete_one(bucket, key, version_id) for key, version_id in targets]
    else:  # every key at once
        _delete_keys(bucket, keys)
        outcomes = [None] * len(targets)
    # A key XML cannot carry goes url-encoded, and the answer says so, rather than come back altered.
    encoded = request.params.get("encoding-type") == "url" or not all(xml.carries(key) for key in keys)
    deleted = []
    if not quiet:
        for (key, version_id), outcome in zip(targets, outcomes, strict=True):
            deleted.append(("Deleted", _deleted_entry(quote(key, safe="") if encoded else key, version_id, outcome)))
    return xml_response(xml.document("DeleteResult", [("EncodingType", "url") if encoded else None, *deleted]))


def _deleted_entry(key: str, version_id: str | None, outcome: Deletion | None) -> list:
    """As OSS words it: the VersionId asked for; DeleteMarker and DeleteMarkerVersionId when the version removed
    or the one added is a delete marker."""
    entry = [("Key", key), ("VersionId", version_id) if version_id is not None else None]
    if outcome is not None and outcome.delete_marker:
        entry += [("DeleteMarker", "true"), ("DeleteMarkerVersionId", outcome.version_id)]
    return entry


def _delete_request(body: bytes) -> tuple[bool, list[tuple[str, str | None]]]:
    try:
        root = xml.parse(body)
    except xml.XmlError:
        raise errors.malformed_xml() from None
    targets = [(xml.text(item, "Key", ""), xml.text(item, "VersionId")) for item in root.findall("Object")]
    if root.tag != "Delete" or not 1 <= len(targets) <= MAX_DELETE_OBJECTS:
        raise errors.malformed_xml()
    for key, version_id in targets:
        stored.check_key(key)
        if version_id is not None:
            stored.check_version_id(version_id)
    return xml.text(root, "Quiet", "false").strip().lower() == "true", targets


def _delete_keys(bucket: Bucket, keys: list[str]) -> None:
    """A batch delete in a bucket that was never versioned: the keys' rows and blobs go, all in one statement."""
    with transaction.atomic():
        # Locked, so a concurrent overwrite either lands before (its blob is the one deleted) or after the delete.
        rows = list(
            StoredObject.objects.select_for_update().filter(bucket=bucket, key__in=keys).values_list("pk", "blob")
        )
        StoredObject.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        for _, blob in rows:
            transaction.on_commit(partial(blob_store().delete, blob))


# -- tagging and ACL ------------------------------------------------------------------------------


def put_object_tagging(request: Request) -> Response:
    common.require_signed(request)
    bucket, obj = stored.readable_object(request)
    _update(obj, tags=_tagging_document(stored.small_body(request)))
    return Response(200, stored.version_headers(bucket, obj))


def _tagging_document(body: bytes) -> list[list[str]]:
    try:
        root = xml.parse(body)
    except xml.XmlError:
        raise errors.malformed_xml() from None
    tag_set = root.find("TagSet")
    if root.tag != "Tagging" or tag_set is None:
        raise errors.malformed_xml()
    return common.validate_tags(
        [(xml.text(tag, "Key", ""), xml.text(tag, "Value", "")) for tag in tag_set.findall("Tag")]
    )


def get_object_tagging(request: Request) -> Response:
    bucket, obj = stored.readable_object(request)
    tags = [("Tag", [("Key", key), ("Value", value)]) for key, value in obj.tags]
    return xml_response(xml.document("Tagging", [("TagSet", tags)]), headers=stored.version_headers(bucket, obj))


def delete_object_tagging(request: Request) -> Response:
    common.require_signed(request)
    bucket, obj = stored.readable_object(request)
    _update(obj, tags=[])
    return Response(204, stored.version_headers(bucket, obj))


def put_object_acl(request: Request) -> Response:
    common.require_signed(request)
    bucket, obj = stored.readable_object(request)
    acl = common.acl_header(request, "x-oss-object-acl", common.OBJECT_ACLS, "")
    if not acl:
        raise errors.invalid_argument("The x-oss-object-acl header is required.", "x-oss-object-acl")
    _update(obj, acl=acl)
    return Response(200, stored.version_headers(bucket, obj))


def get_object_acl(request: Request) -> Response:
    bucket, obj = stored.readable_object(request)
    body = xml.document(
        "AccessControlPolicy",
        [("Owner", listing.OWNER), ("AccessControlList", [("Grant", obj.acl)])],
    )
    return xml_response(body, headers=stored.version_headers(bucket, obj))


def _update(obj: StoredObject, **fields) -> None:
    """Change attributes that are not data; an overwrite keeps the row, so they follow the object's key."""
    if not StoredObject.objects.filter(pk=obj.pk).update(**fields):
        raise errors.no_such_key(obj.key)
