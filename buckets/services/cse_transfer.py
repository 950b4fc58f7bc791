"""Uploading and downloading client-side encrypted objects through the console, with one of its master keys.

The web process encrypts (and decrypts) with the master key's wrapper (`master_keys.wrapper_for`), in the format
oss2's CryptoBucket writes and reads (cloud.cse.objects). Server-side encryption can be combined, as for any
upload: the object's own setting, or the bucket default. Key material never reaches the audit log or a message.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from audit.services import recording
from buckets.services import objects as services
from buckets.services.buckets import check_encryption_allowed
from cloud.cse.content import BLOCK_SIZE, MAX_PART_COUNT, MIN_PART_SIZE
from cloud.cse.envelope import Envelope
from cloud.cse.errors import CseError
from cloud.cse.objects import DecryptedStream, get_decrypted, put_encrypted, put_encrypted_multipart
from cloud.errors import CloudError, Conflict, ServiceError
from cloud.oss import OssClient
from cloud.sse import Sse
from encryption.models import CseTransfer, MasterKey
from encryption.services import master_keys

logger = logging.getLogger(__name__)

# How often a background upload writes its progress to the database, at most (seconds).
PROGRESS_INTERVAL = 0.5

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
    progress=None,
) -> CseUpload:
    """Encrypt `uploaded_file` (a file object with a size) with a new data key wrapped by `master_key`, and upload
    it: one PutObject up to settings.CSE_MULTIPART_THRESHOLD, a multipart upload above. `sse` (or, when None, the
    bucket default) encrypts the ciphertext once more on OSS's side; an existing key is refused unless `overwrite`.
    `progress`, when given, is called with the number of bytes uploaded so far (after each part when multipart).
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
                if progress is not None:
                    progress(size)
            else:
                part_size = part_size_for(size, threshold)
                parts = -(-size // part_size)
                written = put_encrypted_multipart(
                    oss, bucket.name, key, uploaded_file, size, wrapper, part_size, headers, sse_headers, progress
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
        pending.after = {
            "key": key,
            "size": size,
            "etag": upload.etag,
            "master_key": master_key.name,
            "multipart": upload.multipart,
            "sse": got.as_dict(),
            "sse_source": upload.source,
        }
        pending.request_id = written.request_id
    return upload


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


# Large uploads in the background (design.md: "large files run as Celery tasks with progress")


def upload(
    bucket, key: str, uploaded_file, master_key: MasterKey | None, actor, **options
) -> services.Upload | CseTransfer:
    """An upload as the page or the API asked for it: stored as it is without `master_key`; else encrypted on the
    console's side, inline up to settings.CSE_MULTIPART_THRESHOLD and in the background above it (the
    CseTransfer to follow), since encrypting a large file would hold the request for minutes. `options` are
    upload_object's (sse, content_type, metadata, overwrite).
    """
    if master_key is None:
        return services.upload_object(bucket, key=key, content=uploaded_file, actor=actor, **options)
    if services._size_of(uploaded_file) > settings.CSE_MULTIPART_THRESHOLD:
        return start_background_upload(bucket, key, uploaded_file, master_key, actor, **options)
    return upload_client_side(bucket, key, uploaded_file, master_key, actor, **options)


def uploads_dir() -> Path:
    """Where uploaded files wait for their task: settings.VAR_DIR/uploads, readable by the console's user only."""
    path = Path(settings.VAR_DIR) / "uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


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
    """Save `uploaded_file` to a private temporary file (mode 0600, random name) and queue
    encryption.tasks.upload_client_side_task for it: the CseTransfer to follow. The task encrypts and uploads as
    upload_client_side does (same checks, same audit event) and deletes the file whatever happens.
    """
    services.check_object_key(key)
    services.check_content_type(content_type)
    if master_key is None:
        raise CseError("Choose the master key to encrypt with.")
    if not overwrite:  # said at once rather than on the status page
        services._refuse_existing(OssClient(bucket.connection), bucket.name, key)
    descriptor, path = tempfile.mkstemp(prefix="cse-", suffix=".upload", dir=uploads_dir())
    try:
        with os.fdopen(descriptor, "wb") as saved:
            if hasattr(uploaded_file, "chunks"):
                for chunk in uploaded_file.chunks():
                    saved.write(chunk)
            else:
                shutil.copyfileobj(uploaded_file, saved)
        transfer = CseTransfer.objects.create(
            bucket=bucket,
            bucket_name=bucket.name,
            key=key,
            master_key=master_key,
            size=os.path.getsize(path),
            options={
                "sse": sse.as_dict() if sse is not None else None,
                "content_type": content_type,
                "metadata": metadata or {},
                "overwrite": overwrite,
            },
            temp_name=Path(path).name,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    transaction.on_commit(lambda: _queue(transfer))
    return transfer


def _queue(transfer: CseTransfer) -> None:
    from encryption.tasks import upload_client_side_task

    try:
        upload_client_side_task.delay(transfer.pk)
    except Exception:
        logger.exception("Could not queue the background upload %s", transfer.pk)
        _finish(transfer.pk, CseTransfer.FAILED, "The upload could not be queued (is the task broker running?).")
        (uploads_dir() / transfer.temp_name).unlink(missing_ok=True)


class _Progress:
    """The progress callback of a background upload: bytes done, written at most every PROGRESS_INTERVAL s."""

    def __init__(self, transfer_id: int):
        self.transfer_id, self.written_at = transfer_id, None

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if self.written_at is None or now - self.written_at >= PROGRESS_INTERVAL:
            self.written_at = now
            CseTransfer.objects.filter(pk=self.transfer_id).update(bytes_done=done)


def _finish(transfer_id: int, state: str, error: str = "", **fields) -> None:
    CseTransfer.objects.filter(pk=transfer_id).update(state=state, error=error, finished_at=timezone.now(), **fields)


def run_background_upload(transfer_id: int) -> str | None:
    """The task's work: upload the transfer's temporary file, record done or failed (with the reason), and delete
    the file in all cases. The transfer's state, or None when it no longer exists."""
    transfer = (
        CseTransfer.objects.select_related("bucket__connection", "master_key", "created_by")
        .filter(pk=transfer_id)
        .first()
    )
    if transfer is None:
        return None
    path = uploads_dir() / transfer.temp_name if transfer.temp_name else None
    try:
        if transfer.finished:
            return transfer.state
        if transfer.bucket is None:
            raise CseError(f"The bucket {transfer.bucket_name} was removed from the console before the upload ran.")
        if transfer.master_key is None:
            raise CseError("The master key was deleted before the upload ran: nothing was uploaded.")
        if path is None or not path.is_file():
            raise CseError("The uploaded file is no longer on the server (was the worker restarted?): upload it again.")
        CseTransfer.objects.filter(pk=transfer.pk).update(state=CseTransfer.RUNNING)
        options = transfer.options
        with File(open(path, "rb"), name=transfer.key) as saved:
            upload_client_side(
                transfer.bucket,
                transfer.key,
                saved,
                transfer.master_key,
                transfer.created_by,
                sse=Sse(**options["sse"]) if options.get("sse") else None,
                content_type=options.get("content_type", ""),
                metadata=options.get("metadata") or {},
                overwrite=bool(options.get("overwrite")),
                progress=_Progress(transfer.pk),
            )
    except ServiceError as error:
        _finish(transfer.pk, CseTransfer.FAILED, error.message)
        return CseTransfer.FAILED
    except Exception:
        logger.exception("The background upload %s failed", transfer.pk)
        _finish(transfer.pk, CseTransfer.FAILED, "The upload failed unexpectedly: the worker's log says why.")
        return CseTransfer.FAILED
    finally:
        if path is not None:
            path.unlink(missing_ok=True)
    _finish(transfer.pk, CseTransfer.DONE, bytes_done=transfer.size)
    return CseTransfer.DONE
