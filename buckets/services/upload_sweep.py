"""Large client-side encrypted uploads that will not end by themselves are given up, and nothing of them is left.

A transfer (cse_transfer.start_background_upload) normally ends done or failed, its multipart upload completed or
aborted. What a web process stopped while sending parts, a lost task (broker emptied, worker killed beyond
recovery) or an abort the cloud refused leave behind is swept here, hourly by beat (encryption.sweep_uploads) and
by `manage.py sweep_uploads`, from whichever host runs it: the transfers are in the database, their uploads in the
cloud. Files an earlier version staged in var/uploads are deleted too.
"""

import datetime
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from audit.services import record
from buckets.services.cse_transfer import abort_upload
from cloud.errors import CloudError
from cloud.oss import OssClient
from encryption.models import CseTransfer

LOST_UPLOAD_ERROR = "The upload did not end in time and was given up, its parts deleted: upload it again."
# A web process stopped between Initiate and recording its answer leaves an upload only the cloud knows: an upload
# of the transfer's key initiated this close to the transfer's creation is taken as its own (clocks may differ).
UNRECORDED_UPLOAD_WINDOW = (datetime.timedelta(minutes=-1), datetime.timedelta(minutes=5))

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepOutcome:
    lost_transfers: list[int]
    aborted_uploads: int
    removed_files: int


def sweep_uploads() -> SweepOutcome:
    """Fail the transfers unfinished after settings.CSE_UPLOAD_MAX_AGE_SECONDS (whoever was sending or completing
    them is taken as lost) and abort the multipart uploads of every failed transfer, so no part stays in the cloud
    (a lost transfer that recorded none: the upload of its key initiated as it was created); delete the files an
    earlier version left in var/uploads. Audited when it changed anything."""
    now = timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.CSE_UPLOAD_MAX_AGE_SECONDS)
    unfinished = CseTransfer.objects.exclude(state__in=CseTransfer.FINISHED_STATES)
    lost_transfers = list(unfinished.filter(created_at__lt=cutoff).select_related("bucket__connection"))
    lost = [transfer.pk for transfer in lost_transfers]
    unfinished.filter(pk__in=lost).update(state=CseTransfer.FAILED, error=LOST_UPLOAD_ERROR, finished_at=now)
    unrecorded = [transfer for transfer in lost_transfers if not transfer.upload_id and transfer.bucket is not None]
    aborted = sum(_abort_unrecorded_uploads(transfer) for transfer in unrecorded) + _abort_failed_uploads()
    removed = _remove_staged_files()
    outcome = SweepOutcome(lost_transfers=lost, aborted_uploads=aborted, removed_files=removed)
    if lost or aborted or removed:
        after = {"lost_transfers": lost, "aborted_uploads": aborted, "removed_files": removed}
        record("upload.sweep", target="client-side encrypted uploads", after=after)
        logger.info(
            "upload sweep: %d transfer(s) lost, %d upload(s) aborted, %d file(s) removed", len(lost), aborted, removed
        )
    return outcome


def _abort_failed_uploads() -> int:
    """Abort the multipart upload of every failed transfer that still names one; forget it once it is gone."""
    failed = CseTransfer.objects.filter(state=CseTransfer.FAILED).exclude(upload_id="")
    aborted = 0
    for transfer in failed.select_related("bucket__connection"):
        if transfer.bucket is not None:
            try:
                aborted += abort_upload(OssClient(transfer.bucket.connection), transfer)
            except CloudError as error:
                logger.warning("Could not abort the upload of transfer %s: %s", transfer.pk, error.message)
                continue
        CseTransfer.objects.filter(pk=transfer.pk).update(upload_id="")
    return aborted


def _abort_unrecorded_uploads(transfer: CseTransfer) -> int:
    """Abort the uploads of the lost transfer's key initiated as it was created: how many."""
    oss = OssClient(transfer.bucket.connection)
    earliest, latest = (transfer.created_at + offset for offset in UNRECORDED_UPLOAD_WINDOW)
    aborted = 0
    try:
        for upload in oss.list_multipart_uploads(transfer.bucket_name, transfer.key):
            if upload.initiated is not None and earliest <= upload.initiated <= latest:
                oss.abort_multipart(transfer.bucket_name, transfer.key, upload.upload_id)
                aborted += 1
    except CloudError as error:
        logger.warning("Could not look for the upload of transfer %s: %s", transfer.pk, error.message)
    return aborted


def _remove_staged_files() -> int:
    """Delete var/uploads, where versions before issue 17 staged large uploads: plaintext must not stay there."""
    folder = Path(settings.VAR_DIR) / "uploads"
    if not folder.is_dir():
        return 0
    staged = [path for path in folder.iterdir() if path.is_file()]
    for path in staged:
        path.unlink(missing_ok=True)
    folder.rmdir()
    return len(staged)
