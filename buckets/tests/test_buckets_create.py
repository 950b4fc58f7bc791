"""Creating a bucket, with its encryption chosen at creation: PutBucket, then PutBucketEncryption."""

import re

import pytest
from django.template.loader import render_to_string

from audit.models import AuditEvent
from buckets.models import Bucket, Connection
from buckets.services.buckets import check_bucket_name, create_bucket
from cloud.errors import ServiceError
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule, OssClient
from cloud.sse import Sse


def _outcomes(name):
    return [(e.action, e.outcome) for e in AuditEvent.objects.filter(bucket=name).order_by("id")]


def _exists(connection, name):
    return name in [bucket.name for bucket in OssClient(connection).list_buckets()]


@pytest.mark.parametrize("name", ["abc", "a-b-c", "0day", "x" * 63, "logs-2026"])
def test_valid_bucket_names(name):
    check_bucket_name(name)


@pytest.mark.parametrize("name", ["ab", "x" * 64, "-abc", "abc-", "ABC", "a_bc", "a.bc", "ab c", ""])
def test_invalid_bucket_names_are_refused(name):
    with pytest.raises(ServiceError, match="is not a valid bucket name: use 3-63 lower-case letters"):
        check_bucket_name(name)


# -- The page --------------------------------------------------------------------------------------------


def test_the_page_offers_the_connections_keys_and_every_field(client_as, admin, cloud_connection):
    kms = KmsClient(cloud_connection)
    key, _ = kms.create_key(description="finance")
    kms.create_alias(key.key_id, "alias/finance")

    page = client_as(admin).get("/buckets/new/")

    html = page.content.decode()
    assert page.status_code == 200
    assert f'<option value="{cloud_connection.pk}" selected>local (cn-hangzhou)</option>' in html
    for storage_class in ("Standard", "IA", "Archive", "ColdArchive"):
        assert f'<option value="{storage_class}"' in html
    for acl in ("private", "public-read", "public-read-write"):
        assert f'name="acl" value="{acl}"' in html
    assert f'<option value="{key.key_id}">alias/finance({key.key_id})</option>' in html


def test_picking_another_connection_offers_its_region(client_as, admin, cloud_connection, settings):
    settings.CONSOLE_KMS_REGIONS = ["cn-hangzhou"]
    elsewhere = Connection(name="elsewhere", oss_endpoint="http://127.0.0.1:9", region="us-east-1")
    elsewhere.set_credentials("LTAIelsewhere", "elsewhere-secret-value")
    elsewhere.save()

    page = client_as(admin).get(f"/buckets/new/?connection={elsewhere.pk}")

    html = page.content.decode()
    assert f'<option value="{elsewhere.pk}" selected>elsewhere (us-east-1)</option>' in html
    assert "KMS encryption is not available in region us-east-1" in html and re.search(
        r'value="kms"[^>]* disabled', html
    )
    assert "elsewhere-secret-value" not in html


def test_use_this_connection_shows_the_form_again_for_it_keeping_what_was_entered(client_as, admin, cloud_connection):
    elsewhere = Connection(name="elsewhere", oss_endpoint="http://127.0.0.1:9", region="cn-shanghai")
    elsewhere.set_credentials("LTAIelsewhere", "elsewhere-secret-value")
    elsewhere.save()
    client = client_as(admin)
    entered = f"connection={elsewhere.pk}&name=kept-name&storage_class=IA&acl=public-read&method=oss&algorithm=SM4"

    with_token = client.get(f"/buckets/new/?csrfmiddlewaretoken=abc&{entered}&use_connection=connection")
    page = client.get(with_token["Location"])

    assert with_token.status_code == 302 and "csrfmiddlewaretoken" not in with_token["Location"]
    html = page.content.decode()
    assert f'<option value="{elsewhere.pk}" selected>elsewhere (cn-shanghai)</option>' in html
    assert 'value="kept-name"' in html
    assert '<option value="IA" selected>' in html
    assert 'value="public-read" id="id_acl_1" required checked' in html
    assert 'value="SM4" id="id_algorithm_1" checked' in html


def test_admin_creates_an_encrypted_bucket_through_the_page(client_as, admin, cloud_connection):
    response = client_as(admin).post(
        "/buckets/new/",
        {
            "connection": cloud_connection.pk,
            "name": "payroll",
            "storage_class": "IA",
            "acl": "private",
            "method": "oss",
            "algorithm": "SM4",
        },
        follow=True,
    )

    bucket = Bucket.objects.get(name="payroll")
    assert response.redirect_chain == [(f"/buckets/{bucket.pk}/", 302)]
    assert "Bucket payroll created on local. Default encryption of payroll: None → OSS-managed SM4." in (
        response.content.decode()
    )
    assert OssClient(cloud_connection).get_encryption("payroll") == EncryptionRule("SM4")
    assert (bucket.storage_class, bucket.sse_label) == ("IA", "OSS-managed SM4")
    assert _outcomes("payroll") == [("bucket.create", "success"), ("bucket.encryption.put", "success")]


def test_the_page_refuses_an_invalid_name_before_asking_oss(client_as, admin, cloud_connection):
    page = client_as(admin).post(
        "/buckets/new/",
        {"connection": cloud_connection.pk, "name": "Payroll_2026", "storage_class": "Standard", "acl": "private",
         "method": "none"},
    )  # fmt: skip

    assert "is not a valid bucket name" in page.content.decode()
    assert Bucket.objects.count() == 0 and _outcomes("Payroll_2026") == []


def test_the_page_offers_no_kms_outside_the_kms_regions(client_as, admin, cloud_connection, settings):
    settings.CONSOLE_KMS_REGIONS = ["cn-shanghai"]

    page = client_as(admin).get("/buckets/new/")

    assert re.search(r'value="kms"[^>]* disabled', page.content.decode())
    assert "KMS encryption is not available in region cn-hangzhou" in page.content.decode()


def test_the_report_of_a_bucket_created_without_its_encryption(admin, cloud_connection, rf):
    created = create_bucket(
        connection=cloud_connection,
        name="half-done",
        storage_class="Standard",
        acl="private",
        encryption=Sse("kms", "AES256", "no-such-key"),
        actor=admin,
    )
    request = rf.get("/")
    request.user = admin

    html = render_to_string(
        "buckets/bucket_create_report.html",
        {"created": created, "requested_label": "KMS AES256 no-such-key", "encryption_url": "/encryption-form/"},
        request=request,
    )

    assert "Bucket half-done created, encryption NOT set" in html
    assert "KMS key no-such-key is not in the bucket&#x27;s region cn-hangzhou" in html
    assert "<strong>without default encryption</strong>" in html
    assert 'href="/encryption-form/"' in html


def test_the_create_page_is_for_admins(client_as, viewer, operator, cloud_connection):
    posted = {"connection": cloud_connection.pk, "name": "sneaky", "storage_class": "Standard", "acl": "private",
              "method": "none"}  # fmt: skip
    for user in (viewer, operator):
        assert client_as(user).get("/buckets/new/").status_code == 403
        assert client_as(user).post("/buckets/new/", posted).status_code == 403
    assert not _exists(cloud_connection, "sneaky")


def test_a_post_for_a_connection_that_does_not_exist_is_404(client_as, admin, cloud_connection):
    client = client_as(admin)

    for connection in ("999999", "local", ""):
        assert client.post("/buckets/new/", {"connection": connection, "name": "lost"}).status_code == 404


def test_the_create_page_says_when_there_is_no_connection(client_as, admin):
    page = client_as(admin).get("/buckets/new/")

    assert page.status_code == 200 and "There is no connection to create a bucket with yet." in page.content.decode()


# -- The API ---------------------------------------------------------------------------------------------


def test_api_creates_a_bucket_with_kms_encryption(api_as, admin, cloud_connection):
    response = api_as(admin).post(
        "/api/v1/buckets/",
        {
            "connection": cloud_connection.pk,
            "name": "vault",
            "storage_class": "Archive",
            "acl": "public-read",
            "encryption": {"method": "kms", "algorithm": "SM4"},
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["bucket"]["name"] == "vault" and body["bucket"]["storage_class"] == "Archive"
    assert body["bucket"]["encryption"]["label"] == "KMS SM4 alias/acs/oss"
    assert body["encryption"]["after"]["label"] == "KMS SM4 alias/acs/oss"
    assert body["encryption_error"] is None and body["request_id"]
    assert OssClient(cloud_connection).get_encryption("vault") == EncryptionRule("KMS", "", "SM4")
    assert OssClient(cloud_connection).bucket_details("vault").acl == "public-read"


def test_api_creates_a_bucket_without_encryption(api_as, admin, cloud_connection):
    response = api_as(admin).post("/api/v1/buckets/", {"connection": cloud_connection.pk, "name": "scratch"})

    assert response.status_code == 201
    assert response.json()["encryption"] is None and response.json()["encryption_error"] is None
    assert response.json()["encryption_requested"]["method"] == "none"
    assert _outcomes("scratch") == [("bucket.create", "success")]


def test_when_encryption_fails_after_creation_the_bucket_exists_unencrypted_and_the_answer_says_so(
    api_as, admin, cloud_connection
):
    response = api_as(admin).post(
        "/api/v1/buckets/",
        {
            "connection": cloud_connection.pk,
            "name": "half-done",
            "encryption": {"method": "kms", "algorithm": "AES256", "key_id": "no-such-key"},
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["encryption"] is None
    assert body["encryption_error"].startswith("KMS key no-such-key is not in the bucket's region cn-hangzhou")
    assert body["bucket"]["encryption"]["label"] == "None"
    assert _exists(cloud_connection, "half-done")
    assert OssClient(cloud_connection).get_encryption("half-done") is None
    assert _outcomes("half-done") == [("bucket.create", "success"), ("bucket.encryption.put", "failure")]


def test_api_refuses_kms_outside_the_kms_regions_before_creating_anything(api_as, admin, cloud_connection, settings):
    settings.CONSOLE_KMS_REGIONS = ["cn-shanghai"]

    response = api_as(admin).post(
        "/api/v1/buckets/",
        {"connection": cloud_connection.pk, "name": "not-here", "encryption": {"method": "kms", "algorithm": "SM4"}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "KMS encryption is not available in region cn-hangzhou: choose OSS-managed."}
    assert not _exists(cloud_connection, "not-here")
    assert _outcomes("not-here") == [("bucket.create", "failure")]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "Not_Valid"}, "name"),
        ({"name": "fine-name", "storage_class": "Glacier"}, "storage_class"),
        ({"name": "fine-name", "acl": "everyone"}, "acl"),
    ],
)
def test_api_refuses_invalid_input_field_by_field(api_as, admin, cloud_connection, body, field):
    response = api_as(admin).post("/api/v1/buckets/", {"connection": cloud_connection.pk, **body}, format="json")

    assert response.status_code == 400 and field in response.json()


def test_api_refuses_an_encryption_of_the_wrong_shape(api_as, admin, cloud_connection):
    response = api_as(admin).post(
        "/api/v1/buckets/",
        {"connection": cloud_connection.pk, "name": "shape", "encryption": {"method": "oss", "algorithm": "SM9"}},
        format="json",
    )

    assert response.status_code == 400 and response.json() == {
        "detail": "Unknown algorithm 'SM9': choose AES256 or SM4."
    }
    assert not _exists(cloud_connection, "shape")


def test_only_admins_create_buckets_through_the_api(api_as, viewer, operator, cloud_connection):
    for user in (viewer, operator):
        response = api_as(user).post("/api/v1/buckets/", {"connection": cloud_connection.pk, "name": "sneaky"})
        assert response.status_code == 403
    assert not _exists(cloud_connection, "sneaky")
