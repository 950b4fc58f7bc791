"""AppendObject (oss-api.md §6.13).

Every append writes the whole object again, the old plaintext then the new bytes, under a new data key into a
new blob: a data key and nonce never seal two different contents, and a reader never sees half an append.
"""

import itertools
import re

from localcloud import blobs, errors, sse
from localcloud.models import Bucket, StoredObject
from localcloud.oss import common, permissions, stored
from localcloud.oss.http import Request, Response, now_seconds
from localcloud.sse import SseChoice

_POSITION = re.compile(r"^[0-9]+$")


def append_object(request: Request) -> Response:
    stored.refuse_control_characters(request)
    # A blob that vanished under a concurrent append is noticed before the body is read, so retrying is safe.
    return stored.retry_once(_append_object, request)


def _append_object(request: Request) -> Response:
    bucket = common.get_bucket(request)
    stored.check_key(request.key)
    position = _position(request)
    obj = stored.find_object(bucket, request.key)
    common.authorize(request, bucket, obj)
    _check_position(obj, position)
    obj = _create(request, bucket) if obj is None else _extend(request, bucket, obj)
    headers = {**stored.write_headers(obj), **stored.version_headers(bucket, obj)}
    return Response(200, {**headers, "x-oss-next-append-position": str(obj.size)})


def _position(request: Request) -> int:
    value = request.params.get("position", "")
    if not _POSITION.match(value):
        raise errors.invalid_argument("position must be a non-negative integer.", "position", value)
    return int(value)


def _check_position(obj: StoredObject | None, position: int) -> None:
    if obj is not None and obj.object_type != "Appendable":
        raise errors.OssError(409, "ObjectNotAppendable", "The object is not appendable")
    length = obj.size if obj else 0
    if position != length:
        raise _position_mismatch(length)


def _position_mismatch(length: int) -> errors.OssError:
    # oss2 builds PositionNotEqualToLength from this header and fails without it.
    return errors.OssError(
        409,
        "PositionNotEqualToLength",
        "Position is not equal to file length",
        headers={"x-oss-next-append-position": str(length)},
    )


def _create(request: Request, bucket: Bucket) -> StoredObject:
    """The first append fixes the object's SSE, metadata, tags and ACL."""
    attributes = stored.new_object_attributes(request, bucket)
    choice = sse.for_new_object(request.headers, bucket)
    permissions.require_data_key(request, bucket, choice)
    written = blobs.write(stored.checked(request, request.body_chunks()), choice=choice, bucket=bucket, key=request.key)
    fields = {**written.fields(), **attributes, "object_type": "Appendable", "last_modified": now_seconds()}
    return stored.commit_new_blob(bucket, request.key, fields, _still_at(None, 0))


def _extend(request: Request, bucket: Bucket, obj: StoredObject) -> StoredObject:
    """Later appends take only the body from the request; everything else stays as the first append set it, the
    version id included (an append rewrites the current version rather than add one, as on OSS)."""
    choice = SseChoice(obj.sse_algorithm, obj.sse_kms_key_id, obj.sse_data_encryption)
    permissions.require_data_key(request, bucket, choice)
    chunks = itertools.chain(stored.plaintext(bucket, obj), stored.checked(request, request.body_chunks()))
    written = blobs.write(chunks, choice=choice, bucket=bucket, key=obj.key)
    fields = {**written.fields(), "last_modified": now_seconds()}
    return stored.commit_new_blob(bucket, obj.key, fields, _still_at(obj.blob, obj.size), keep_version=True)


def _still_at(blob: str | None, position: int):
    """A commit check: the object is still the one this append extended; if another write got there first, the
    client learns the length it left behind."""

    def check(current: StoredObject | None) -> None:
        _check_position(current, position)
        if current is not None and current.blob != blob:
            raise _position_mismatch(current.size)

    return check
