"""Staged uploads no task will upload any more are deleted: plaintext must not stay in var/uploads.

A background upload's file (cse_transfer.start_background_upload) is normally deleted by its task. What a lost task
(broker emptied, worker killed beyond recovery), a crash between saving the file and committing its transfer, or a
failed deletion leave behind is swept here, hourly by beat (encryption.sweep_uploads) and by `manage.py sweep_uploads`.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from audit.services import record
from buckets.services.cse_transfer import uploads_dir
from encryption.models import CseTransfer

LOST_UPLOAD_ERROR = "No worker finished this upload in time and its file was deleted: upload it again."

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepOutcome:
    removed_files: int
    lost_transfers: list[int]


def sweep_uploads() -> SweepOutcome:
    """Delete the staged files of finished transfers; of transfers unfinished after settings.CSE_UPLOAD_MAX_AGE_SECONDS
    (marked failed: their task is taken as lost); and files with no transfer once they are that old (younger ones
    may belong to a transfer not committed yet). Audited when it changed anything."""
    now = timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.CSE_UPLOAD_MAX_AGE_SECONDS)
    unfinished = CseTransfer.objects.exclude(state__in=CseTransfer.FINISHED_STATES)
    lost = list(unfinished.filter(created_at__lt=cutoff).values_list("pk", flat=True))
    unfinished.filter(pk__in=lost).update(state=CseTransfer.FAILED, error=LOST_UPLOAD_ERROR, finished_at=now)
    staged = {path.name: path for path in uploads_dir().iterdir()}
    states = dict(CseTransfer.objects.filter(temp_name__in=staged).values_list("temp_name", "state"))
    removed = 0
    for name, path in staged.items():
        state = states.get(name)
        if state is None and path.stat().st_mtime >= cutoff.timestamp():
            continue
        if state is not None and state not in CseTransfer.FINISHED_STATES:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    outcome = SweepOutcome(removed_files=removed, lost_transfers=lost)
    if removed or lost:
        record("upload.sweep", target=str(uploads_dir()), after={"removed_files": removed, "lost_transfers": lost})
        logger.info("upload sweep: %d staged file(s) removed, %d transfer(s) lost", removed, len(lost))
    return outcome
