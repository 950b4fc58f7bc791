"""Uploading and downloading client-side encrypted objects through the console, with one of its master keys.

The web process encrypts (and decrypts) with the master key's wrapper (`master_keys.wrapper_for`), in the format
oss2's CryptoBucket writes and reads (cloud.cse.objects). Server-side encryption can be combined, as for any
upload: the object's own setting, or the bucket default. Key material never reaches the audit log or a message.

Files above settings.CSE_MULTIPART_THRESHOLD become a CseTransfer: the web process encrypts and sends the parts of a
multipart upload during the request, a Celery worker on any host completes it (start_background_upload says why
the parts are sent from the file Django received rather than from the request body as it streams in). Web and
workers share only the database, Redis and the cloud: no file is handed from one process to another.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import record, recording
from buckets.services import objects as services
from buckets.services.buckets import check_encryption_allowed
from cloud.cse.content import BLOCK_SIZE, MAX_PART_COUNT, MIN_PART_SIZE
from cloud.cse.envelope import Envelope
from cloud.cse.errors import CseError
from cloud.cse.objects import (
    DecryptedStream,
    get_decrypted,
    put_encrypted,
    put_encrypted_multipart,
    read_exactly,
    start_encrypted_multipart,
)
from cloud.errors import CloudError, Conflict, ServiceError
from cloud.oss import OssClient, Written, multipart_etag
from cloud.sse import Sse
from encryption.models import CseTransfer, MasterKey
from encryption.services import master_keys

logger = logging.getLogger(__name__)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass(frozen=True)
class CseUpload(services.Upload):
    """An upload (see services.Upload) whose content the console encrypted with `master_key` first."""

    master_key: str = ""
    parts: int = 0

    @property
    def multipart(self) -> bool:
        return self.parts > 0


def part_size_for(size: int, threshold: int) -> int:
    """Parts of about `threshold` bytes: a multiple of 16, at least 100 KiB, at most 10,000 parts in all."""
    part = max(MIN_PART_SIZE, threshold - threshold % BLOCK_SIZE)
    needed = -(-size // MAX_PART_COUNT)
    if part < needed:
        part = needed + (-needed % BLOCK_SIZE)
    return part


def upload_client_side(
    bucket,
    key: str,
    uploaded_file,
    master_key: MasterKey,
    actor,
    *,
    sse: Sse | None = None,
    content_type: str = "",
    metadata: dict[str, str] | None = None,
    overwrite: bool = False,
) -> CseUpload:
    """Encrypt `uploaded_file` (a file object with a size) with a new data key wrapped by `master_key`, and upload
    it: one PutObject up to settings.CSE_MULTIPART_THRESHOLD, a multipart upload above. `sse` (or, when None, the
    bucket default) encrypts the ciphertext once more on OSS's side; an existing key is refused unless `overwrite`.
    """
    oss = OssClient(bucket.connection)
    where = {"actor": actor, "connection": bucket.connection, "bucket": bucket.name, "object_key": key}
    with recording("object.upload.cse", **where) as pending:
        services.check_object_key(key)
        services.check_content_type(content_type)
        if master_key is None:
            raise CseError("Choose the master key to encrypt with.")
        if sse is not None:
            sse = check_encryption_allowed(bucket, sse)
        replaced, before = services.existing_object(oss, bucket.name, key, overwrite=overwrite)
        default = Sse.of_rule(oss.get_encryption(bucket.name))
        headers = services._upload_headers(None, content_type, metadata or {}, overwrite)
        sse_headers = sse.request_headers() if sse is not None else {}
        wrapper = master_keys.wrapper_for(master_key)
        size = services._size_of(uploaded_file)
        threshold = settings.CSE_MULTIPART_THRESHOLD
        if hasattr(uploaded_file, "seek"):
            uploaded_file.seek(0)
        parts = 0
        try:
            if size <= threshold:
                written = put_encrypted(oss, bucket.name, key, uploaded_file, wrapper, headers, sse_headers, size=size)
            else:
                part_size = part_size_for(size, threshold)
                parts = -(-size // part_size)
                written = put_encrypted_multipart(
                    oss, bucket.name, key, uploaded_file, size, wrapper, part_size, headers, sse_headers
                )
        except CloudError as error:
            if error.code == "FileAlreadyExists":
                raise Conflict(
                    f"An object named {key} was created meanwhile: tick “overwrite” to replace it."
                ) from None
            raise
        # A Complete answer need not carry the encryption headers: the HEAD states what the object got.
        got = Sse.of_headers(oss.head_object(bucket.name, key).headers)
        key_names = services._key_names(bucket, *(setting for setting in (got, default, before) if setting))
        upload = CseUpload(
            key=key,
            size=size,
            etag=written.etag,
            request_id=written.request_id,
            encryption=services._encryption(got, key_names),
            requested=sse,
            bucket_default=services._encryption(default, key_names),
            replaced=replaced,
            replaced_encryption=services._encryption(before, key_names) if before else None,
            master_key=master_key.name,
            parts=parts,
        )
        pending.after = _audited(upload, got)
        pending.request_id = written.request_id
    return upload


def _audited(upload: CseUpload, got: Sse) -> dict:
    """What the audit event of an upload records: never any key material."""
    return {
        "key": upload.key,
        "size": upload.size,
        "etag": upload.etag,
        "master_key": upload.master_key,
        "multipart": upload.multipart,
        "sse": got.as_dict(),
        "sse_source": upload.source,
    }


def parse_range(text: str) -> tuple[int | None, int | None] | None:
    """`bytes=a-b`, `bytes=a-` or `bytes=-n` as (start, end) for get_decrypted; blank: None (the whole object)."""
    text = (text or "").strip()
    if not text:
        return None
    match = _RANGE.match(text)
    if not match or match.groups() == ("", ""):
        raise CseError(f"{text!r} is not a byte range such as bytes=0-99, bytes=100- or bytes=-50.")
    start, end = (int(group) if group else None for group in match.groups())
    if start is None:
        if not end:
            raise CseError("A suffix range needs a positive number of bytes.")
    elif end is not None and end < start:
        raise CseError(f"The range {text} ends before it starts.")
    return start, end


def unknown_master_key(envelope: Envelope) -> str:
    matdesc = envelope.matdesc or "no material description"
    return (
        f"Unknown master key: no master key of the console has the wrap algorithm {envelope.wrap_algorithm} "
        f"and the material description {matdesc}. Add or import that key first."
    )


@dataclass(frozen=True)
class DecryptedDownload:
    """A decrypted object (or range of it), streamed: what the response needs to send it."""

    stream: DecryptedStream
    master_key: MasterKey
    filename: str
    content_type: str
    length: int
    content_range: str = ""


def download_client_side(
    bucket, key: str, *, actor, master_key: MasterKey | None = None, byte_range=None
) -> DecryptedDownload:
    """The plaintext of a client-side encrypted object, or of `byte_range` (start, end) of it, streamed.

    Without `master_key` the console's key whose wrap algorithm and material description the envelope names is
    used; when none does, a CseError says "unknown master key" with the material description. Every read of
    plaintext is audited, refused or not: who read which object under which master key.
    """
    services.check_object_key(key)
    where = {"actor": actor, "connection": bucket.connection, "bucket": bucket.name, "object_key": key}
    with recording("object.download.decrypted", **where) as pending:
        download = _open_decrypted(OssClient(bucket.connection), bucket, key, master_key, byte_range)
        pending.after = {"master_key": download.master_key.name, "range": download.content_range or "whole"}
        pending.request_id = download.stream.head.request_id
    return download


def _open_decrypted(oss: OssClient, bucket, key: str, master_key: MasterKey | None, byte_range) -> DecryptedDownload:
    if master_key is None:
        envelope, master_key = master_keys.master_key_of(oss.head_object(bucket.name, key).headers)
        if envelope is None:
            raise CseError(f"{key} is not client-side encrypted: download it as stored.")
        if master_key is None:
            raise CseError(unknown_master_key(envelope))
    stream = get_decrypted(oss, bucket.name, key, master_keys.wrapper_for(master_key), byte_range, stream=True)
    head = stream.head
    content_range = ""
    if byte_range is not None and tuple(byte_range) != (None, None):
        received = _CONTENT_RANGE.match(head.header("content-range").strip())
        total = int(received.group(3)) if received else head.size
        start = total - stream.length if byte_range[0] is None else byte_range[0]
        content_range = f"bytes {start}-{start + stream.length - 1}/{total}"
    return DecryptedDownload(
        stream=stream,
        master_key=master_key,
        filename=services.download_filename(key),
        content_type=head.header("content-type") or "application/octet-stream",
        length=stream.length,
        content_range=content_range,
    )


# Large uploads: parts from the web process, Complete from a worker (design.md: "large files run as Celery tasks
# with progress"; issue 17: no process hands a file to another through a local disk).


def upload(
    bucket, key: str, uploaded_file, master_key: MasterKey | None, actor, **options
) -> services.Upload | CseTransfer:
    """An upload as the page or the API asked for it: stored as it is without `master_key`; else encrypted on the
    console's side, in one PutObject up to settings.CSE_MULTIPART_THRESHOLD and as a multipart upload completed by
    a worker above it (the CseTransfer to follow: see start_background_upload). `options` are upload_object's
    (sse, content_type, metadata, overwrite).
    """
    if master_key is None:
        return services.upload_object(bucket, key=key, content=uploaded_file, actor=actor, **options)
    if services._size_of(uploaded_file) > settings.CSE_MULTIPART_THRESHOLD:
        return start_background_upload(bucket, key, uploaded_file, master_key, actor, **options)
    return upload_client_side(bucket, key, uploaded_file, master_key, actor, **options)


def start_background_upload(
    bucket,
    key: str,
    uploaded_file,
    master_key: MasterKey,
    actor,
    *,
    sse: Sse | None = None,
    content_type: str = "",
    metadata: dict[str, str] | None = None,
    overwrite: bool = False,
) -> CseTransfer:
    """Send `uploaded_file` as the encrypted parts of a multipart upload of `key`, and queue
    encryption.tasks.complete_upload_task to join them: the CseTransfer to follow.

    Why the web process sends the parts from the file Django received, rather than from the request body as it
    arrives (an upload handler's receive_data_chunk): the envelope sent on Initiate records the plaintext size,
    and the part size must keep the file to 10,000 parts, both known only once the whole file is in; the form's
    other fields (key, master key, SSE, overwrite) may come after the file in the body (API clients choose the
    order) and must be checked before anything is sent; and the CSRF check reads the whole body before any view
    runs. Django keeps a large file in a temporary file of its own on the web host, which only this process
    reads, during this request, and deletes when the request ends: no other process or host ever needs it.

    The console's rules (key, content type, master key, SSE allowed, an existing object without `overwrite`) are
    checked at once and raise. Each part is recorded on the transfer as it completes (the progress the status
    page shows), with its ETag for the worker's Complete; the data key never leaves this process. A failure while
    sending fails the transfer, aborts the multipart upload and is audited; the transfer is returned failed.
    """
    services.check_object_key(key)
    services.check_content_type(content_type)
    if master_key is None:
        raise CseError("Choose the master key to encrypt with.")
    if sse is not None:
        sse = check_encryption_allowed(bucket, sse)
    oss = OssClient(bucket.connection)
    if not overwrite:  # said at once rather than on the status page
        services._refuse_existing(oss, bucket.name, key)
    size = services._size_of(uploaded_file)
    transfer = CseTransfer.objects.create(
        bucket=bucket,
        bucket_name=bucket.name,
        key=key,
        master_key=master_key,
        size=size,
        part_size=part_size_for(size, settings.CSE_MULTIPART_THRESHOLD),
        options={
            "sse": sse.as_dict() if sse is not None else None,
            "content_type": content_type,
            "metadata": metadata or {},
            "overwrite": overwrite,
        },
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        _send_parts(oss, transfer, uploaded_file)
    except ServiceError as error:
        _fail(transfer, error.message, oss)
        _record_failure(transfer, actor, error)
    except Exception:
        logger.exception("Sending the parts of the background upload %s failed", transfer.pk)
        _fail(transfer, "The upload failed unexpectedly: the web server's log says why.", oss)
    except BaseException:  # the process is stopping: nothing will complete this upload
        _fail(transfer, "The web server stopped while sending the upload: upload it again.", oss)
        raise
    else:
        if CseTransfer.objects.filter(pk=transfer.pk, state=CseTransfer.SENDING).update(state=CseTransfer.QUEUED):
            transaction.on_commit(lambda: _queue(transfer))
    transfer.refresh_from_db()
    return transfer


def _send_parts(oss: OssClient, transfer: CseTransfer, uploaded_file) -> None:
    """Initiate the upload with the envelope and SSE chosen, then encrypt and send every part, recording each."""
    options = transfer.options
    headers = services._upload_headers(None, options["content_type"], options["metadata"], options["overwrite"])
    sse = Sse(**options["sse"]) if options["sse"] else None
    multipart = start_encrypted_multipart(
        oss,
        transfer.bucket_name,
        transfer.key,
        transfer.size,
        master_keys.wrapper_for(transfer.master_key),
        transfer.part_size,
        headers,
        sse.request_headers() if sse is not None else {},
    )
    transfer.upload_id = multipart.upload_id
    _record(transfer, upload_id=transfer.upload_id)
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    for number, offset in enumerate(range(0, transfer.size, transfer.part_size), start=1):
        length = min(transfer.part_size, transfer.size - offset)
        etag = multipart.upload_part(number, read_exactly(uploaded_file, length))
        transfer.parts.append([number, etag])
        _record(transfer, parts=transfer.parts, bytes_done=offset + length)


def _record(transfer: CseTransfer, **fields) -> None:
    """Write `fields` while the transfer is unfinished; a transfer failed meanwhile (by the sweep) stops here."""
    if not CseTransfer.objects.filter(pk=transfer.pk).exclude(state__in=CseTransfer.FINISHED_STATES).update(**fields):
        raise CseError("The upload was given up meanwhile (it ran longer than CSE_UPLOAD_MAX_AGE_SECONDS).")


def _record_failure(transfer: CseTransfer, actor, error: ServiceError) -> None:
    record(
        "object.upload.cse",
        actor=actor,
        connection=transfer.bucket.connection,
        bucket=transfer.bucket_name,
        object_key=transfer.key,
        request_id=getattr(error, "request_id", ""),
        outcome=AuditEvent.FAILURE,
        error=error.message,
    )


def _queue(transfer: CseTransfer) -> None:
    from encryption.tasks import complete_upload_task

    try:
        complete_upload_task.delay(transfer.pk)
    except Exception:
        logger.exception("Could not queue the background upload %s", transfer.pk)
        _fail(
            transfer,
            "The upload could not be queued (is the task broker running?).",
            OssClient(transfer.bucket.connection),
        )


def _finish(transfer_id: int, state: str, error: str = "", **fields) -> None:
    """End an unfinished transfer; one ended already (by the sweep, or by a task run twice) keeps its ending."""
    unfinished = CseTransfer.objects.filter(pk=transfer_id).exclude(state__in=CseTransfer.FINISHED_STATES)
    unfinished.update(state=state, error=error, finished_at=timezone.now(), **fields)


def abort_upload(oss: OssClient, transfer: CseTransfer) -> bool:
    """Abort the transfer's multipart upload, so none of its parts stays in the cloud: whether one was aborted
    (False when none was started or it is gone already). Other refusals of the cloud raise."""
    if not transfer.upload_id:
        return False
    try:
        oss.abort_multipart(transfer.bucket_name, transfer.key, transfer.upload_id)
    except CloudError as error:
        if error.code == "NoSuchUpload":
            return False
        raise
    return True


def _fail(transfer: CseTransfer, message: str, oss: OssClient | None) -> None:
    _finish(transfer.pk, CseTransfer.FAILED, message)
    if oss is None:
        return
    try:
        abort_upload(oss, transfer)
    except CloudError:
        logger.warning("Could not abort the multipart upload of transfer %s: the sweep will retry", transfer.pk)
        return
    CseTransfer.objects.filter(pk=transfer.pk).update(upload_id="")


def complete_background_upload(transfer_id: int) -> str | None:
    """The task's work, on any host: join the parts the database lists into the object, check it, record done or
    failed (with the reason, the multipart upload aborted) and audit it as an inline upload is. The transfer's
    state, or None when it no longer exists."""
    transfer = (
        CseTransfer.objects.select_related("bucket__connection", "master_key", "created_by")
        .filter(pk=transfer_id)
        .first()
    )
    if transfer is None:
        return None
    if transfer.finished:
        return transfer.state
    oss = OssClient(transfer.bucket.connection) if transfer.bucket else None
    where = {
        "actor": transfer.created_by,
        "connection": transfer.bucket.connection if transfer.bucket else None,
        "bucket": transfer.bucket_name,
        "object_key": transfer.key,
    }
    try:
        with recording("object.upload.cse", **where) as pending:
            if oss is None:
                raise CseError(
                    f"The bucket {transfer.bucket_name} was removed from the console before the upload ended."
                )
            if transfer.master_key is None:
                raise CseError("The master key was deleted before the upload ended: nothing was stored.")
            _record(transfer, state=CseTransfer.RUNNING)
            upload, got = _complete(oss, transfer)
            pending.after = _audited(upload, got)
            pending.request_id = upload.request_id
    except ServiceError as error:
        _fail(transfer, error.message, oss)
        return CseTransfer.FAILED
    except Exception:
        logger.exception("The background upload %s failed", transfer.pk)
        _fail(transfer, "The upload failed unexpectedly: the worker's log says why.", oss)
        return CseTransfer.FAILED
    _finish(transfer.pk, CseTransfer.DONE, bytes_done=transfer.size)
    return CseTransfer.DONE


def _join_parts(oss: OssClient, transfer: CseTransfer) -> Written:
    """Complete the upload from its recorded parts. When the upload is gone because an earlier run of the task
    completed it (its worker stopped before recording that), the object whose ETag these parts make is the one."""
    parts = [(number, etag) for number, etag in transfer.parts]
    try:
        return oss.complete_multipart(transfer.bucket_name, transfer.key, transfer.upload_id, parts)
    except CloudError as error:
        if error.code == "FileAlreadyExists":
            raise Conflict(
                f"An object named {transfer.key} was created meanwhile: tick “overwrite” to replace it."
            ) from None
        if error.code != "NoSuchUpload":
            raise
        try:
            head = oss.head_object(transfer.bucket_name, transfer.key)
        except CloudError:
            raise error from None
        if head.etag.upper() != multipart_etag(parts):
            raise
        return Written(head.etag, head.request_id, head.headers)


def _complete(oss: OssClient, transfer: CseTransfer) -> tuple[CseUpload, Sse]:
    """Complete the upload from its recorded parts and check the object is the whole file, encrypted."""
    if not transfer.upload_id or len(transfer.parts) != transfer.part_count:
        raise CseError(f"Only {len(transfer.parts)} of the {transfer.part_count} parts were sent: upload it again.")
    bucket, key = transfer.bucket, transfer.key
    written = _join_parts(oss, transfer)
    head = oss.head_object(bucket.name, key)
    envelope = Envelope.from_headers(head.headers)
    if envelope is None or head.size != transfer.size or envelope.data_size != transfer.size:
        raise CseError(
            f"The completed object is {head.size} bytes with {'an' if envelope else 'no'} envelope, not the "
            f"{transfer.size} bytes encrypted that were sent: upload it again."
        )
    got = Sse.of_headers(head.headers)
    default = Sse.of_rule(oss.get_encryption(bucket.name))
    requested = Sse(**transfer.options["sse"]) if transfer.options.get("sse") else None
    key_names = services._key_names(bucket, got, default)
    upload = CseUpload(
        key=key,
        size=transfer.size,
        etag=written.etag,
        request_id=written.request_id,
        encryption=services._encryption(got, key_names),
        requested=requested,
        bucket_default=services._encryption(default, key_names),
        master_key=transfer.master_key.name,
        parts=transfer.part_count,
    )
    return upload, got
