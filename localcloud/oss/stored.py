"""What the object operations share: key checks, new-object attributes, committing rows over fresh blobs,
and reading an object's plaintext back."""

import base64
import binascii
import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator

from django.db import IntegrityError, transaction

from localcloud import blobs, crypto, errors, sse
from localcloud.models import Bucket, StoredObject
from localcloud.oss import common
from localcloud.oss.http import Request
from localcloud.storage import blob_store

MAX_CONTENT_TYPE = StoredObject._meta.get_field("content_type").max_length


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
    if "\0" in key:  # no stored key holds one (check_key refuses them), and PostgreSQL cannot even compare with it
        return None
    return StoredObject.objects.filter(bucket=bucket, key=key).first()


def readable_object(request: Request) -> tuple[Bucket, StoredObject]:
    """The bucket and object a request names, once the caller may see it (AccessDenied before NoSuchKey)."""
    bucket = common.get_bucket(request)
    check_key(request.key)
    obj = find_object(bucket, request.key)
    common.authorize(request, bucket, obj)
    if obj is None:
        raise errors.no_such_key(request.key)
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


def commit_row(bucket: Bucket, key: str, fields: dict, check: Callable | None = None) -> StoredObject:
    """Create or update the row of (bucket, key); `check(current row or None)` runs under the row lock and may
    refuse. A blob the row stops naming is deleted once the transaction commits."""
    try:
        return _upsert(bucket, key, fields, check)
    except IntegrityError:
        # Two requests created the same key at once; a second attempt finds the winner's row and replaces it.
        return _upsert(bucket, key, fields, check)


def _upsert(bucket: Bucket, key: str, fields: dict, check: Callable | None) -> StoredObject:
    with transaction.atomic():
        current = StoredObject.objects.select_for_update().filter(bucket=bucket, key=key).first()
        if check:
            check(current)
        if current is None:
            return StoredObject.objects.create(bucket=bucket, key=key, **fields)
        replaced = current.blob
        for name, value in fields.items():
            setattr(current, name, value)
        current.save()
        if replaced != current.blob:
            transaction.on_commit(lambda: blob_store().delete(replaced))
        return current


def commit_new_blob(bucket: Bucket, key: str, fields: dict, check: Callable | None = None) -> StoredObject:
    """commit_row for a freshly written blob, which is deleted again if the row is not written."""
    try:
        return commit_row(bucket, key, fields, check)
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
