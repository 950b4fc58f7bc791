"""What the object operations share: key checks, new-object attributes, committing rows over fresh blobs,
and reading an object's plaintext back."""

import base64
import binascii
import hashlib
import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator
from functools import partial

from django.db import IntegrityError, transaction

from localcloud import blobs, crypto, errors, sse, xml
from localcloud.models import Bucket, StoredObject
from localcloud.oss import common
from localcloud.oss.http import Request
from localcloud.storage import blob_store

MAX_CONTENT_TYPE = StoredObject._meta.get_field("content_type").max_length
MAX_VERSION_ID = StoredObject._meta.get_field("version_id").max_length
VERSION_PARAM = "versionId"
VERSION_HEADER = "x-oss-version-id"
DELETE_MARKER_HEADER = "x-oss-delete-marker"
NULL_VERSION = "null"
ENABLED, SUSPENDED = "Enabled", "Suspended"


class SourceChanged(Exception):
    """The object was replaced by a concurrent write after this request read its row."""


def check_key(key: str) -> None:
    # NUL is valid UTF-8, but PostgreSQL text columns refuse it: without this check it would be a 500.
    common.validate_key(key)
    if "\0" in key:
        raise errors.OssError(400, "InvalidObjectName", "The specified object is not valid.")


def refuse_control_characters(request: Request) -> None:
    """Stored headers are written back in answers (and PostgreSQL text takes no NUL): a CR, LF or other
    control character in one would split or corrupt a later response, so it is refused up front."""
    for name, value in request.headers.items():
        if common.CONTROL_CHARACTERS.search(value):
            raise errors.invalid_argument(f"The {name} header holds a control character.", name)


def find_object(bucket: Bucket, key: str) -> StoredObject | None:
    """The key's current version; None when there is none or it is a delete marker."""
    if "\0" in key:  # no stored key holds one (check_key refuses them), and PostgreSQL cannot even compare with it
        return None
    return StoredObject.objects.filter(bucket=bucket, key=key, is_latest=True, is_delete_marker=False).first()


def requested_version(request: Request) -> str | None:
    """The versionId a request names, None without one."""
    version_id = request.params.get(VERSION_PARAM)
    if version_id is not None:
        check_version_id(version_id)
    return version_id


def check_version_id(version_id: str) -> None:
    """No stored version id is empty, longer than its column or holds what XML (or PostgreSQL: NUL) cannot carry."""
    if not version_id or len(version_id) > MAX_VERSION_ID or not xml.carries(version_id) or "\0" in version_id:
        raise errors.invalid_argument("Invalid version id specified", VERSION_PARAM, xml.xml_safe(version_id))


def find_version(bucket: Bucket, key: str, version_id: str) -> StoredObject | None:
    if "\0" in key:
        return None
    return StoredObject.objects.filter(bucket=bucket, key=key, version_id=version_id).first()


def no_such_version(version_id: str) -> errors.OssError:
    return errors.OssError(404, "NoSuchVersion", "The specified version does not exist.", VersionId=version_id)


def no_such_key(bucket: Bucket, key: str) -> errors.OssError:
    """NoSuchKey; when the key's current version is a delete marker, the answer says so, as OSS's does."""
    error = errors.no_such_key(key)
    if bucket.versioning and "\0" not in key:
        marker = StoredObject.objects.filter(bucket=bucket, key=key, is_latest=True, is_delete_marker=True).first()
        if marker is not None:
            error.headers.update(delete_marker_headers(marker))
    return error


def delete_marker_headers(marker: StoredObject) -> dict[str, str]:
    return {DELETE_MARKER_HEADER: "true", VERSION_HEADER: marker.version_id}


def version_headers(bucket: Bucket, obj: StoredObject) -> dict[str, str]:
    """x-oss-version-id, which OSS sends for objects of a bucket whose versioning was ever set."""
    return {VERSION_HEADER: obj.version_id} if bucket.versioning else {}


def readable_object(request: Request) -> tuple[Bucket, StoredObject]:
    """The bucket and object (the version named by versionId, else the current one) a request names, once the
    caller may see it (AccessDenied before NoSuchKey)."""
    bucket = common.get_bucket(request)
    check_key(request.key)
    version_id = requested_version(request)
    if version_id is None:
        obj = find_object(bucket, request.key)
    else:
        obj = find_version(bucket, request.key, version_id)
    common.authorize(request, bucket, obj)
    if obj is None:
        raise no_such_key(bucket, request.key) if version_id is None else no_such_version(version_id)
    if obj.is_delete_marker:
        raise errors.OssError(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            headers=delete_marker_headers(obj),
        )
    return bucket, obj


def forbids_overwrite(request: Request) -> bool:
    return request.headers.get("x-oss-forbid-overwrite", "").lower() == "true"


def file_exists() -> errors.OssError:
    return errors.OssError(
        409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten."
    )


def refuse_existing(current: StoredObject | None) -> None:
    if current is not None:
        raise file_exists()


def content_attributes(request: Request) -> dict:
    """Content-Type, the other content headers and x-oss-meta-* of a request, as stored columns."""
    content_type, headers = common.content_headers(request)
    if len(content_type) > MAX_CONTENT_TYPE:
        raise errors.invalid_argument("The Content-Type is too long.", "Content-Type")
    return {"content_type": content_type, "content_headers": headers, "user_meta": common.user_meta(request)}


def new_object_attributes(request: Request, bucket: Bucket) -> dict:
    """Every attribute a creating request (PutObject, the first append) sets besides the data."""
    return {
        **content_attributes(request),
        "storage_class": common.storage_class_header(request, bucket.storage_class),
        "acl": common.acl_header(request, "x-oss-object-acl", common.OBJECT_ACLS, "default"),
        "tags": common.tags_from_header(request),
    }


def content_md5_of(written: blobs.Written) -> str:
    return base64.b64encode(written.md5).decode()


def checked(request: Request, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """`chunks` of the request body, checked once complete against its Content-MD5 and, for V4 requests that sign
    the payload, its x-oss-content-sha256; a mismatch raises before the caller commits anything."""
    expected_md5 = request.headers.get("content-md5")
    expected_sha256 = request.identity.content_sha256 if request.identity else None
    md5 = hashlib.md5() if expected_md5 is not None else None
    sha256 = hashlib.sha256() if expected_sha256 else None
    for chunk in chunks:
        for digest in (md5, sha256):
            if digest:
                digest.update(chunk)
        yield chunk
    if md5:
        _check_content_md5(expected_md5, md5.digest())
    if sha256 and sha256.hexdigest() != expected_sha256.lower():
        raise errors.OssError(400, "InvalidDigest", "The x-oss-content-sha256 you specified did not match the body.")


def _check_content_md5(expected: str, digest: bytes) -> None:
    try:
        decoded = base64.b64decode(expected, validate=True)
    except binascii.Error:
        raise errors.invalid_digest() from None
    if decoded != digest:
        raise errors.invalid_digest()


def small_body(request: Request) -> bytes:
    """A whole (XML) body, checked like any other."""
    return b"".join(checked(request, [request.small_body()]))


def commit_row(
    bucket: Bucket, key: str, fields: dict, check: Callable | None = None, *, keep_version: bool = False
) -> StoredObject:
    """Write `fields` as the current version of (bucket, key); `check(current version or None)` runs under the
    row lock and may refuse. A bucket never versioned, or a Suspended one, replaces the `null` version; an Enabled
    one adds a version, unless `keep_version` (an append) rewrites the current one. A blob no row names any more
    is deleted once the transaction commits."""
    try:
        return _upsert(bucket, key, fields, check, keep_version)
    except IntegrityError:
        # Two requests created the same key at once; a second attempt finds the winner's row and replaces it.
        return _upsert(bucket, key, fields, check, keep_version)


def new_version_id() -> str:
    return uuid.uuid4().hex.upper()


def target_version(bucket: Bucket) -> str:
    return new_version_id() if bucket.versioning == ENABLED else NULL_VERSION


def lock_current(bucket: Bucket, key: str) -> StoredObject | None:
    """The key's current version (a delete marker included), locked until the transaction ends."""
    return StoredObject.objects.select_for_update().filter(bucket=bucket, key=key, is_latest=True).first()


def _upsert(bucket: Bucket, key: str, fields: dict, check: Callable | None, keep_version: bool) -> StoredObject:
    with transaction.atomic():
        current = lock_current(bucket, key)
        if check:
            check(None if current is None or current.is_delete_marker else current)
        version_id = current.version_id if keep_version and current else target_version(bucket)
        if current is not None and current.version_id == version_id:
            return _rewrite(current, {**fields, "is_delete_marker": False})
        return add_version(bucket, key, current, version_id, fields)


def _rewrite(current: StoredObject, fields: dict) -> StoredObject:
    replaced = current.blob
    for name, value in fields.items():
        setattr(current, name, value)
    current.save()
    if replaced and replaced != current.blob:
        transaction.on_commit(lambda: blob_store().delete(replaced))
    return current


def add_version(bucket: Bucket, key: str, current: StoredObject | None, version_id: str, fields: dict) -> StoredObject:
    """A new current version of the key, inside the caller's transaction with `current` locked: the old current
    version becomes noncurrent, and a new `null` version replaces the old one (and its blob)."""
    if current is not None:
        StoredObject.objects.filter(pk=current.pk).update(is_latest=False)
    if version_id == NULL_VERSION and bucket.versioning:
        delete_rows(StoredObject.objects.filter(bucket=bucket, key=key, version_id=NULL_VERSION))
    return StoredObject.objects.create(bucket=bucket, key=key, version_id=version_id, **fields)


def delete_rows(rows) -> list[StoredObject]:
    """Delete the rows (locked first) and, once the transaction commits, their blobs."""
    doomed = list(rows.select_for_update())
    StoredObject.objects.filter(pk__in=[row.pk for row in doomed]).delete()
    for row in doomed:
        if row.blob:
            transaction.on_commit(partial(blob_store().delete, row.blob))
    return doomed


def commit_new_blob(
    bucket: Bucket, key: str, fields: dict, check: Callable | None = None, *, keep_version: bool = False
) -> StoredObject:
    """commit_row for a freshly written blob, which is deleted again if the row is not written."""
    try:
        return commit_row(bucket, key, fields, check, keep_version=keep_version)
    except BaseException:
        blob_store().delete(fields["blob"])
        raise


def unchanged_since(obj: StoredObject) -> Callable:
    """A commit check: the row still names the blob this request read."""

    def check(current: StoredObject | None) -> None:
        if current is None or current.blob != obj.blob:
            raise SourceChanged

    return check


def retry_once(operation: Callable, request: Request):
    """Run `operation` again from a fresh read of the rows when a concurrent write replaced the object it was
    reading (its blob was deleted, or the row moved on); only for operations that have not consumed a body.
    A blob still missing the second time is lost data, not a race, and stays an internal error."""
    try:
        return operation(request)
    except (FileNotFoundError, SourceChanged):
        pass
    try:
        return operation(request)
    except SourceChanged:
        raise errors.OssError(
            409, "OperationAborted", "A conflicting operation is in progress against this object. Please try again."
        ) from None


def plaintext(bucket: Bucket, obj: StoredObject, *, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """The object's bytes start..end (inclusive). The data key is opened and the first chunk read now, so a refused
    key is a clean 403 and a blob deleted since the row was read raises FileNotFoundError here, not mid-response."""
    data_key = blobs.prepare_read(obj, bucket=bucket, key=obj.key)
    if obj.size == 0:
        return iter(())
    chunks = _integrity_checked(blobs.read(obj, data_key, bucket=bucket, key=obj.key, start=start, end=end))
    first = next(chunks)
    return itertools.chain((first,), chunks)


def _integrity_checked(chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from chunks
    except crypto.IntegrityError:
        raise errors.OssError(500, "InternalError", "The object's stored data failed its integrity check.") from None


def write_headers(obj: StoredObject) -> dict[str, str]:
    """What a write (PutObject, CopyObject, AppendObject) answers with: ETag, CRC64 and the SSE."""
    return {"ETag": f'"{obj.etag}"', "x-oss-hash-crc64ecma": obj.crc64, **sse.response_headers(obj)}
