"""CopyObject (oss-api.md §6.7) and update_object_meta (§6.8).

The destination's SSE comes from the copy request, else the destination bucket's default, never from the source.
A copy onto itself is the re-encryption primitive of design.md §7: it rewrites only the row when neither SSE nor
storage class changes, and otherwise re-encrypts the data under a new data key into a new blob.

OSS copies an object of any size within its bucket when neither SSE nor storage class changes; any other copy of
a source above 5 GiB (LOCALCLOUD_COPY_LIMIT_BYTES) it refuses, and multipart copy (UploadPartCopy) must do it.
"""

from types import SimpleNamespace
from urllib.parse import unquote_to_bytes

from django.conf import settings

from localcloud import blobs, errors, keystore, sse, xml
from localcloud.models import Bucket, StoredObject
from localcloud.oss import common, permissions, stored
from localcloud.oss.http import Request, Response, iso_time, now_seconds, xml_response
from localcloud.sse import SseChoice

COPY_SOURCE = "x-oss-copy-source"
DIRECTIVES = ("COPY", "REPLACE")


def copy_object(request: Request) -> Response:
    # No body to consume, so a copy that lost a race with an overwrite can start again from the newer row.
    return stored.retry_once(_copy_object, request)


def _copy_object(request: Request) -> Response:
    bucket = common.get_bucket(request)
    stored.check_key(request.key)
    destination = stored.find_object(bucket, request.key)
    common.authorize(request, bucket, destination)
    source_bucket, source = copy_source(request, bucket, destination)
    common.check_conditions(request, source, prefix="x-oss-copy-source-")
    # An older version copied onto its key is a new current version with that content, not a copy onto itself.
    onto_itself = source_bucket.pk == bucket.pk and source.key == request.key and source.is_latest
    attributes = _attributes(request, bucket, source, onto_itself)
    choice = sse.for_new_object(request.headers, bucket)
    permissions.require_decrypt(request, source_bucket, source)
    permissions.require_data_key(request, bucket, choice)
    _check_size(bucket, source_bucket, source, choice, attributes)
    if onto_itself:
        obj = _copy_onto_itself(bucket, source, choice, attributes)
    else:
        obj = _copy_to(request, bucket, destination, source_bucket, source, choice, attributes)
    body = xml.document("CopyObjectResult", [("ETag", f'"{obj.etag}"'), ("LastModified", iso_time(obj.last_modified))])
    return xml_response(body, headers={**stored.write_headers(obj), **stored.version_headers(bucket, obj)})


def copy_source(
    request: Request, bucket: Bucket | None = None, destination: StoredObject | None = None
) -> tuple[Bucket, StoredObject]:
    """The bucket and object named by `/<bucket>/<percent-encoded key>[?versionId=…]`, once the caller may read it.
    The request's own `bucket` and its `destination` row, already read, are not read again when the source is one
    of them (a copy onto itself, the job's every copy)."""
    raw = request.headers[COPY_SOURCE]
    path, _, version_id = raw.partition("?versionId=")
    if version_id:
        stored.check_version_id(version_id)
    bucket_name, _, quoted_key = path.removeprefix("/").partition("/")
    try:
        # Plain percent-decoding: a '+' in the key stays a '+'.
        key = unquote_to_bytes(quoted_key.encode("latin-1")).decode("utf-8")
    except UnicodeDecodeError:
        key = ""
    if not bucket_name or not key:
        raise errors.invalid_argument("The copy source must name a bucket and a key.", COPY_SOURCE, raw)
    stored.check_key(key)
    if bucket is not None and bucket.name == bucket_name:
        source_bucket = bucket
    else:
        source_bucket = Bucket.objects.filter(name=bucket_name).first()
    if source_bucket is None:
        raise errors.no_such_bucket(bucket_name)
    if version_id:
        source = stored.find_version(source_bucket, key, version_id)
    elif destination is not None and source_bucket is bucket and destination.key == key:
        source = destination
    else:
        source = stored.find_object(source_bucket, key)
    # Reading the source needs what a GET of it would need, whatever the copy request's own method.
    common.authorize(SimpleNamespace(anonymous=request.anonymous, method="GET"), source_bucket, source)
    if source is None:
        raise stored.no_such_version(version_id) if version_id else errors.no_such_key(key)
    if source.is_delete_marker:
        raise errors.OssError(
            400,
            "InvalidArgument",
            "The version-id of the x-oss-copy-source can not be delete marker.",
            ec="0016-00000307",
            ArgumentName=COPY_SOURCE,
        )
    return source_bucket, source


def _directive(request: Request, name: str) -> str:
    value = request.headers.get(name, "COPY")
    if value.upper() not in DIRECTIVES:
        raise errors.invalid_argument(f"{name} must be COPY or REPLACE.", name, value)
    return value.upper()


def _attributes(request: Request, bucket: Bucket, source: StoredObject, onto_itself: bool) -> dict:
    """Content headers and meta by x-oss-metadata-directive, tags by x-oss-tagging-directive; storage class and
    ACL from the request, else kept by a copy onto itself and the destination's defaults for a new object."""
    if _directive(request, "x-oss-metadata-directive") == "REPLACE":
        content = stored.content_attributes(request)
    else:
        content = {
            "content_type": source.content_type,
            "content_headers": source.content_headers,
            "user_meta": source.user_meta,
        }
    replace_tags = _directive(request, "x-oss-tagging-directive") == "REPLACE"
    storage_class = source.storage_class if onto_itself else bucket.storage_class
    acl = source.acl if onto_itself else "default"
    return {
        **content,
        "tags": common.tags_from_header(request) if replace_tags else source.tags,
        "storage_class": common.storage_class_header(request, storage_class),
        "acl": common.acl_header(request, "x-oss-object-acl", common.OBJECT_ACLS, acl),
    }


def _copy_onto_itself(bucket: Bucket, obj: StoredObject, choice: SseChoice, attributes: dict) -> StoredObject:
    """x-oss-forbid-overwrite does not apply (OSS overwrites an object copied onto itself). The commit refuses if
    the object was overwritten meanwhile, so a concurrent write is never clobbered with older content. In a
    versioned bucket the copy is a new version, which never shares its blob with another."""
    fields = {**attributes, "last_modified": now_seconds()}
    unchanged = stored.unchanged_since(obj)
    same_sealing = attributes["storage_class"] == obj.storage_class and _same_sse(choice, obj, bucket.region)
    if same_sealing and not bucket.versioning:
        return stored.commit_row(bucket, obj.key, fields, unchanged)
    written = blobs.write(stored.plaintext(bucket, obj), choice=choice, bucket=bucket, key=obj.key)
    # Same content: the object keeps its type, ETag and Content-MD5.
    same_content = {"etag": obj.etag, "object_type": obj.object_type, "content_md5": obj.content_md5}
    return stored.commit_new_blob(bucket, obj.key, {**written.fields(), **fields, **same_content}, unchanged)


def _check_size(bucket: Bucket, source_bucket: Bucket, source: StoredObject, choice: SseChoice, attributes) -> None:
    """Refuse, as OSS does, a copy that writes the data anew (into another bucket, or with another SSE or storage
    class) of a source above the limit. The message is OSS's answer to such a copy; the code is assumed from that
    wording, S3's EntityTooLarge one."""
    if source.size <= settings.LOCALCLOUD_COPY_LIMIT_BYTES:
        return
    changes_class = attributes["storage_class"] != source.storage_class
    if source_bucket.pk != bucket.pk or changes_class or not _same_sse(choice, source, bucket.region):
        raise errors.OssError(400, "EntityTooLarge", "Source object Length exceeds the maximum allowed size.")


def _same_sse(choice: SseChoice, obj: StoredObject, region: str) -> bool:
    if choice.algorithm == "KMS" and not choice.kms_key_id:
        # Objects record the default CMK by its id.
        choice = SseChoice("KMS", keystore.default_key(region).key_id, choice.data_encryption)
    return choice == SseChoice(obj.sse_algorithm, obj.sse_kms_key_id, obj.sse_data_encryption)


def _copy_to(
    request: Request,
    bucket: Bucket,
    destination: StoredObject | None,
    source_bucket: Bucket,
    source: StoredObject,
    choice: SseChoice,
    attributes: dict,
) -> StoredObject:
    """A new Normal object with the source's plaintext, sealed for its own bucket and key; it keeps the ETag."""
    forbid = stored.forbids_overwrite(request)
    if forbid and destination:
        raise stored.file_exists()
    written = blobs.write(stored.plaintext(source_bucket, source), choice=choice, bucket=bucket, key=request.key)
    fields = {
        **written.fields(),
        **attributes,
        "etag": source.etag,
        "object_type": "Normal",
        "last_modified": now_seconds(),
        "content_md5": stored.content_md5_of(written),
    }
    return stored.commit_new_blob(bucket, request.key, fields, stored.refuse_existing if forbid else None)
