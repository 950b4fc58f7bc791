"""Large client-side encrypted uploads: the web process sends the encrypted parts of a multipart upload, recording
each, and a Celery worker on any host completes it (a real worker, localcloud over HTTP, oss2 reading the result)."""

import base64
import io
import os
import signal

import oss2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from buckets.services import cse_transfer
from buckets.views.objects import object_url
from cloud.cse.content import MIN_PART_SIZE
from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from console.testing.waits import wait_until
from console.testing.workers import start_worker_process
from encryption.models import CseTransfer
from encryption.services import master_keys

pytestmark = pytest.mark.slow

PART_SIZE = MIN_PART_SIZE
PLAIN = os.urandom(3 * PART_SIZE + 50 * 1024) + b"the end"  # four parts, the last one short


@pytest.fixture
def master_key(admin):
    return master_keys.generate_rsa(actor=admin, name="finance", bits=2048)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.CSE_MULTIPART_THRESHOLD = PART_SIZE
    settings.VAR_DIR = tmp_path / "host-a"
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


def read_by_oss2(bucket, key: str, master_key) -> bytes:
    """The object as oss2's CryptoBucket decrypts it with the same master key."""
    wrapper = master_keys.wrapper_for(master_key)
    pair = {"private_key": wrapper.private_pem(), "public_key": wrapper.public_pem()}
    provider = oss2.RsaProvider(key_pair=pair, mat_desc=master_key.matdesc)
    connection = bucket.connection
    auth = oss2.AuthV4(connection.access_key_id, connection.access_key_secret)
    crypto = oss2.CryptoBucket(auth, connection.oss_endpoint, bucket.name, provider, region=connection.region)
    return crypto.get_object(key).read()


def multipart_uploads(bucket) -> list[str]:
    """The keys of the multipart uploads in progress in the bucket, as ListMultipartUploads lists them."""
    return [upload.key for upload in oss2.MultipartUploadIterator(OssClient(bucket.connection)._bucket(bucket.name))]


def test_a_large_upload_is_sent_in_parts_and_completed_by_a_worker_into_an_object_oss2_decrypts(
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
    transfer.refresh_from_db()
    assert [number for number, _ in transfer.parts] == [1, 2, 3, 4] and transfer.part_size == PART_SIZE

    assert read_by_oss2(bucket, "big/data.bin", master_key) == PLAIN
    assert multipart_uploads(bucket) == []
    assert not (var_dir / "uploads").exists()
    page = client.get(posted["Location"]).content.decode()
    assert "Done" in page and "Open the object" in page and 'http-equiv="refresh"' not in page
    event = AuditEvent.objects.get(action="object.upload.cse")
    assert event.actor == operator and event.after["multipart"] is True and event.after["size"] == len(PLAIN)
    plain = client.get(object_url("buckets:object_download", bucket, key="big/data.bin", decrypt=1))
    assert b"".join(plain.streaming_content) == PLAIN


def test_progress_is_recorded_as_each_part_completes(cloud_connection, operator, master_key, var_dir, monkeypatch):
    """What the database says each time the web process starts sending a part: the parts before it, done."""
    bucket = new_bucket(cloud_connection, "cse-background-progress")
    recorded_before_each_part = []
    send_part = OssClient.upload_part

    def recording_progress(self, *args, **kwargs):
        recorded_before_each_part.append(CseTransfer.objects.values_list("bytes_done", "state").get())
        return send_part(self, *args, **kwargs)

    monkeypatch.setattr(OssClient, "upload_part", recording_progress)

    transfer = cse_transfer.start_background_upload(
        bucket, "big.bin", SimpleUploadedFile("big.bin", PLAIN), master_key, operator
    )

    assert recorded_before_each_part == [(number * PART_SIZE, "sending") for number in range(4)]
    assert transfer.state == "queued" and transfer.bytes_done == len(PLAIN) and len(transfer.parts) == 4
    assert transfer.percent == 100.0 and multipart_uploads(bucket) == ["big.bin"]


def test_a_worker_on_another_host_completes_the_upload(
    cloud_connection, client_as, operator, master_key, var_dir, settings
):
    """The worker runs with a var dir of its own, as on another host: it shares only the database, Redis, the
    cloud and the secrets every host is given."""
    bucket = new_bucket(cloud_connection, "cse-background-hosts")
    client = client_as(operator)
    host_b = var_dir.parent / "host-b"
    shared_secrets = {
        "SECRET_KEY": settings.SECRET_KEY,
        "CONSOLE_ROOT_KEY": base64.urlsafe_b64encode(settings.CONSOLE_ROOT_KEY).decode(),
    }
    worker_on_host_b = start_worker_process(settings, CONSOLE_VAR_DIR=host_b, **shared_secrets)
    try:
        posted = page_upload(client, bucket, "big/data.bin", PLAIN, master_key)
        assert posted.status_code == 302
        last = follow(client, CseTransfer.objects.get(), timeout=90)[-1]
    finally:
        os.killpg(worker_on_host_b.pid, signal.SIGTERM)
        worker_on_host_b.wait(30)

    assert (last["state"], last["error"]) == ("done", "")
    assert read_by_oss2(bucket, "big/data.bin", master_key) == PLAIN
    assert multipart_uploads(bucket) == []
    assert not (var_dir / "uploads").exists() and not (host_b / "uploads").exists()


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
    assert 'http-equiv="refresh" content="1"' in page and "Sending parts" in page


def test_an_upload_to_a_bucket_deleted_meanwhile_fails_clearly(
    cloud_connection, client_as, operator, master_key, var_dir
):
    bucket = new_bucket(cloud_connection, "cse-background-gone")
    OssClient(cloud_connection)._bucket(bucket.name).delete_bucket()
    client = client_as(operator)

    posted = page_upload(client, bucket, "big/data.bin", PLAIN, master_key)

    assert posted.status_code == 302
    last = follow(client, CseTransfer.objects.get())[-1]
    assert last["state"] == "failed" and "NoSuchBucket" in last["error"] and last["object_url"] == ""
    page = client.get(posted["Location"]).content.decode()
    assert "Failed" in page and "NoSuchBucket" in page
    assert AuditEvent.objects.get(action="object.upload.cse").outcome == AuditEvent.FAILURE


class FailingAfterOnePart(io.BytesIO):
    """The received file, unreadable past its first part (as when the disk under Django's temporary file fails)."""

    def read(self, size=-1):
        if self.tell() >= PART_SIZE:
            raise OSError("Input/output error")
        return super().read(size)


def test_an_upload_failing_while_its_parts_are_sent_is_aborted(cloud_connection, operator, master_key, var_dir):
    bucket = new_bucket(cloud_connection, "cse-background-broken")
    received = FailingAfterOnePart(PLAIN)
    received.size = len(PLAIN)

    transfer = cse_transfer.start_background_upload(bucket, "big.bin", received, master_key, operator)

    assert transfer.state == "failed" and transfer.error and transfer.finished_at
    assert len(transfer.parts) == 1 and transfer.bytes_done == PART_SIZE and transfer.upload_id == ""
    assert multipart_uploads(bucket) == []
    assert AuditEvent.objects.get(action="object.upload.cse").outcome == AuditEvent.FAILURE


def test_a_master_key_removed_before_the_worker_completes_fails_and_aborts_the_upload(
    cloud_connection, operator, master_key, var_dir, monkeypatch
):
    from encryption import tasks

    queued = []
    monkeypatch.setattr(tasks.complete_upload_task, "delay", queued.append)
    bucket = new_bucket(cloud_connection, "cse-background-key")
    transfer = cse_transfer.start_background_upload(
        bucket, "big.bin", SimpleUploadedFile("big.bin", PLAIN), master_key, operator
    )
    assert queued == [transfer.pk] and multipart_uploads(bucket) == ["big.bin"]
    master_key.delete()

    assert cse_transfer.complete_background_upload(transfer.pk) == "failed"

    transfer.refresh_from_db()
    assert transfer.state == "failed" and "master key was deleted" in transfer.error and transfer.finished_at
    assert multipart_uploads(bucket) == []
    assert AuditEvent.objects.get(action="object.upload.cse").outcome == AuditEvent.FAILURE


def test_a_completion_run_again_after_its_worker_stopped_finds_the_object_done(
    cloud_connection, operator, master_key, var_dir, monkeypatch
):
    """acks_late: a worker that sent Complete but stopped before recording it leaves the task to run again."""
    from encryption import tasks

    monkeypatch.setattr(tasks.complete_upload_task, "delay", lambda transfer_id: None)
    bucket = new_bucket(cloud_connection, "cse-background-again")
    transfer = cse_transfer.start_background_upload(
        bucket, "big.bin", SimpleUploadedFile("big.bin", PLAIN), master_key, operator
    )
    assert cse_transfer.complete_background_upload(transfer.pk) == "done"
    CseTransfer.objects.filter(pk=transfer.pk).update(state=CseTransfer.RUNNING, finished_at=None)

    assert cse_transfer.complete_background_upload(transfer.pk) == "done"

    transfer.refresh_from_db()
    assert (transfer.state, transfer.error) == ("done", "")
    assert read_by_oss2(bucket, "big.bin", master_key) == PLAIN
