"""A bucket's default encryption: the form (plain POST, no JavaScript) and the API apply design.md §5 alike."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from buckets.models import Bucket
from buckets.services.buckets import NEW_OBJECTS_ONLY
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule, OssClient


@pytest.fixture
def bucket(cloud_connection):
    OssClient(cloud_connection).create_bucket("ledger")
    return Bucket.objects.create(
        connection=cloud_connection, name="ledger", region="cn-hangzhou", sse_label="None", refreshed_at=timezone.now()
    )


@pytest.fixture
def finance_key(cloud_connection):
    kms = KmsClient(cloud_connection)
    key, _ = kms.create_key(description="finance")
    kms.create_alias(key.key_id, "alias/finance")
    return key.key_id


def _rule(bucket):
    return OssClient(bucket.connection).get_encryption(bucket.name)


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def _form_url(bucket):
    return f"/buckets/{bucket.pk}/encryption/"


def _api_url(bucket):
    return f"/api/v1/buckets/{bucket.pk}/encryption/"


# -- The form --------------------------------------------------------------------------------------------


def test_the_form_offers_every_field_without_javascript_and_the_region_keys(client_as, operator, bucket, finance_key):
    page = client_as(operator).get(_form_url(bucket))

    html = page.content.decode()
    assert page.status_code == 200
    for value in ("none", "oss", "kms"):
        assert f'name="method" value="{value}"' in html
    assert 'name="algorithm" value="AES256"' in html and 'name="algorithm" value="SM4"' in html
    assert f'<option value="{finance_key}">alias/finance({finance_key})</option>' in html
    assert "alias/acs/oss" in html
    assert '<div class="field" data-sse="algorithm">' in html and '<div class="field" data-sse="key">' in html
    assert 'value="none" id="id_method_0" required checked' in html


def test_saving_through_the_form_shows_before_and_after_and_what_it_does_not_do(
    client_as, operator, bucket, finance_key
):
    page = client_as(operator).post(_form_url(bucket), {"method": "kms", "algorithm": "SM4", "key_id": finance_key})

    assert page.status_code == 200
    html = page.content.decode()
    assert '<span class="badge warn" data-before>None</span>' in html
    assert f'<span class="badge ok" data-after>KMS SM4 alias/finance({finance_key})</span>' in html
    assert "Default encryption of ledger:" in html and "(unchanged)" not in html
    assert NEW_OBJECTS_ONLY in html
    assert _rule(bucket) == EncryptionRule("KMS", finance_key, "SM4")
    bucket.refresh_from_db()
    assert bucket.sse_label == f"KMS SM4 alias/finance({finance_key})"
    event = _events("bucket.encryption.put")[-1]
    assert (event.outcome, event.actor_name, event.channel, event.bucket) == (
        "success",
        operator.username,
        "ui",
        "ledger",
    )
    assert event.before == {"method": "none", "algorithm": "", "key_id": "", "label": "None"}
    assert event.after["label"] == f"KMS SM4 alias/finance({finance_key})" and event.request_id


def test_the_saved_page_links_to_a_re_encryption_job_for_this_bucket(client_as, operator, bucket):
    page = client_as(operator).post(_form_url(bucket), {"method": "oss", "algorithm": "AES256"})

    link = f'href="{reverse("jobs:job_new")}?connection={bucket.connection_id}&amp;bucket=ledger"'
    assert link in page.content.decode()
    assert "existing objects keep" in page.content.decode().lower()


def test_method_none_through_the_form_deletes_the_default(client_as, operator, bucket):
    OssClient(bucket.connection).put_encryption("ledger", EncryptionRule("SM4"))

    page = client_as(operator).post(_form_url(bucket), {"method": "none"})

    assert '<span class="badge warn" data-after>None</span>' in page.content.decode()
    assert '<span class="badge ok" data-before>OSS-managed SM4</span>' in page.content.decode()
    assert _rule(bucket) is None
    assert _events("bucket.encryption.delete")[-1].before["label"] == "OSS-managed SM4"


def test_saving_the_setting_oss_already_holds_says_it_is_unchanged(client_as, operator, bucket):
    OssClient(bucket.connection).put_encryption("ledger", EncryptionRule("SM4"))

    page = client_as(operator).post(_form_url(bucket), {"method": "oss", "algorithm": "SM4"})

    html = page.content.decode()
    assert '<span class="badge ok" data-before>OSS-managed SM4</span>' in html
    assert '<span class="badge ok" data-after>OSS-managed SM4</span> (unchanged)' in html


def test_the_form_starts_from_the_setting_oss_holds_now(client_as, operator, bucket):
    OssClient(bucket.connection).put_encryption("ledger", EncryptionRule("SM4"))

    page = client_as(operator).get(_form_url(bucket))

    assert 'value="oss" id="id_method_1" required checked' in page.content.decode()
    assert 'value="SM4" id="id_algorithm_1" checked' in page.content.decode()


@pytest.mark.parametrize(
    "posted, error",
    [
        (
            {"method": "kms", "algorithm": "AES128"},
            "Select a valid choice. AES128 is not one of the available choices.",
        ),
        (
            {"method": "kms", "algorithm": "AES256", "key_id": "no-such-key"},
            "The key no-such-key is not one of the keys offered now",
        ),
    ],
    ids=["unknown-algorithm", "unlisted-key"],
)
def test_the_form_refuses_settings_of_the_wrong_shape(client_as, operator, bucket, finance_key, posted, error):
    posted = {name: finance_key if value == "KEY" else value for name, value in posted.items()}

    page = client_as(operator).post(_form_url(bucket), posted)

    assert page.status_code == 200 and error in page.content.decode()
    assert _rule(bucket) is None


def test_a_cmk_left_selected_is_dropped_when_another_method_is_chosen(client_as, operator, bucket, finance_key):
    """The OSS console ignores the key chooser it hides; a page without JavaScript still sends it."""
    OssClient(bucket.connection).put_encryption("ledger", EncryptionRule("KMS", finance_key))

    page = client_as(operator).post(_form_url(bucket), {"method": "oss", "algorithm": "AES256", "key_id": finance_key})

    assert page.status_code == 200 and "OSS-managed AES256" in page.content.decode()
    assert (_rule(bucket).algorithm, _rule(bucket).kms_key_id) == ("AES256", "")


def test_a_post_with_no_encryption_ignores_a_leftover_algorithm_and_key(client_as, operator, bucket, finance_key):
    OssClient(bucket.connection).put_encryption("ledger", EncryptionRule("SM4"))

    page = client_as(operator).post(_form_url(bucket), {"method": "none", "algorithm": "SM4", "key_id": finance_key})

    assert page.status_code == 200 and _rule(bucket) is None


def test_a_refused_post_leads_with_an_error_summary_that_names_the_field(client_as, operator, bucket):
    page = client_as(operator).post(_form_url(bucket), {"method": "kms", "algorithm": "AES256", "key_id": "no-such"})

    html = page.content.decode()
    summary = html[html.index('class="error-summary"') : html.index("</div>", html.index('class="error-summary"'))]
    assert 'role="alert"' in html and 'tabindex="-1"' in html
    assert '<a href="#id_key_id">CMK</a>: The key no-such is not one of the keys offered now' in summary


def test_the_form_shows_kms_disabled_with_the_reason_where_the_console_does_not_offer_it_and_refuses_a_forged_post(
    client_as, operator, bucket, settings
):
    settings.CONSOLE_KMS_REGIONS = ["cn-shanghai"]
    client = client_as(operator)

    page = client.get(_form_url(bucket)).content.decode()
    assert re.search(r'value="kms"[^>]* disabled', page)
    assert "(not available: KMS encryption is not available in region cn-hangzhou: choose OSS-managed.)" in page

    forged = client.post(_form_url(bucket), {"method": "kms", "algorithm": "AES256"})
    assert "KMS encryption is not available in region cn-hangzhou: choose OSS-managed." in forged.content.decode()
    assert _rule(bucket) is None


def test_a_bucket_without_region_gets_only_oss_managed_encryption(client_as, operator, bucket):
    # localcloud always reports a region; old OSS buckets may have none, which the snapshot then holds as "".
    Bucket.objects.filter(pk=bucket.pk).update(region="")
    client = client_as(operator)

    page = client.get(_form_url(bucket)).content.decode()
    assert re.search(r'value="kms"[^>]* disabled', page)
    assert "(not available: This bucket has no region attribute: only OSS-managed encryption is available.)" in page
    refused = client.post(_form_url(bucket), {"method": "kms"}).content.decode()
    assert "This bucket has no region attribute: only OSS-managed encryption is available." in refused

    client.post(_form_url(bucket), {"method": "oss", "algorithm": "SM4"})
    assert _rule(bucket) == EncryptionRule("SM4")


def test_the_form_shows_a_cloud_refusal_instead_of_failing(client_as, operator, cloud_connection):
    never_created = Bucket.objects.create(
        connection=cloud_connection, name="never-created", region="cn-hangzhou", refreshed_at=timezone.now()
    )

    page = client_as(operator).post(_form_url(never_created), {"method": "oss", "algorithm": "AES256"})

    assert page.status_code == 200
    assert "OSS NoSuchBucket" in page.content.decode()
    failure = _events("bucket.encryption.put")[-1]
    assert failure.outcome == "failure" and "NoSuchBucket" in failure.error and failure.request_id


def test_the_form_is_for_operators(client, client_as, viewer, operator, admin, bucket):
    assert client_as(viewer).get(_form_url(bucket)).status_code == 403
    assert client_as(viewer).post(_form_url(bucket), {"method": "oss", "algorithm": "SM4"}).status_code == 403
    assert client_as(admin).post(_form_url(bucket), {"method": "oss", "algorithm": "SM4"}).status_code == 200
    assert _rule(bucket) == EncryptionRule("SM4")
    client.logout()
    assert client.get(_form_url(bucket)).status_code == 302


# -- The API ---------------------------------------------------------------------------------------------


def _put_kms(client, bucket, key_id):
    return client.put(_api_url(bucket), {"method": "kms", "algorithm": "AES256", "key_id": key_id}, format="json")


def test_api_sets_the_default_and_answers_before_after_request_id_and_what_it_does_not_do(
    api_as, operator, bucket, finance_key
):
    put = _put_kms(api_as(operator), bucket, finance_key)

    assert put.status_code == 200
    assert put.json()["before"] == {"method": "none", "algorithm": "", "key_id": "", "label": "None"}
    assert put.json()["after"] == {
        "method": "kms",
        "algorithm": "AES256",
        "key_id": finance_key,
        "label": f"KMS AES256 alias/finance({finance_key})",
    }
    assert put.json()["request_id"] and put.json()["note"] == NEW_OBJECTS_ONLY
    assert [event.channel for event in _events("bucket.encryption.put")] == ["api"]


def test_api_viewers_read_the_default_encryption(api_as, operator, viewer, bucket, finance_key):
    _put_kms(api_as(operator), bucket, finance_key)

    read = api_as(viewer).get(_api_url(bucket))

    assert read.status_code == 200 and read.json()["encryption"]["state"] == "kms-named"


def test_api_deletes_the_default_answering_before_and_after(api_as, operator, bucket, finance_key):
    _put_kms(api_as(operator), bucket, finance_key)

    deleted = api_as(operator).delete(_api_url(bucket))

    assert deleted.status_code == 200
    assert deleted.json()["after"]["label"] == "None"
    assert deleted.json()["before"]["label"] == f"KMS AES256 alias/finance({finance_key})"
    assert _rule(bucket) is None
    assert [event.channel for event in _events("bucket.encryption.delete")] == ["api"]


def test_api_accepts_a_key_by_alias_and_stores_its_id(api_as, operator, bucket, finance_key):
    put = api_as(operator).put(_api_url(bucket), {"method": "kms", "algorithm": "SM4", "key_id": "alias/finance"})

    assert put.json()["after"]["key_id"] == finance_key
    assert _rule(bucket) == EncryptionRule("KMS", finance_key, "SM4")


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {"method": "oss", "algorithm": "AES256", "key_id": "KEY"},
            "A KMS key can only be chosen with the KMS method.",
        ),
        ({"method": "kms", "algorithm": "AES128"}, "Unknown algorithm 'AES128': choose AES256 or SM4."),
        ({"method": "sometimes"}, "Unknown encryption method 'sometimes': choose none, oss or kms."),
    ],
    ids=["key-only-with-kms", "unknown-algorithm", "unknown-method"],
)
def test_api_refuses_settings_of_the_wrong_shape(api_as, operator, bucket, finance_key, body, message):
    body = {name: finance_key if value == "KEY" else value for name, value in body.items()}

    response = api_as(operator).put(_api_url(bucket), body, format="json")

    assert response.status_code == 400 and response.json() == {"detail": message}
    assert _rule(bucket) is None


def test_api_refuses_kms_where_the_console_does_not_offer_it_and_audits_the_refusal(api_as, operator, bucket, settings):
    settings.CONSOLE_KMS_REGIONS = ["cn-shanghai"]

    response = api_as(operator).put(_api_url(bucket), {"method": "kms", "algorithm": "AES256"}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == "KMS encryption is not available in region cn-hangzhou: choose OSS-managed."
    assert _rule(bucket) is None
    failure = _events("bucket.encryption.put")[-1]
    assert (failure.outcome, failure.error) == ("failure", response.json()["detail"])
    assert failure.before == {"method": "none", "algorithm": "", "key_id": "", "label": "None"}


def test_api_refuses_kms_for_a_bucket_without_region(api_as, operator, bucket):
    # localcloud always reports a region; old OSS buckets may have none, which the snapshot then holds as "".
    Bucket.objects.filter(pk=bucket.pk).update(region="")
    client = api_as(operator)

    refused = client.put(_api_url(bucket), {"method": "kms", "algorithm": "AES256"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["detail"] == "This bucket has no region attribute: only OSS-managed encryption is available."
    assert client.put(_api_url(bucket), {"method": "oss", "algorithm": "AES256"}, format="json").status_code == 200


def test_api_refuses_a_disabled_key(api_as, operator, bucket, finance_key):
    KmsClient(bucket.connection).disable_key(finance_key)

    response = api_as(operator).put(_api_url(bucket), {"method": "kms", "algorithm": "SM4", "key_id": finance_key})

    assert response.status_code == 400
    assert response.json()["detail"] == (
        f"KMS key alias/finance({finance_key}) is Disabled: only an Enabled key can encrypt."
    )
    assert _rule(bucket) is None
    assert _events("bucket.encryption.put")[-1].outcome == "failure"


def test_a_disabled_key_is_not_offered_by_the_form(client_as, operator, bucket, finance_key):
    KmsClient(bucket.connection).disable_key(finance_key)
    client = client_as(operator)

    assert finance_key not in client.get(_form_url(bucket)).content.decode()
    refused = client.post(_form_url(bucket), {"method": "kms", "algorithm": "SM4", "key_id": finance_key})
    assert f"The key {finance_key} is not one of the keys offered now" in refused.content.decode()
    assert "it may have been disabled or deleted since the page was shown" in refused.content.decode()


def test_a_key_of_another_region_is_refused(api_as, client_as, operator, bucket):
    shanghai_key, _ = KmsClient(bucket.connection, "cn-shanghai").create_key(description="shanghai")
    assert ":cn-shanghai:" in shanghai_key.arn

    response = api_as(operator).put(
        _api_url(bucket), {"method": "kms", "algorithm": "AES256", "key_id": shanghai_key.key_id}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith(
        f"KMS key {shanghai_key.key_id} is not in the bucket's region cn-hangzhou"
    )
    page = client_as(operator).get(_form_url(bucket))
    assert shanghai_key.key_id not in page.content.decode()
    assert _rule(bucket) is None


def test_a_key_unknown_to_kms_is_refused_and_audited(api_as, operator, bucket):
    response = api_as(operator).put(_api_url(bucket), {"method": "kms", "algorithm": "AES256", "key_id": "no-such-key"})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("KMS key no-such-key is not in the bucket's region cn-hangzhou")
    assert _events("bucket.encryption.put")[-1].error == response.json()["detail"]


def test_api_answers_a_cloud_refusal_with_its_code_and_request_id(api_as, operator, cloud_connection):
    never_created = Bucket.objects.create(
        connection=cloud_connection, name="never-created", region="cn-hangzhou", refreshed_at=timezone.now()
    )

    response = api_as(operator).put(_api_url(never_created), {"method": "oss", "algorithm": "SM4"}, format="json")

    assert response.status_code == 404
    body = response.json()
    assert (body["service"], body["code"]) == ("oss", "NoSuchBucket") and body["request_id"]


def test_api_role_matrix(api_client, api_as, viewer, operator, admin, bucket):
    oss_sm4 = {"method": "oss", "algorithm": "SM4"}
    assert api_client.put(_api_url(bucket), oss_sm4, format="json").status_code == 401
    assert api_as(viewer).get(_api_url(bucket)).status_code == 200
    assert api_as(viewer).put(_api_url(bucket), oss_sm4, format="json").status_code == 403
    assert api_as(viewer).delete(_api_url(bucket)).status_code == 403
    assert _events("bucket.encryption.put") == []
    assert api_as(operator).put(_api_url(bucket), oss_sm4, format="json").status_code == 200
    assert api_as(admin).delete(_api_url(bucket)).status_code == 200
    assert api_as(operator).get("/api/v1/buckets/999999/encryption/").status_code == 404


def test_no_secret_reaches_the_form_or_the_api(client_as, api_as, operator, bucket):
    secret = bucket.connection.access_key_secret

    assert secret not in client_as(operator).get(_form_url(bucket)).content.decode()
    assert secret not in api_as(operator).get(_api_url(bucket)).content.decode()
