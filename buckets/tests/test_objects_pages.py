"""Object pages against localcloud: browse, detail, upload, change encryption, download, errors and roles."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from buckets.models import Bucket
from buckets.views.objects import object_url
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule, OssClient
from cloud.sse import Sse
from console.testing.cloud import new_bucket
from console.testing.objects import KEEP_HEADERS, content_of, named_key, put


def url(name: str, bucket, **query) -> str:
    return object_url(f"buckets:{name}", bucket, **query)


def upload_form(**fields) -> dict:
    return {"file": SimpleUploadedFile("report.txt", b"report body"), "method": "default", **fields}


def test_browsing_shows_folders_first_then_objects_with_encryption_and_pages(cloud_connection, client_as, viewer):
    bucket = new_bucket(cloud_connection, "pages-browse", EncryptionRule("KMS"))
    for number in range(150):
        put(bucket, f"object-{number:03}.txt")
    put(bucket, "zz-folder/inside.txt")
    client = client_as(viewer)

    first = client.get(url("object_list", bucket))
    html = first.content.decode()
    assert first.status_code == 200 and "Next page" in html and "First page" not in html
    assert html.count("KMS AES256 alias/acs/oss(") == 100
    next_link = first.context["listing"].next_token
    second = client.get(url("object_list", bucket, token=next_link))
    html = second.content.decode()
    assert "First page" in html and "Next page" not in html
    assert html.index("zz-folder/") < html.index("object-100.txt")
    assert len(second.context["listing"].objects) == 50
    assert cloud_connection.access_key_secret not in first.content.decode() + html


def test_browsing_a_folder_shows_its_breadcrumb(cloud_connection, client_as, viewer):
    bucket = new_bucket(cloud_connection, "pages-folder")
    put(bucket, "a/b/c.txt")

    page = client_as(viewer).get(url("object_list", bucket, prefix="a/b/"))

    html = page.content.decode()
    assert "c.txt" in html and f'href="{reverse("buckets:object_list", args=[bucket.pk])}?prefix=a/"' in html


def test_browsing_a_bucket_that_is_gone_shows_the_error(cloud_connection, client_as, viewer):
    bucket = Bucket.objects.create(
        connection=cloud_connection, name="pages-gone", region="cn-hangzhou", refreshed_at=timezone.now()
    )

    page = client_as(viewer).get(url("object_list", bucket))

    assert page.status_code == 404 and "NoSuchBucket" in page.content.decode()


def test_detail_shows_sse_with_the_key_alias_and_client_side_encryption(cloud_connection, client_as, viewer):
    bucket = new_bucket(cloud_connection, "pages-detail")
    key_id = named_key(cloud_connection)
    headers = {
        **KEEP_HEADERS,
        **Sse("kms", "SM4", key_id).request_headers(),
        "x-oss-meta-client-side-encryption-key": "a2V5",
        "x-oss-meta-client-side-encryption-wrap-alg": "KMS/ALICLOUD",
        "x-oss-meta-client-side-encryption-cek-alg": "AES/CTR/NoPadding",
        "x-oss-meta-client-side-encryption-unencrypted-content-length": "7",
    }
    put(bucket, "docs/q1.csv", b"payload", headers)

    page = client_as(viewer).get(url("object_detail", bucket, key="docs/q1.csv"))

    html = page.content.decode()
    assert page.status_code == 200
    assert f"KMS SM4 alias/reports({key_id})" in html and "x-oss-server-side-data-encryption" in html
    assert f'<td><code>{key_id}</code> <span class="help">alias/reports({key_id})</span></td>' in html
    assert "client-side encrypted" in html and "KMS data key (AliKMSProvider)" in html and "7 bytes" in html
    assert "no-cache" in html and "x-oss-meta-owner" in html and "Download" in html
    assert "Change encryption" not in html


def test_detail_of_a_missing_object_is_an_error_page(cloud_connection, client_as, viewer):
    bucket = new_bucket(cloud_connection, "pages-missing")

    page = client_as(viewer).get(url("object_detail", bucket, key="nothing/here.txt"))

    assert page.status_code == 404 and "NoSuchKey" in page.content.decode()


def test_upload_page_offers_the_bucket_default_and_reports_that_the_object_setting_won(
    cloud_connection, client_as, operator
):
    bucket = new_bucket(cloud_connection, "pages-upload", EncryptionRule("KMS"))
    client = client_as(operator)

    form = client.get(url("object_upload", bucket, prefix="in/"))
    assert "Bucket default (KMS AES256 alias/acs/oss)" in form.content.decode()

    result = client.post(
        url("object_upload", bucket), upload_form(prefix="in/", method="oss", algorithm="SM4", metadata="owner=me")
    )

    html = result.content.decode()
    assert result.status_code == 200 and "Uploaded in/report.txt: no object → OSS-managed SM4." in html
    assert "the object setting won over the bucket default (KMS AES256 alias/acs/oss)" in html
    assert content_of(bucket, "in/report.txt") == b"report body"
    assert AuditEvent.objects.get(action="object.upload").channel == "ui"


def test_upload_page_with_the_bucket_default(cloud_connection, client_as, operator):
    bucket = new_bucket(cloud_connection, "pages-upload-default", EncryptionRule("SM4"))

    result = client_as(operator).post(url("object_upload", bucket), upload_form(key="chosen/name.txt"))

    assert "OSS-managed SM4: from the bucket default" in result.content.decode()
    assert content_of(bucket, "chosen/name.txt") == b"report body"


def test_upload_page_with_a_named_kms_key(cloud_connection, client_as, operator):
    bucket = new_bucket(cloud_connection, "pages-upload-kms")
    key_id = named_key(cloud_connection)

    result = client_as(operator).post(url("object_upload", bucket), upload_form(method="kms", key_id=key_id))

    assert f"KMS AES256 alias/reports({key_id})" in result.content.decode()


def test_upload_page_refuses_an_existing_key_unless_overwrite(cloud_connection, client_as, operator):
    bucket = new_bucket(cloud_connection, "pages-upload-exists")
    put(bucket, "report.txt", b"first")
    client = client_as(operator)

    refused = client.post(url("object_upload", bucket), upload_form())
    assert refused.status_code == 200 and "already exists" in refused.content.decode()
    assert content_of(bucket, "report.txt") == b"first"

    replaced = client.post(url("object_upload", bucket), upload_form(overwrite="on", method="oss", algorithm="SM4"))
    assert content_of(bucket, "report.txt") == b"report body"
    assert "Uploaded report.txt: None (the object it replaced) → OSS-managed SM4." in replaced.content.decode()


def test_upload_page_checks_metadata_lines(cloud_connection, client_as, operator):
    bucket = new_bucket(cloud_connection, "pages-upload-meta")

    page = client_as(operator).post(url("object_upload", bucket), upload_form(metadata="no separator"))

    assert page.status_code == 200 and "write name=value" in page.content.decode()


def test_change_encryption_page_changes_and_returns_to_the_detail(cloud_connection, client_as, operator):
    bucket = new_bucket(cloud_connection, "pages-change")
    put(bucket, "a.txt", b"content", KEEP_HEADERS)
    client = client_as(operator)

    form = client.get(url("object_encryption", bucket, key="a.txt"))
    etag = form.context["detail"].head.etag
    assert "can only be decrypted in place in a bucket without a default" in form.content.decode()
    done = client.post(
        url("object_encryption", bucket, key="a.txt"), {"method": "oss", "algorithm": "SM4", "expected_etag": etag}
    )

    assert done.status_code == 302 and done["Location"] == url("object_detail", bucket, key="a.txt")
    detail = client.get(done["Location"])
    assert "Encryption of a.txt: None → OSS-managed SM4." in detail.content.decode()
    assert content_of(bucket, "a.txt") == b"content"


def test_change_encryption_page_refuses_none_under_a_bucket_default(cloud_connection, client_as, operator):
    bucket = new_bucket(cloud_connection, "pages-change-none", EncryptionRule("AES256"))
    put(bucket, "a.txt")

    page = client_as(operator).post(url("object_encryption", bucket, key="a.txt"), {"method": "none"})

    html = page.content.decode()
    assert page.status_code == 200 and "This bucket encrypts by default (OSS-managed AES256)" in html


def test_change_encryption_page_reports_an_object_that_changed_since_the_form(cloud_connection, client_as, operator):
    bucket = new_bucket(cloud_connection, "pages-change-stale")
    put(bucket, "a.txt", b"old")
    client = client_as(operator)
    etag = client.get(url("object_encryption", bucket, key="a.txt")).context["detail"].head.etag
    put(bucket, "a.txt", b"newer")

    page = client.post(
        url("object_encryption", bucket, key="a.txt"), {"method": "oss", "algorithm": "SM4", "expected_etag": etag}
    )

    assert "The object changed while we worked; nothing was overwritten" in page.content.decode()
    assert content_of(bucket, "a.txt") == b"newer"


def test_download_streams_the_exact_bytes_as_an_attachment(cloud_connection, client_as, viewer):
    bucket = new_bucket(cloud_connection, "pages-download", EncryptionRule("SM4"))
    content = os.urandom(250_000)
    put(bucket, "dir/Résumé 2024.pdf", content, {"Content-Type": "application/pdf"})

    response = client_as(viewer).get(url("object_download", bucket, key="dir/Résumé 2024.pdf"))

    assert response.status_code == 200 and b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "application/pdf" and response["Content-Length"] == str(len(content))
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''R%C3%A9sum%C3%A9%202024.pdf"


def test_download_under_a_disabled_cmk_shows_the_kms_refusal(cloud_connection, client_as, viewer):
    bucket = new_bucket(cloud_connection, "pages-download-kms")
    key_id = named_key(cloud_connection)
    put(bucket, "secret.txt", b"s", Sse("kms", "AES256", key_id).request_headers())
    KmsClient(cloud_connection).disable_key(key_id)

    page = client_as(viewer).get(url("object_download", bucket, key="secret.txt"))

    html = page.content.decode()
    assert page.status_code == 400 and "This request is forbidden by kms." in html and "AccessDenied" in html
    assert "Enable the key" in html


@pytest.mark.parametrize("page", ["object_upload", "object_encryption"])
def test_viewers_cannot_open_or_post_the_change_pages(cloud_connection, client_as, viewer, page):
    bucket = new_bucket(cloud_connection, "pages-viewer")
    put(bucket, "a.txt")
    client = client_as(viewer)

    assert client.get(url(page, bucket, key="a.txt")).status_code == 403
    assert client.post(url(page, bucket, key="a.txt"), upload_form(method="oss", algorithm="SM4")).status_code == 403
    assert Sse.of_headers(OssClient(cloud_connection).head_object(bucket.name, "a.txt").headers).method == "none"
    assert not AuditEvent.objects.filter(action__startswith="object.").exists()


def test_people_without_a_role_cannot_browse(cloud_connection, client_as, outsider):
    bucket = new_bucket(cloud_connection, "pages-outsider")

    for page in ("object_list", "object_detail", "object_download"):
        assert client_as(outsider).get(url(page, bucket, key="a.txt")).status_code == 403


def test_an_operator_sees_the_change_button(cloud_connection, client_as, operator):
    bucket = new_bucket(cloud_connection, "pages-operator")
    put(bucket, "a.txt")

    page = client_as(operator).get(url("object_detail", bucket, key="a.txt"))

    assert "Change encryption" in page.content.decode()
