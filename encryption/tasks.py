"""Celery tasks of client-side encryption: thin wrappers around buckets.services.cse_transfer and upload_sweep."""

from celery import shared_task

from buckets.services import cse_transfer, upload_sweep


# The name is the one queued messages of earlier versions carry, so a worker upgraded meanwhile still takes them.
@shared_task(name="encryption.upload_client_side", acks_late=True)
def complete_upload_task(transfer_id: int) -> str | None:
    return cse_transfer.complete_background_upload(transfer_id)


@shared_task(name="encryption.sweep_uploads")
def sweep_uploads_task() -> int:
    return len(upload_sweep.sweep_uploads().lost_transfers)
