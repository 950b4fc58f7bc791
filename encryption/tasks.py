"""Celery tasks of client-side encryption: thin wrappers around encryption.cse_transfer."""

from celery import shared_task

from buckets.services import cse_transfer


@shared_task(name="encryption.upload_client_side", acks_late=True)
def upload_client_side_task(transfer_id: int) -> str | None:
    return cse_transfer.run_background_upload(transfer_id)
