"""Multipart upload (oss-api.md §7): Initiate, UploadPart, UploadPartCopy, Complete, Abort and the two listings.

The upload's SSE is fixed at Initiate. Each part is sealed at rest under its own data key; Complete streams
the listed parts' plaintext into ONE new blob under a fresh data key, so a completed object reads like any
other and the part blobs can go.
"""

import hashlib
import re
import uuid
from functools import partial
from itertools import pairwise

from django.db import transaction

from localcloud import blobs, crypto, errors, keystore, sse, xml
from localcloud.models import Bucket, MultipartUpload, UploadPart
from localcloud.oss import common, copy, listing, permissions, stored
from localcloud.oss.http import Request, Response, iso_time, now_seconds, xml_response
from localcloud.sse import SseChoice
from localcloud.storage import blob_store

MAX_PART_NUMBER = 10000
MIN_PART_SIZE = 102400
MAX_LIST = 1000
_NUMBER = re.compile(r"^[0-9]{1,5}$")
_COPY_RANGE = re.compile(r"^bytes=([0-9]+)-([0-9]*)$")


# -- Initiate ---------------------------------------------------------------------------------------


def initiate_multipart_upload(request: Request) -> Response:
    stored.refuse_control_characters(request)
    bucket = common.get_bucket(request)
    stored.check_key(request.key)
    common.authorize(request, bucket, stored.find_object(bucket, request.key))
    forbid_overwrite = stored.forbids_overwrite(request)
    if forbid_overwrite and stored.find_object(bucket, request.key):
        raise stored.file_exists()
    choice = _resolved_sse(request, bucket)
    permissions.require_data_key(request, bucket, choice)
    upload = MultipartUpload.objects.create(
        bucket=bucket,
        key=request.key,
        upload_id=uuid.uuid4().hex.upper(),
        initiated=now_seconds(),
        forbid_overwrite=forbid_overwrite,
        **stored.new_object_attributes(request, bucket),
        **_sse_fields(choice),
    )
    encoded, key = _key_text(request, upload.key)
    body = xml.document(
        "InitiateMultipartUploadResult",
        [_encoding_element(encoded), ("Bucket", bucket.name), ("Key", key), ("UploadId", upload.upload_id)],
    )
    return xml_response(body, headers=sse.response_headers(upload))


def _resolved_sse(request: Request, bucket: Bucket) -> SseChoice:
    """The upload's SSE; for KMS the CMK is checked now and the default CMK's id recorded, so every
    part and the final object use the key the Initiate response named."""
    choice = sse.for_new_object(request.headers, bucket)
    if choice.algorithm != "KMS":
        return choice
    try:
        if choice.kms_key_id:
            cmk = keystore.find_key(choice.kms_key_id, bucket.region)
        else:
            cmk = keystore.default_key(bucket.region)
        keystore.ensure_usable(cmk, bucket.region)
    except keystore.KeyStoreError:
        raise errors.kms_forbidden() from None
    return SseChoice("KMS", choice.kms_key_id or cmk.key_id, choice.data_encryption)


def _sse_fields(choice: SseChoice) -> dict:
    return {
        "sse_algorithm": choice.algorithm,
        "sse_kms_key_id": choice.kms_key_id,
        "sse_data_encryption": choice.data_encryption,
    }


def _upload_sse(upload: MultipartUpload) -> SseChoice:
    return SseChoice(upload.sse_algorithm, upload.sse_kms_key_id, upload.sse_data_encryption)


# -- UploadPart and UploadPartCopy ------------------------------------------------------------------


def upload_part(request: Request) -> Response:
    """PUT ?partNumber&uploadId: the body, or with x-oss-copy-source (UploadPartCopy, which shares this route)
    a slice of another object."""
    if copy.COPY_SOURCE in request.headers:
        return stored.retry_once(_upload_part_copy, request)
    bucket, upload, number = _part_target(request)
    part = _store_part(bucket, upload, number, stored.checked(request, request.body_chunks()))
    return Response(200, stored.write_headers(part))


def _upload_part_copy(request: Request) -> Response:
    bucket, upload, number = _part_target(request)
    source_bucket, source = copy.copy_source(request)
    common.check_conditions(request, source, prefix="x-oss-copy-source-")
    permissions.require_decrypt(request, source_bucket, source)
    start, end = _copy_range(request, source.size)
    part = _store_part(bucket, upload, number, stored.plaintext(source_bucket, source, start=start, end=end))
    body = xml.document("CopyPartResult", [("LastModified", iso_time(part.last_modified)), ("ETag", f'"{part.etag}"')])
    return xml_response(body, headers={"ETag": f'"{part.etag}"', **sse.response_headers(part)})


def _part_target(request: Request) -> tuple[Bucket, MultipartUpload, int]:
    number = _part_number(request)
    sse.reject_headers(request.headers)
    bucket = common.get_bucket(request)
    common.authorize(request, bucket, stored.find_object(bucket, request.key))
    upload = _get_upload(bucket, request)
    permissions.require_data_key(request, bucket, _upload_sse(upload))
    return bucket, upload, number


def _part_number(request: Request) -> int:
    value = request.params.get("partNumber", "")
    if not _NUMBER.match(value) or not 1 <= int(value) <= MAX_PART_NUMBER:
        raise errors.invalid_argument("Part number must be an integer between 1 and 10000.", "partNumber", value)
    return int(value)


def _get_upload(bucket: Bucket, request: Request) -> MultipartUpload:
    upload_id = request.params.get("uploadId", "")
    if not xml.carries(upload_id):
        # No upload id holds such a character, and the error XML could not carry it as it is.
        raise errors.no_such_upload(listing.url_encoded(upload_id))
    upload = None
    if "\0" not in request.key:  # no upload's key holds NUL, and PostgreSQL could not even compare with one
        upload = MultipartUpload.objects.filter(bucket=bucket, key=request.key, upload_id=upload_id).first()
    if upload is None:
        raise errors.no_such_upload(upload_id)
    return upload


def _part_identity(upload: MultipartUpload, number: int) -> str:
    """The name a part's blob is sealed under: unique per part, so part blobs cannot be swapped."""
    return f"{upload.key}\0{upload.upload_id}\0{number}"


def _store_part(bucket: Bucket, upload: MultipartUpload, number: int, chunks) -> UploadPart:
    written = blobs.write(chunks, choice=_upload_sse(upload), bucket=bucket, key=_part_identity(upload, number))
    try:
        with transaction.atomic():
            _lock_upload(upload)
            replaced = UploadPart.objects.filter(upload=upload, part_number=number).values_list("blob", flat=True)
            for blob in replaced:
                transaction.on_commit(partial(blob_store().delete, blob))
            part, _ = UploadPart.objects.update_or_create(
                upload=upload, part_number=number, defaults={**written.fields(), "last_modified": now_seconds()}
            )
    except BaseException:
        blob_store().delete(written.blob)
        raise
    return part


def _lock_upload(upload: MultipartUpload) -> None:
    """Hold the upload row for this transaction; an upload aborted or completed meanwhile is gone."""
    if MultipartUpload.objects.select_for_update().filter(pk=upload.pk).first() is None:
        raise errors.no_such_upload(upload.upload_id)


def _copy_range(request: Request, size: int) -> tuple[int, int]:
    """(start, inclusive end) of x-oss-copy-source-range `bytes=a-b` or `bytes=a-`; the whole object without."""
    value = request.headers.get("x-oss-copy-source-range")
    if value is None:
        return 0, size - 1
    match = _COPY_RANGE.match(value.strip())
    if match is None:
        raise errors.invalid_argument("The copy range is not valid.", "x-oss-copy-source-range", value)
    start = int(match[1])
    end = int(match[2]) if match[2] else size - 1
    if not start <= end < size:
        raise errors.invalid_argument("The copy range is not satisfiable.", "x-oss-copy-source-range", value)
    return start, end


# -- Complete ---------------------------------------------------------------------------------------


def complete_multipart_upload(request: Request) -> Response:
    sse.reject_headers(request.headers)
    bucket = common.get_bucket(request)
    common.authorize(request, bucket, stored.find_object(bucket, request.key))
    upload = _get_upload(bucket, request)
    permissions.require_data_key(request, bucket, _upload_sse(upload))
    parts = _parts_to_complete(request, upload)
    # Initiate's x-oss-forbid-overwrite still holds at Complete, which may also ask for it itself.
    forbid = upload.forbid_overwrite or stored.forbids_overwrite(request)
    if forbid and stored.find_object(bucket, upload.key):
        raise stored.file_exists()
    acl = common.acl_header(request, "x-oss-object-acl", common.OBJECT_ACLS, upload.acl)
    written = _concatenate(bucket, upload, parts)
    try:
        obj = _commit_object(bucket, upload, parts, _object_fields(upload, parts, written, acl), forbid)
    except BaseException:
        blob_store().delete(written.blob)
        raise
    encoded, key = _key_text(request, obj.key)
    location = request.object_url(obj.key)
    body = xml.document(
        "CompleteMultipartUploadResult",
        [
            _encoding_element(encoded),
            ("Location", location),
            ("Bucket", bucket.name),
            ("Key", key),
            ("ETag", f'"{obj.etag}"'),
        ],
    )
    return xml_response(body, headers={**stored.write_headers(obj), **stored.version_headers(bucket, obj)})


def _parts_to_complete(request: Request, upload: MultipartUpload) -> list[UploadPart]:
    """The listed parts (or, with x-oss-complete-all: yes, every part), validated in §7.4's order."""
    uploaded = {part.part_number: part for part in upload.parts.all()}
    listed = _requested_parts(request, uploaded)
    numbers = [number for number, _ in listed]
    if any(later <= earlier for earlier, later in pairwise(numbers)):
        raise errors.OssError(
            400,
            "InvalidPartOrder",
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
        )
    parts = [_matching_part(uploaded, number, etag) for number, etag in listed]
    if not parts:
        raise _invalid_part(None)
    _check_part_sizes(parts)
    return parts


def _requested_parts(request: Request, uploaded: dict[int, UploadPart]) -> list[tuple[int, str]]:
    """(number, ETag) pairs from the XML body, or every uploaded part for x-oss-complete-all: yes."""
    complete_all = request.headers.get("x-oss-complete-all")
    body = stored.small_body(request)
    if complete_all is None:
        return _listed_parts(body)
    if complete_all.lower() != "yes" or body.strip():
        raise errors.invalid_argument(
            "x-oss-complete-all must be yes and comes without a part list.", "x-oss-complete-all", complete_all
        )
    return [(number, uploaded[number].etag) for number in sorted(uploaded)]


def _check_part_sizes(parts: list[UploadPart]) -> None:
    small = next((part for part in parts[:-1] if part.size < MIN_PART_SIZE), None)
    if small is not None:
        raise errors.OssError(
            400,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size.",
            PartNumber=small.part_number,
            MinSizeAllowed=MIN_PART_SIZE,
            ProposedSize=small.size,
        )


def _listed_parts(body: bytes) -> list[tuple[int, str]]:
    try:
        root = xml.parse(body)
    except xml.XmlError:
        raise errors.malformed_xml() from None
    if root.tag != "CompleteMultipartUpload":
        raise errors.malformed_xml()
    listed = []
    for element in root.findall("Part"):
        number, etag = xml.text(element, "PartNumber"), xml.text(element, "ETag")
        if number is None or etag is None or not _NUMBER.match(number.strip()):
            raise errors.malformed_xml()
        listed.append((int(number), etag.strip().strip('"')))
    if not listed:
        raise errors.malformed_xml()
    return listed


def _matching_part(uploaded: dict[int, UploadPart], number: int, etag: str) -> UploadPart:
    part = uploaded.get(number)
    if part is None or part.etag != etag.upper():
        raise _invalid_part(number)
    return part


def _invalid_part(number) -> errors.OssError:
    return errors.OssError(
        400,
        "InvalidPart",
        "One or more of the specified parts could not be found or the specified entity tag might not have "
        "matched the part's entity tag.",
        PartNumber=number,
    )


def _concatenate(bucket: Bucket, upload: MultipartUpload, parts: list[UploadPart]) -> blobs.Written:
    """One new blob holding the parts' plaintext in order, sealed under the upload's SSE with a fresh key.

    Every part's data key is opened before the first byte is written, so a key failure is a clean error."""
    keys = [blobs.prepare_read(part, bucket=bucket, key=_part_identity(upload, part.part_number)) for part in parts]

    def chunks():
        for part, data_key in zip(parts, keys, strict=True):
            yield from blobs.read(part, data_key, bucket=bucket, key=_part_identity(upload, part.part_number))

    try:
        written = blobs.write(chunks(), choice=_upload_sse(upload), bucket=bucket, key=upload.key)
    except FileNotFoundError:
        # A concurrent Abort, Complete or part re-upload deleted a part's blob while it was being read.
        if not MultipartUpload.objects.filter(pk=upload.pk).exists():
            raise errors.no_such_upload(upload.upload_id) from None
        raise _invalid_part(None) from None
    if not _matches_parts(written, parts):
        blob_store().delete(written.blob)
        raise errors.OssError(500, "InternalError", "The completed object does not match its parts.")
    return written


def _matches_parts(written: blobs.Written, parts: list[UploadPart]) -> bool:
    """The whole object's CRC is the combination of the part CRCs, as oss2 checks it on its side too."""
    expected_crc = 0
    for part in parts:
        expected_crc = crypto.combine(expected_crc, int(part.crc64), part.size)
    return written.crc64 == expected_crc and written.size == sum(part.size for part in parts)


def _multipart_etag(parts: list[UploadPart]) -> str:
    """Upper hex MD5 of the concatenated binary part MD5s, then `-<part count>` (oss-api.md §4.2)."""
    digest = hashlib.md5(b"".join(bytes.fromhex(part.etag) for part in parts))
    return f"{digest.hexdigest().upper()}-{len(parts)}"


def _commit_object(bucket: Bucket, upload: MultipartUpload, parts: list[UploadPart], fields: dict, forbid: bool):
    """Write the object's row and drop the upload in one transaction; the part blobs go once it commits."""
    with transaction.atomic():
        _lock_upload(upload)
        current = dict(UploadPart.objects.filter(upload=upload).values_list("part_number", "blob"))
        if any(current.get(part.part_number) != part.blob for part in parts):
            raise _invalid_part(None)  # a part was replaced while its old data was being read
        obj = stored.commit_row(bucket, upload.key, fields, stored.refuse_existing if forbid else None)
        upload.delete()
        for blob in current.values():
            transaction.on_commit(partial(blob_store().delete, blob))
    return obj


def _object_fields(upload: MultipartUpload, parts: list[UploadPart], written: blobs.Written, acl: str) -> dict:
    return {
        **written.fields(),
        "etag": _multipart_etag(parts),
        "object_type": "Multipart",
        "last_modified": now_seconds(),
        "content_type": upload.content_type,
        "content_headers": upload.content_headers,
        "user_meta": upload.user_meta,
        "storage_class": upload.storage_class,
        "acl": acl,
        "tags": upload.tags,
        "content_md5": "",
    }


# -- Abort ------------------------------------------------------------------------------------------


def abort_multipart_upload(request: Request) -> Response:
    bucket = common.get_bucket(request)
    common.authorize(request, bucket, stored.find_object(bucket, request.key))
    upload = _get_upload(bucket, request)
    with transaction.atomic():
        _lock_upload(upload)
        part_blobs = list(UploadPart.objects.filter(upload=upload).values_list("blob", flat=True))
        upload.delete()
        for blob in part_blobs:
            transaction.on_commit(partial(blob_store().delete, blob))
    return Response(204)


# -- ListMultipartUploads ---------------------------------------------------------------------------


def list_multipart_uploads(request: Request) -> Response:
    bucket = common.get_bucket(request)
    common.authorize(request, bucket)
    params = request.params
    prefix, delimiter = params.get("prefix", ""), params.get("delimiter", "")
    # Upload ids travel unencoded, so a marker XML cannot carry is refused (no upload id holds such characters).
    key_marker, upload_id_marker = params.get("key-marker", ""), listing.xml_text(params.get("upload-id-marker", ""))
    limit = _limit(params, "max-uploads")
    encode = listing.encoder(request)
    rows = _uploads_after(bucket, prefix, key_marker, upload_id_marker if key_marker else "")
    entries, truncated = _roll_up(rows, prefix, delimiter, key_marker, limit)
    next_key, next_upload_id = _next_markers(entries) if truncated else ("", "")
    uploads = [entry for entry in entries if isinstance(entry, MultipartUpload)]
    prefixes = [entry for entry in entries if isinstance(entry, str)]
    children = [
        ("Bucket", bucket.name),
        _encoding_element(_url_encoded(request)),
        ("KeyMarker", encode(key_marker)),
        ("UploadIdMarker", upload_id_marker),
        ("NextKeyMarker", encode(next_key)),
        ("NextUploadIdMarker", next_upload_id),
        ("Delimiter", encode(delimiter)),
        ("Prefix", encode(prefix)),
        ("MaxUploads", limit),
        ("IsTruncated", str(truncated).lower()),
        *(("Upload", _upload_entry(upload, encode)) for upload in uploads),
        *(("CommonPrefixes", [("Prefix", encode(common_prefix))]) for common_prefix in prefixes),
    ]
    return xml_response(xml.document("ListMultipartUploadsResult", children))


def _uploads_after(bucket: Bucket, prefix: str, key_marker: str, upload_id_marker: str):
    """The uploads under `prefix` after the markers, by key (code point) then upload id."""
    if upload_id_marker:
        low = max(prefix, key_marker)
    else:
        low = listing.start_bound(prefix, key_marker)
    rows = listing.in_range(MultipartUpload.objects.filter(bucket=bucket), "key", low, listing.past_prefix(prefix))
    if upload_id_marker and "\0" not in key_marker:  # no key holds NUL, and PostgreSQL could not compare with one
        rows = rows.exclude(key=key_marker, upload_id__lte=upload_id_marker)
    return rows.order_by("code_point", "upload_id").iterator()


def _roll_up(rows, prefix: str, delimiter: str, key_marker: str, limit: int) -> tuple[list, bool]:
    """Uploads and common prefixes (a prefix ≤ key-marker was on an earlier page), counted together."""
    entries, last_prefix = [], None
    for row in rows:
        rolled = _common_prefix(row.key, prefix, delimiter)
        if rolled is None:
            entries.append(row)
        elif rolled > key_marker and rolled != last_prefix:
            entries.append(rolled)
            last_prefix = rolled
        if len(entries) > limit:
            return entries[:limit], True
    return entries, False


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    position = key.find(delimiter, len(prefix))
    if position < 0:
        return None
    return key[: position + len(delimiter)]


def _next_markers(entries: list) -> tuple[str, str]:
    last = entries[-1]
    if isinstance(last, str):
        return last, ""
    return last.key, last.upload_id


def _upload_entry(upload: MultipartUpload, encode) -> list:
    return [
        ("Key", encode(upload.key)),
        ("UploadId", upload.upload_id),
        ("StorageClass", upload.storage_class),
        ("Initiated", iso_time(upload.initiated)),
    ]


# -- ListParts --------------------------------------------------------------------------------------


def list_parts(request: Request) -> Response:
    bucket = common.get_bucket(request)
    common.authorize(request, bucket)
    upload = _get_upload(bucket, request)
    marker = _part_number_marker(request)
    limit = _limit(request.params, "max-parts")
    parts = list(upload.parts.filter(part_number__gt=marker).order_by("part_number")[: limit + 1])
    truncated, parts = len(parts) > limit, parts[:limit]
    encoded, key = _key_text(request, upload.key)
    children = [
        ("Bucket", bucket.name),
        _encoding_element(encoded),
        ("Key", key),
        ("UploadId", upload.upload_id),
        ("StorageClass", upload.storage_class),
        ("PartNumberMarker", marker),
        ("NextPartNumberMarker", parts[-1].part_number if parts else ""),
        ("MaxParts", limit),
        ("IsTruncated", str(truncated).lower()),
        *(("Part", _part_entry(part)) for part in parts),
    ]
    return xml_response(xml.document("ListPartsResult", children))


def _part_number_marker(request: Request) -> int:
    value = request.params.get("part-number-marker", "")
    if not value:
        return 0
    if not _NUMBER.match(value):
        raise errors.invalid_argument("The part-number-marker is not valid.", "part-number-marker", value)
    return int(value)


def _part_entry(part: UploadPart) -> list:
    return [
        ("PartNumber", part.part_number),
        ("LastModified", iso_time(part.last_modified)),
        ("ETag", f'"{part.etag}"'),
        ("HashCrc64ecma", part.crc64),
        ("Size", part.size),
    ]


# -- shared response pieces -------------------------------------------------------------------------


def _limit(params: dict, name: str) -> int:
    value = params.get(name, "")
    if not value:
        return MAX_LIST
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_LIST:
        raise errors.invalid_argument(f"{name} must be an integer between 1 and {MAX_LIST}.", name, value)
    return int(value)


def _encoding_element(encoded: bool):
    return ("EncodingType", "url") if encoded else None


def _url_encoded(request: Request) -> bool:
    """Whether names travel url-encoded; listing.encoder refuses an encoding-type other than url."""
    return listing.encoder(request) is listing.url_encoded


def _key_text(request: Request, key: str) -> tuple[bool, str]:
    """(url-encoded?, Key text) for a one-key result. A key XML cannot carry is sent url-encoded and says so,
    rather than fail an upload whose key oss2 (which sends no encoding-type here) accepted."""
    encoded = _url_encoded(request) or not xml.carries(key)
    return encoded, listing.url_encoded(key) if encoded else key
