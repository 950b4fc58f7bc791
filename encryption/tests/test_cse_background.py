"""Large client-side encrypted uploads run as a Celery task with progress (a real worker, localcloud)."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from buckets.services import cse_transfer
from buckets.views.objects import object_url
from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from console.testing.waits import wait_until
from encryption.models import CseTransfer
from encryption.services import master_keys

pytestmark = pytest.mark.slow

PLAIN = os.urandom(350 * 1024) + b"the end"


@pytest.fixture
def master_key(admin):
    return master_keys.generate_rsa(actor=admin, name="finance", bits=2048)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.CSE_MULTIPART_THRESHOLD = 100 * 1024
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def page_upload(client, bucket, key: str, data: bytes, master_key):
    form = {
        "file": SimpleUploadedFile("big.bin", data),
        "key": key,
        "method": "default",
        "cse_master_key": master_key.pk,
    }
    return client.post(reverse("buckets:object_upload", args=[bucket.pk]), form)


def follow(client, transfer: CseTransfer, timeout: float = 30.0) -> list[dict]:
    """The status JSON polled until the upload ends: every answer seen."""
    url = reverse("encryption:cse_transfer_status", args=[transfer.pk])
    seen = []

    def finished() -> bool:
        answer = client.get(url)
        assert answer.status_code == 200
        seen.append(answer.json())
        return seen[-1]["finished"]

    wait_until(finished, timeout=timeout, message=f"upload {transfer.pk} to finish", observe=lambda: seen[-1]["state"])
    return seen


def uploads(var_dir) -> list[str]:
    folder = var_dir / "uploads"
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_a_large_upload_runs_in_the_background_with_progress(
    cloud_connection,
    client_as,
    operator,
    master_key,
    var_dir,
    worker,  # noqa: F811
):
    bucket = new_bucket(cloud_connection, "cse-background")
    client = client_as(operator)

    posted = page_upload(client, bucket, "big/data.bin", PLAIN, master_key)

    transfer = CseTransfer.objects.get()
    assert posted.status_code == 302 and posted["Location"] == reverse("encryption:cse_transfer", args=[transfer.pk])
    assert transfer.size == len(PLAIN) and transfer.created_by == operator and transfer.master_key == master_key
    seen = follow(client, transfer)
    last = seen[-1]
    assert last["state"] == "done" and last["error"] == "" and last["percent"] == 100.0
    assert last["bytes_done"] == last["size"] == len(PLAIN)
    assert last["object_url"] == object_url("buckets:object_detail", bucket, key="big/data.bin")
    assert all(answer["state"] in ("queued", "running", "done") for answer in seen)
    assert uploads(var_dir) == []

    page = client.get(posted["Location"]).content.decode()
    assert "Done" in page and "Open the object" in page and 'http-equiv="refresh"' not in page
    event = AuditEvent.objects.get(action="object.upload.cse")
    assert event.actor == operator and event.after["multipart"] is True and event.after["size"] == len(PLAIN)
    stored = b"".join(OssClient(cloud_connection).download_object(bucket.name, "big/data.bin").chunks)
    assert stored != PLAIN and len(stored) == len(PLAIN)
    plain = client.get(object_url("buckets:object_download", bucket, key="big/data.bin", decrypt=1))
    assert b"".join(plain.streaming_content) == PLAIN


def test_small_files_stay_synchronous_and_others_cannot_see_a_transfer(
    cloud_connection, client_as, operator, admin, make_user, master_key, var_dir
):
    bucket = new_bucket(cloud_connection, "cse-background-small")
    client = client_as(operator)
    small = page_upload(client, bucket, "small.bin", PLAIN[:50_000], master_key)
    assert small.status_code == 200 and "Uploaded" in small.content.decode()
    assert not CseTransfer.objects.exists()

    transfer = CseTransfer.objects.create(
        bucket=bucket, bucket_name=bucket.name, key="k", master_key=master_key, size=10, created_by=admin
    )
    assert client.get(reverse("encryption:cse_transfer_status", args=[transfer.pk])).status_code == 404
    page = client_as(admin).get(reverse("encryption:cse_transfer", args=[transfer.pk])).content.decode()
    assert 'http-equiv="refresh" content="1"' in page and "Queued" in page


def test_an_upload_to_a_bucket_deleted_meanwhile_fails_clearly(
    cloud_connection,
    client_as,
    operator,
    master_key,
    var_dir,
    worker,  # noqa: F811
):
    bucket = new_bucket(cloud_connection, "cse-background-gone")
    OssClient(cloud_connection)._bucket(bucket.name).delete_bucket()
    client = client_as(operator)

    posted = page_upload(client, bucket, "big/data.bin", PLAIN, master_key)

    assert posted.status_code == 302
    last = follow(client, CseTransfer.objects.get())[-1]
    assert last["state"] == "failed" and "NoSuchBucket" in last["error"] and last["object_url"] == ""
    assert uploads(var_dir) == []
    page = client.get(posted["Location"]).content.decode()
    assert "Failed" in page and "NoSuchBucket" in page
    assert AuditEvent.objects.get(action="object.upload.cse").outcome == AuditEvent.FAILURE


def test_a_master_key_removed_before_the_task_runs_fails_and_removes_the_file(
    cloud_connection, operator, master_key, var_dir, monkeypatch
):
    from encryption import tasks

    queued = []
    monkeypatch.setattr(tasks.upload_client_side_task, "delay", queued.append)
    bucket = new_bucket(cloud_connection, "cse-background-key")
    transfer = cse_transfer.start_background_upload(
        bucket, "big.bin", SimpleUploadedFile("big.bin", PLAIN), master_key, operator
    )
    assert queued == [transfer.pk]
    (saved,) = uploads(var_dir)
    assert (var_dir / "uploads" / saved).stat().st_mode & 0o777 == 0o600
    assert (var_dir / "uploads" / saved).read_bytes() == PLAIN
    master_key.delete()

    assert cse_transfer.run_background_upload(transfer.pk) == "failed"

    transfer.refresh_from_db()
    assert transfer.state == "failed" and "master key was deleted" in transfer.error and transfer.finished_at
    assert uploads(var_dir) == []
