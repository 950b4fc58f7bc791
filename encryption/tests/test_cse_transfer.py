"""Client-side encrypted upload and download through the console (pages, API, service) against localcloud."""

import os

import oss2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from buckets.services import cse_transfer
from buckets.views.objects import object_url
from cloud.cse import CseError
from cloud.cse.content import MIN_PART_SIZE
from cloud.cse.wrapping import RsaWrapper
from cloud.oss import EncryptionRule, OssClient
from console.testing.cloud import new_bucket
from encryption.models import CseTransfer
from encryption.services import master_keys

PLAIN = os.urandom(50_000) + b"the end"
META = "x-oss-meta-client-side-encryption-"


@pytest.fixture
def master_key(admin):
    return master_keys.generate_rsa(actor=admin, name="finance", bits=2048)


def stored(bucket, key: str):
    download = OssClient(bucket.connection).download_object(bucket.name, key)
    return b"".join(download.chunks), download.head


def page_upload(client, bucket, key: str, data: bytes, master_key=None, **fields):
    form = {
        "file": SimpleUploadedFile("upload.bin", data),
        "key": key,
        "method": "default",
        "cse_master_key": master_key.pk if master_key else "",
        **fields,
    }
    return client.post(reverse("buckets:object_upload", args=[bucket.pk]), form)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def api_content(bucket) -> str:
    return f"/api/v1/buckets/{bucket.pk}/objects/content/"


def test_page_upload_encrypts_on_the_client_side_and_downloads_decrypted(
    cloud_connection, client_as, operator, master_key
):
    bucket = new_bucket(cloud_connection, "cse-transfer-page", EncryptionRule("AES256"))
    client = client_as(operator)

    form = client.get(reverse("buckets:object_upload", args=[bucket.pk])).content.decode()
    uploaded = page_upload(client, bucket, "in/report.bin", PLAIN, master_key)

    assert "Client-side encryption with master key" in form and "finance" in form
    assert uploaded.status_code == 200 and "Uploaded" in uploaded.content.decode()
    ciphertext, head = stored(bucket, "in/report.bin")
    assert ciphertext != PLAIN and len(ciphertext) == len(PLAIN)
    assert head.header(f"{META}key") and head.header(f"{META}wrap-alg")
    assert head.header("x-oss-server-side-encryption") == "AES256"
    event = AuditEvent.objects.get(action="object.upload.cse")
    assert event.after["master_key"] == "finance" and event.after["size"] == len(PLAIN)
    assert "PRIVATE" not in str(event.after) and event.after["multipart"] is False

    detail = client.get(object_url("buckets:object_detail", bucket, key="in/report.bin")).content.decode()
    assert "Download decrypted" in detail and "Download as stored (ciphertext)" in detail and "finance" in detail

    plain = client.get(object_url("buckets:object_download", bucket, key="in/report.bin", decrypt=1))
    raw = client.get(object_url("buckets:object_download", bucket, key="in/report.bin"))
    assert plain.status_code == 200 and body(plain) == PLAIN and plain["Content-Length"] == str(len(PLAIN))
    assert 'filename="report.bin"' in plain["Content-Disposition"]
    assert body(raw) == ciphertext

    part = client.get(
        object_url("buckets:object_download", bucket, key="in/report.bin", decrypt=1, range="bytes=17-4100")
    )
    assert part.status_code == 206 and body(part) == PLAIN[17:4101]
    assert part["Content-Range"] == f"bytes 17-4100/{len(PLAIN)}"


def test_api_upload_and_decrypted_download_with_ranges(cloud_connection, api_as, operator, viewer, master_key):
    bucket = new_bucket(cloud_connection, "cse-transfer-api")
    answer = api_as(operator).post(
        f"/api/v1/buckets/{bucket.pk}/objects/",
        {"file": SimpleUploadedFile("x.bin", PLAIN), "key": "x.bin", "cse_master_key": master_key.pk},
        format="multipart",
    )
    assert answer.status_code == 201 and answer.json()["cse_master_key"] == "finance"
    assert stored(bucket, "x.bin")[0] != PLAIN

    client = api_as(viewer)
    whole = client.get(api_content(bucket), {"key": "x.bin", "decrypt": "true"})
    suffix = client.get(api_content(bucket), {"key": "x.bin", "decrypt": "true", "range": "bytes=-100"})
    tail = client.get(api_content(bucket), {"key": "x.bin", "decrypt": "true", "range": "bytes=49990-"})
    bad = client.get(api_content(bucket), {"key": "x.bin", "decrypt": "true", "range": "bytes=9-2"})

    assert whole.status_code == 200 and body(whole) == PLAIN
    assert suffix.status_code == 206 and body(suffix) == PLAIN[-100:]
    assert suffix["Content-Range"] == f"bytes {len(PLAIN) - 100}-{len(PLAIN) - 1}/{len(PLAIN)}"
    assert body(tail) == PLAIN[49990:]
    assert bad.status_code == 400 and "ends before it starts" in bad.json()["detail"]


def test_an_object_written_by_oss2_crypto_bucket_downloads_decrypted(cloud_connection, api_as, viewer, master_key):
    bucket = new_bucket(cloud_connection, "cse-transfer-oss2")
    wrapper = master_keys.wrapper_for(master_key)
    assert isinstance(wrapper, RsaWrapper)
    provider = oss2.RsaProvider(
        key_pair={"private_key": wrapper.private_pem(), "public_key": wrapper.public_pem()}, mat_desc=master_key.matdesc
    )
    auth = oss2.AuthV4(cloud_connection.access_key_id, cloud_connection.access_key_secret)
    crypto = oss2.CryptoBucket(
        auth, cloud_connection.oss_endpoint, bucket.name, provider, region=cloud_connection.region
    )
    crypto.put_object("sdk.bin", PLAIN)

    answer = api_as(viewer).get(api_content(bucket), {"key": "sdk.bin", "decrypt": "true"})
    ranged = cse_transfer.download_client_side(bucket, "sdk.bin", actor=None, byte_range=(100, 199))

    assert answer.status_code == 200 and body(answer) == PLAIN
    assert b"".join(ranged.stream) == PLAIN[100:200] and ranged.master_key == master_key


def test_unknown_master_key_is_a_clear_4xx(cloud_connection, client_as, api_as, viewer, admin):
    bucket = new_bucket(cloud_connection, "cse-transfer-unknown")
    stranger = master_keys.generate_rsa(actor=admin, name="stranger", matdesc={"team": "gone"})
    cse_transfer.upload_client_side(bucket, "lost.bin", SimpleUploadedFile("lost.bin", b"secret"), stranger, admin)
    stranger.delete()

    page = client_as(viewer).get(object_url("buckets:object_download", bucket, key="lost.bin", decrypt=1))
    detail = client_as(viewer).get(object_url("buckets:object_detail", bucket, key="lost.bin")).content.decode()
    answer = api_as(viewer).get(api_content(bucket), {"key": "lost.bin", "decrypt": "true"})

    assert page.status_code == 400 and "Unknown master key" in page.content.decode()
    assert "unknown master key" in detail and "Download decrypted" not in detail and "gone" in detail
    assert answer.status_code == 400 and "Unknown master key" in answer.json()["detail"]
    assert "team" in answer.json()["detail"]
    OssClient(cloud_connection).put_object(bucket.name, "plain.txt", b"plain", {})
    with pytest.raises(CseError, match="not client-side encrypted"):
        cse_transfer.download_client_side(bucket, "plain.txt", actor=None)


def test_viewer_cannot_upload(cloud_connection, client_as, api_as, viewer, master_key):
    bucket = new_bucket(cloud_connection, "cse-transfer-viewer")

    page = page_upload(client_as(viewer), bucket, "no.bin", b"no", master_key)
    answer = api_as(viewer).post(
        f"/api/v1/buckets/{bucket.pk}/objects/",
        {"file": SimpleUploadedFile("no.bin", b"no"), "key": "no.bin", "cse_master_key": master_key.pk},
        format="multipart",
    )

    assert page.status_code == 403 and answer.status_code == 403
    assert not AuditEvent.objects.filter(action="object.upload.cse").exists()


def test_multipart_upload_above_the_threshold_round_trips(cloud_connection, operator, master_key, settings):
    """The work of the background task (test_cse_background runs it in a worker), done here in the test."""
    settings.CSE_MULTIPART_THRESHOLD = MIN_PART_SIZE
    bucket = new_bucket(cloud_connection, "cse-transfer-multipart", EncryptionRule("SM4"))
    data = os.urandom(MIN_PART_SIZE * 2 + 777)

    uploaded = cse_transfer.upload_client_side(
        bucket, "big.bin", SimpleUploadedFile("big.bin", data), master_key, operator
    )
    ciphertext, head = stored(bucket, "big.bin")
    decrypted = cse_transfer.download_client_side(bucket, "big.bin", actor=None)
    middle = (MIN_PART_SIZE - 5, MIN_PART_SIZE + 5)
    ranged = cse_transfer.download_client_side(bucket, "big.bin", actor=None, byte_range=middle)

    assert uploaded.multipart
    assert head.header(f"{META}part-size") == str(MIN_PART_SIZE) and head.header(f"{META}data-size") == str(len(data))
    assert head.header("x-oss-server-side-encryption") == "SM4" and ciphertext != data
    assert b"".join(decrypted.stream) == data
    assert b"".join(ranged.stream) == data[MIN_PART_SIZE - 5 : MIN_PART_SIZE + 6]
    assert AuditEvent.objects.get(action="object.upload.cse").after["multipart"] is True


@pytest.mark.parametrize("size, background", [(MIN_PART_SIZE, False), (MIN_PART_SIZE + 1, True)])
def test_the_page_and_the_api_send_client_side_uploads_above_the_threshold_to_the_background(
    cloud_connection, client_as, api_as, operator, master_key, settings, tmp_path, size, background
):
    settings.CSE_MULTIPART_THRESHOLD, settings.VAR_DIR = MIN_PART_SIZE, tmp_path
    bucket = new_bucket(cloud_connection, "cse-dispatch")
    data = os.urandom(size)

    page = page_upload(client_as(operator), bucket, "page.bin", data, master_key)
    answer = api_as(operator).post(
        f"/api/v1/buckets/{bucket.pk}/objects/",
        {"file": SimpleUploadedFile("api.bin", data), "key": "api.bin", "cse_master_key": master_key.pk},
        format="multipart",
    )

    transfers = dict(CseTransfer.objects.values_list("key", "pk"))
    if background:
        assert page.status_code == 302
        assert page["Location"] == reverse("encryption:cse_transfer", args=[transfers["page.bin"]])
        status_url = reverse("encryption:cse_transfer_status", args=[transfers["api.bin"]])
        assert answer.status_code == 202 and answer["Location"] == status_url
        assert answer.json() == {
            "transfer_id": transfers["api.bin"],
            "key": "api.bin",
            "size": size,
            "state": CseTransfer.QUEUED,
            "status_url": status_url,
            "page_url": reverse("encryption:cse_transfer", args=[transfers["api.bin"]]),
        }
    else:
        assert transfers == {}
        assert page.status_code == 200 and "Uploaded page.bin" in page.content.decode()
        assert answer.status_code == 201 and answer.json()["cse_master_key"] == "finance"
        assert stored(bucket, "api.bin")[1].header(f"{META}key")


def test_part_size_is_a_multiple_of_16_and_keeps_to_10000_parts():
    assert cse_transfer.part_size_for(10**6, 64 * 1024**2 + 5) == 64 * 1024**2
    assert cse_transfer.part_size_for(10**6, 1) == MIN_PART_SIZE
    big = cse_transfer.part_size_for(5 * 1024**4, 100 * 1024)
    assert big % 16 == 0 and big * 10_000 >= 5 * 1024**4
    assert cse_transfer.parse_range("bytes=-5") == (None, 5) and cse_transfer.parse_range("") is None
    with pytest.raises(CseError):
        cse_transfer.parse_range("bytes=a-b")


def test_every_decrypted_download_is_audited_with_who_read_what_under_which_master_key(
    cloud_connection, client_as, api_as, operator, viewer, master_key
):
    bucket = new_bucket(cloud_connection, "cse-transfer-audited")
    page_upload(client_as(operator), bucket, "in/payroll.bin", PLAIN, master_key)

    client_as(viewer).get(object_url("buckets:object_download", bucket, key="in/payroll.bin", decrypt=1))
    api_as(viewer).get(api_content(bucket), {"key": "in/payroll.bin", "decrypt": "true", "range": "bytes=0-9"})

    reads = AuditEvent.objects.filter(action="object.download.decrypted").order_by("pk")
    assert [(event.actor_name, event.channel, event.object_key, event.outcome) for event in reads] == [
        (viewer.username, "ui", "in/payroll.bin", AuditEvent.SUCCESS),
        (viewer.username, "api", "in/payroll.bin", AuditEvent.SUCCESS),
    ]
    assert [event.after for event in reads] == [
        {"master_key": "finance", "range": "whole"},
        {"master_key": "finance", "range": f"bytes 0-9/{len(PLAIN)}"},
    ]
    assert all(event.request_id for event in reads)


def test_a_refused_decrypted_download_is_audited_too(cloud_connection, api_as, viewer):
    bucket = new_bucket(cloud_connection, "cse-transfer-refused-read")
    OssClient(cloud_connection).put_object(bucket.name, "plain.txt", b"plain", {})

    answer = api_as(viewer).get(api_content(bucket), {"key": "plain.txt", "decrypt": "true"})

    refused = AuditEvent.objects.get(action="object.download.decrypted")
    assert answer.status_code == 400
    assert (refused.actor_name, refused.outcome) == (viewer.username, AuditEvent.FAILURE)
    assert "not client-side encrypted" in refused.error
