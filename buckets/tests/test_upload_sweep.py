"""Large client-side encrypted uploads that will not end by themselves are given up by the sweep, and their
multipart uploads aborted, so no part stays in the cloud (localcloud over HTTP, ListMultipartUploads to check)."""

import datetime
import os

import oss2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from buckets.services.upload_sweep import LOST_UPLOAD_ERROR, sweep_uploads
from cloud.cse.content import MIN_PART_SIZE
from cloud.cse.objects import start_encrypted_multipart
from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from encryption.models import CseTransfer
from encryption.services import master_keys
from localcloud.models import MultipartUpload as LocalUpload

PART = os.urandom(MIN_PART_SIZE)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.CSE_UPLOAD_MAX_AGE_SECONDS = 3600
    return settings.VAR_DIR


@pytest.fixture
def bucket(cloud_connection):
    return new_bucket(cloud_connection, "sweep")


@pytest.fixture
def wrapper(admin):
    return master_keys.wrapper_for(master_keys.generate_rsa(actor=admin, name="finance", bits=2048))


def left_by_a_web_process(bucket, wrapper, key: str, state: str = CseTransfer.SENDING, *, hours_old: float = 0):
    """What a web process stopped after sending the first of two parts leaves: the transfer, and its multipart
    upload in the cloud holding one part."""
    multipart = start_encrypted_multipart(
        OssClient(bucket.connection), bucket.name, key, 2 * MIN_PART_SIZE, wrapper, MIN_PART_SIZE
    )
    etag = multipart.upload_part(1, PART)
    created = CseTransfer.objects.create(
        bucket=bucket,
        bucket_name=bucket.name,
        key=key,
        size=2 * MIN_PART_SIZE,
        state=state,
        upload_id=multipart.upload_id,
        part_size=MIN_PART_SIZE,
        parts=[[1, etag]],
        bytes_done=MIN_PART_SIZE,
    )
    CseTransfer.objects.filter(pk=created.pk).update(created_at=timezone.now() - datetime.timedelta(hours=hours_old))
    return created


def multipart_uploads(bucket) -> list[str]:
    return [upload.key for upload in oss2.MultipartUploadIterator(OssClient(bucket.connection)._bucket(bucket.name))]


def lost_upload_id(bucket, key: str) -> str:
    (upload,) = OssClient(bucket.connection).list_multipart_uploads(bucket.name, key)
    return upload.upload_id


def test_an_interrupted_transfer_is_failed_and_its_upload_aborted_while_a_live_one_is_kept(bucket, wrapper):
    interrupted = left_by_a_web_process(bucket, wrapper, "interrupted.bin", hours_old=2)
    live = left_by_a_web_process(bucket, wrapper, "live.bin")

    outcome = sweep_uploads()

    assert outcome.lost_transfers == [interrupted.pk] and outcome.aborted_uploads == 1
    assert multipart_uploads(bucket) == ["live.bin"]
    interrupted.refresh_from_db()
    assert (interrupted.state, interrupted.error, interrupted.upload_id) == (CseTransfer.FAILED, LOST_UPLOAD_ERROR, "")
    live.refresh_from_db()
    assert live.state == CseTransfer.SENDING and live.upload_id


def test_the_upload_of_a_web_process_stopped_before_recording_it_is_found_by_key_and_time_and_aborted(bucket, wrapper):
    """Initiate answered, the process stopped before the upload id reached the database: only the cloud knows."""
    lost = left_by_a_web_process(bucket, wrapper, "unrecorded.bin", hours_old=2)
    CseTransfer.objects.filter(pk=lost.pk).update(upload_id="", parts=[], bytes_done=0)
    lost.refresh_from_db()
    LocalUpload.objects.filter(upload_id=lost_upload_id(bucket, "unrecorded.bin")).update(
        initiated=lost.created_at + datetime.timedelta(seconds=1)
    )
    someone_elses = start_encrypted_multipart(
        OssClient(bucket.connection), bucket.name, "unrecorded.bin", 2 * MIN_PART_SIZE, wrapper, MIN_PART_SIZE
    )

    assert sweep_uploads().aborted_uploads == 1

    remaining = OssClient(bucket.connection).list_multipart_uploads(bucket.name, "unrecorded.bin")
    assert [upload.upload_id for upload in remaining] == [someone_elses.upload_id]
    lost.refresh_from_db()
    assert lost.state == CseTransfer.FAILED


def test_a_transfer_whose_task_was_lost_is_failed_and_aborted(bucket, wrapper):
    queued = left_by_a_web_process(bucket, wrapper, "queued.bin", CseTransfer.QUEUED, hours_old=7)

    sweep_uploads()

    queued.refresh_from_db()
    assert queued.state == CseTransfer.FAILED and multipart_uploads(bucket) == []


def test_a_failed_transfer_whose_abort_did_not_happen_is_aborted_at_the_next_sweep(bucket, wrapper):
    left_by_a_web_process(bucket, wrapper, "failed.bin", CseTransfer.FAILED)

    assert sweep_uploads().aborted_uploads == 1

    assert multipart_uploads(bucket) == [] and CseTransfer.objects.get().upload_id == ""


def test_files_an_earlier_version_staged_in_var_uploads_are_deleted(db, var_dir):
    staged = var_dir / "uploads"
    staged.mkdir(mode=0o700, parents=True)
    (staged / "cse-abc.upload").write_bytes(b"plaintext waiting for its task")

    assert sweep_uploads().removed_files == 1

    assert not staged.exists()


def test_a_sweep_that_changed_something_is_audited_and_a_sweep_that_did_nothing_is_not(bucket, wrapper):
    lost = left_by_a_web_process(bucket, wrapper, "lost.bin", hours_old=2)

    sweep_uploads()
    sweep_uploads()

    (event,) = AuditEvent.objects.filter(action="upload.sweep")
    assert event.after == {"lost_transfers": [lost.pk], "aborted_uploads": 1, "removed_files": 0}


def test_the_command_runs_the_same_sweep(bucket, wrapper, capsys):
    left_by_a_web_process(bucket, wrapper, "lost.bin", hours_old=2)

    call_command("sweep_uploads")

    assert multipart_uploads(bucket) == []
    out = capsys.readouterr().out
    assert "1 lost transfer(s) failed; 1 multipart upload(s) aborted; 0 leftover file(s) of var/uploads removed" in out


def test_beat_sweeps_the_uploads_every_hour():
    from console.celery import app
    from encryption import tasks

    (entry,) = [
        entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "encryption.sweep_uploads"
    ]
    assert entry["schedule"] == 3600.0
    assert app.tasks[tasks.sweep_uploads_task.name].name == "encryption.sweep_uploads"
