"""Issue 14: staged uploads that no task will upload are swept, so their plaintext does not stay in var/uploads."""

import datetime
import os
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from buckets.services.cse_transfer import uploads_dir
from buckets.services.upload_sweep import LOST_UPLOAD_ERROR, sweep_uploads
from encryption.models import CseTransfer


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.CSE_UPLOAD_MAX_AGE_SECONDS = 3600


def staged(name: str, *, hours_old: float = 0) -> str:
    path = uploads_dir() / name
    path.write_bytes(b"plaintext waiting for its task")
    written = time.time() - hours_old * 3600
    os.utime(path, (written, written))
    return name


def transfer(temp_name: str, state: str = CseTransfer.QUEUED, *, hours_old: float = 0) -> CseTransfer:
    created = CseTransfer.objects.create(
        bucket_name="finance", key=temp_name, size=30, state=state, temp_name=temp_name
    )
    CseTransfer.objects.filter(pk=created.pk).update(created_at=timezone.now() - datetime.timedelta(hours=hours_old))
    return created


def still_staged() -> set[str]:
    return {path.name for path in uploads_dir().iterdir()}


def test_a_lost_uploads_file_is_deleted_and_its_transfer_failed_while_a_live_one_is_kept(db):
    lost = transfer(staged("cse-lost.upload", hours_old=2), hours_old=2)
    running = transfer(staged("cse-running.upload"), CseTransfer.RUNNING)

    sweep_uploads()

    assert still_staged() == {"cse-running.upload"}
    lost.refresh_from_db()
    assert (lost.state, lost.error) == (CseTransfer.FAILED, LOST_UPLOAD_ERROR)
    running.refresh_from_db()
    assert running.state == CseTransfer.RUNNING


def test_a_finished_transfers_leftover_file_is_deleted_at_once(db):
    transfer(staged("cse-done.upload"), CseTransfer.DONE)
    transfer(staged("cse-failed.upload"), CseTransfer.FAILED)

    sweep_uploads()

    assert still_staged() == set()


def test_a_file_without_a_transfer_is_deleted_once_old_and_kept_while_its_transfer_may_still_commit(db):
    staged("cse-orphan.upload", hours_old=2)
    staged("cse-being-saved.upload")

    sweep_uploads()

    assert still_staged() == {"cse-being-saved.upload"}


def test_a_sweep_that_removed_something_is_audited_and_a_sweep_that_did_nothing_is_not(db):
    lost = transfer(staged("cse-lost.upload", hours_old=2), hours_old=2)

    sweep_uploads()
    sweep_uploads()

    (event,) = AuditEvent.objects.filter(action="upload.sweep")
    assert event.after == {"removed_files": 1, "lost_transfers": [lost.pk]}


def test_the_command_runs_the_same_sweep(db, capsys):
    transfer(staged("cse-lost.upload", hours_old=2), hours_old=2)

    call_command("sweep_uploads")

    assert still_staged() == set()
    assert "removed 1 staged file(s); 1 lost transfer(s) failed" in capsys.readouterr().out


def test_beat_sweeps_the_uploads_every_hour():
    from console.celery import app

    app.loader.import_default_modules()
    (entry,) = [
        entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "encryption.sweep_uploads"
    ]
    assert entry["schedule"] == 3600.0
    assert "encryption.sweep_uploads" in app.tasks
