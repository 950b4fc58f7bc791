"""Connections: the service rules, the Admin pages and "Test connection" against a real localcloud."""

import json

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from buckets.models import Bucket, Connection
from buckets.services import connection_advice as advice
from buckets.services import connections as services
from cloud.errors import Conflict

SECRET = "Zs9-secret-that-must-never-show-4711"
STS_TOKEN = "sts-token-that-must-never-show-0815"


def add_connection(actor=None, **changes) -> Connection:
    """A connection to Alibaba Cloud that this machine cannot reach: the rules below need no cloud, so its
    failed test is saved anyway."""
    fields = {
        "save_anyway": True,
        "name": "hangzhou",
        "oss_endpoint": "https://oss-cn-hangzhou.aliyuncs.com",
        "region": "cn-hangzhou",
        "access_key_id": "LTAI5tTestKeyId",
        "access_key_secret": SECRET,
    }
    return services.create_connection(actor=actor, **(fields | changes))


@pytest.fixture
def connection(db):
    return add_connection()


def audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values("before", "after", "error", "target")))


# Services


def test_create_seals_the_secret_and_the_sts_token(admin):
    created = add_connection(admin, sts_token=STS_TOKEN)

    stored = Connection.objects.get(pk=created.pk)
    assert stored.access_key_secret == SECRET and stored.sts_token == STS_TOKEN
    assert SECRET not in stored.sealed_secret and STS_TOKEN not in stored.sealed_sts_token
    raw = Connection.objects.filter(pk=created.pk).values_list("sealed_secret", "sealed_sts_token").get()
    assert SECRET not in str(raw) and STS_TOKEN not in str(raw)


def test_create_normalises_the_input(db):
    created = add_connection(name="  prod  ", oss_endpoint="https://oss-cn-hangzhou.aliyuncs.com/", kms_endpoint="")

    assert created.name == "prod" and created.oss_endpoint == "https://oss-cn-hangzhou.aliyuncs.com"
    assert created.effective_kms_endpoint == "https://kms.cn-hangzhou.aliyuncs.com"


def test_create_is_audited_without_secrets(admin):
    created = add_connection(admin, sts_token=STS_TOKEN)

    event = AuditEvent.objects.get(action="connection.create")
    assert event.actor == admin and event.connection == created and event.outcome == AuditEvent.SUCCESS
    assert event.after == {
        "name": "hangzhou",
        "oss_endpoint": "https://oss-cn-hangzhou.aliyuncs.com",
        "region": "cn-hangzhou",
        "access_key_id": "LTAI5tTestKeyId",
        "kms_endpoint": "",
        "has_sts_token": True,
    }
    assert SECRET not in audit_text() and STS_TOKEN not in audit_text()


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"name": "  "}, "name", "Enter a name"),
        ({"oss_endpoint": "ftp://example.com"}, "oss_endpoint", "must be an http:// or https:// URL"),
        ({"oss_endpoint": "https://oss.example.com/bucket"}, "oss_endpoint", "scheme, host and optional port only"),
        ({"oss_endpoint": "http://127.0.0.1:99999"}, "oss_endpoint", "not a valid URL"),
        ({"region": ""}, "region", "Enter the region id"),
        ({"region": "Hangzhou"}, "region", "is not a region id"),
        ({"region": "oss-cn-hangzhou"}, "region", "Use the region id (cn-hangzhou)"),
        ({"access_key_id": "LTAI with space"}, "access_key_id", "letters, digits"),
        ({"access_key_secret": ""}, "access_key_secret", "Enter the AccessKey secret"),
    ],
)
def test_create_refuses_invalid_input_and_audits_the_refusal(admin, changes, field, message):
    with pytest.raises(services.InvalidConnectionField) as refused:
        add_connection(admin, **changes)

    assert refused.value.field == field and message in refused.value.message
    assert not Connection.objects.exists()
    event = AuditEvent.objects.get(action="connection.create")
    assert event.outcome == AuditEvent.FAILURE and event.error == refused.value.message


def test_create_refuses_a_duplicate_name(connection):
    with pytest.raises(Conflict, match="already exists"):
        add_connection(access_key_id="LTAIother")


def test_update_with_a_blank_secret_keeps_the_stored_one(admin, connection):
    services.update_connection(
        actor=admin, connection=connection, save_anyway=True, region="cn-shanghai", access_key_secret=""
    )

    stored = Connection.objects.get(pk=connection.pk)
    assert stored.region == "cn-shanghai" and stored.access_key_secret == SECRET
    event = AuditEvent.objects.get(action="connection.update")
    assert event.before["region"] == "cn-hangzhou" and event.after["region"] == "cn-shanghai"
    assert event.after["secret_changed"] is False


def test_update_replaces_the_key_pair_and_audits_it_without_secrets(admin, connection):
    services.update_connection(
        actor=admin,
        connection=connection,
        access_key_id="LTAInewKey",
        access_key_secret="brand-new-secret-77",
        save_anyway=True,
    )

    stored = Connection.objects.get(pk=connection.pk)
    assert stored.access_key_id == "LTAInewKey" and stored.access_key_secret == "brand-new-secret-77"
    event = AuditEvent.objects.get(action="connection.update")
    assert event.after["access_key_id"] == "LTAInewKey" and event.after["secret_changed"] is True
    assert "brand-new-secret-77" not in audit_text() and SECRET not in audit_text()


def test_a_new_access_key_id_needs_its_secret(admin, connection):
    with pytest.raises(services.InvalidConnectionField, match="needs its secret"):
        services.update_connection(actor=admin, connection=connection, save_anyway=True, access_key_id="LTAInewKey")

    assert connection.access_key_id == "LTAI5tTestKeyId"
    assert AuditEvent.objects.get(action="connection.update").outcome == AuditEvent.FAILURE


def test_sts_token_is_kept_when_blank_replaced_when_given_and_removed_on_request(admin, connection):
    services.update_connection(actor=admin, connection=connection, save_anyway=True, sts_token=STS_TOKEN)
    services.update_connection(actor=admin, connection=connection, save_anyway=True, sts_token="")
    assert Connection.objects.get(pk=connection.pk).sts_token == STS_TOKEN

    services.update_connection(actor=admin, connection=connection, save_anyway=True, clear_sts_token=True)

    stored = Connection.objects.get(pk=connection.pk)
    assert stored.sts_token == "" and stored.access_key_secret == SECRET
    assert [event.after["has_sts_token"] for event in AuditEvent.objects.filter(action="connection.update")] == [
        False,
        True,
        True,
    ]


def test_a_refused_update_leaves_the_connection_as_stored(admin, connection):
    add_connection(name="taken", access_key_id="LTAIother")

    with pytest.raises(Conflict):
        services.update_connection(
            actor=admin, connection=connection, save_anyway=True, name="taken", region="cn-beijing"
        )

    assert connection.name == "hangzhou" and connection.region == "cn-hangzhou"
    assert Connection.objects.get(pk=connection.pk).name == "hangzhou"


def test_delete_removes_the_bucket_snapshots_and_keeps_a_named_event(admin, connection):
    from django.utils import timezone

    Bucket.objects.create(connection=connection, name="seen", refreshed_at=timezone.now())

    services.delete_connection(actor=admin, connection=connection)

    assert not Connection.objects.exists() and not Bucket.objects.exists()
    event = AuditEvent.objects.get(action="connection.delete")
    assert event.connection is None and event.connection_name == "hangzhou"
    assert event.before["access_key_id"] == "LTAI5tTestKeyId" and SECRET not in audit_text()


# Testing a connection against localcloud


def test_testing_a_working_connection_passes_both_checks(cloud_connection):
    result = services.test_connection(cloud_connection, None)

    assert result.ok
    assert [(check.name, check.ok) for check in result.checks] == [("OSS ListBuckets", True), ("KMS ListKeys", True)]
    assert result.checks[1].request_id


def test_testing_with_a_wrong_secret_reports_each_cloud_refusal(cloud_connection):
    cloud_connection.set_credentials(cloud_connection.access_key_id, "wrong-secret")

    result = services.test_connection(cloud_connection, None)

    oss, kms = result.checks
    assert not result.ok and not oss.ok and not kms.ok
    assert oss.code == "SignatureDoesNotMatch" and oss.request_id and oss.advice == advice.WRONG_SECRET
    assert kms.code and kms.request_id and kms.advice == advice.WRONG_SECRET


def test_testing_an_unknown_access_key_reports_invalid_access_key_id(cloud_connection):
    cloud_connection.set_credentials("LTAInoSuchKey", "whatever")

    oss, kms = services.test_connection(cloud_connection, None).checks

    assert oss.code == "InvalidAccessKeyId" and oss.request_id and oss.advice == advice.UNKNOWN_KEY
    assert kms.code.startswith("InvalidAccessKeyId") and kms.advice == advice.UNKNOWN_KEY


def test_testing_an_unreachable_endpoint_reports_a_request_error(connection):
    services.update_connection(
        actor=None, connection=connection, oss_endpoint="http://127.0.0.1:9", access_key_secret=SECRET, save_anyway=True
    )

    result = services.test_connection(connection, None)

    assert [(check.ok, check.code, check.advice) for check in result.checks] == [
        (False, "RequestError", advice.UNREACHABLE),
        (False, "RequestError", advice.UNREACHABLE),
    ]


def test_testing_is_not_audited_and_only_keeps_its_outcome_on_the_connection(cloud_connection):
    events = AuditEvent.objects.count()
    updated_at = cloud_connection.updated_at

    services.test_connection(cloud_connection, None)

    stored = Connection.objects.get(pk=cloud_connection.pk)
    assert AuditEvent.objects.count() == events and stored.updated_at == updated_at
    assert stored.last_test_ok is True and stored.last_tested_at is not None
    assert [check["ok"] for check in stored.last_test_checks] == [True, True]


# Pages


def page_urls(pk: int) -> dict[str, str]:
    return {
        "create": reverse("buckets:connection_create"),
        "edit": reverse("buckets:connection_edit", args=[pk]),
        "delete": reverse("buckets:connection_delete", args=[pk]),
    }


@pytest.mark.parametrize("role", ["viewer", "operator"])
@pytest.mark.parametrize("page", ["create", "edit", "delete"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_admins_open_or_submit_the_change_pages(request, client_as, connection, role, page, method):
    client = client_as(request.getfixturevalue(role))

    response = getattr(client, method)(page_urls(connection.pk)[page], {"name": "changed"})

    assert response.status_code == 403
    assert Connection.objects.get(pk=connection.pk).name == "hangzhou"


def test_anonymous_visitors_are_sent_to_the_login_page(client, connection):
    response = client.get(reverse("buckets:connection_list"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_viewer_sees_the_list_and_the_detail_without_secrets_or_change_links(client_as, viewer, connection):
    client = client_as(viewer)

    listing = client.get(reverse("buckets:connection_list")).content.decode()
    detail = client.get(reverse("buckets:connection_detail", args=[connection.pk])).content.decode()

    assert "hangzhou" in listing and "https://kms.cn-hangzhou.aliyuncs.com" in listing and "LTAI5tTestKeyId" in listing
    assert reverse("buckets:connection_edit", args=[connection.pk]) not in listing + detail
    assert reverse("buckets:connection_test", args=[connection.pk]) in detail
    assert SECRET not in listing + detail


def test_the_list_shows_the_demo_badge_and_the_buckets_seen(client_as, viewer, connection):
    from django.utils import timezone

    Connection.objects.filter(pk=connection.pk).update(is_demo=True)
    Bucket.objects.create(connection=connection, name="seen", refreshed_at=timezone.now())

    listing = client_as(viewer).get(reverse("buckets:connection_list")).content.decode()

    assert '<span class="badge muted">demo</span>' in listing and "<td>1</td>" in listing


def test_an_admin_adds_a_connection(client_as, admin):
    response = client_as(admin).post(
        reverse("buckets:connection_create"),
        {
            "name": "shanghai",
            "oss_endpoint": "https://oss-cn-shanghai.aliyuncs.com",
            "region": "cn-shanghai",
            "access_key_id": "LTAIshanghai",
            "access_key_secret": SECRET,
            "save_anyway": "on",
        },
    )

    created = Connection.objects.get(name="shanghai")
    assert response.status_code == 302 and response.url == reverse("buckets:connection_detail", args=[created.pk])
    assert created.access_key_secret == SECRET
    page = client_as(admin).get(response.url).content.decode()
    said = (
        "Connection shanghai added: https://oss-cn-shanghai.aliyuncs.com, region cn-shanghai, "
        "AccessKey ID LTAIshanghai. Saved although its test failed (OSS ListBuckets: RequestError)."
    )
    assert said in page


def test_a_refused_form_shows_the_message_next_to_the_field_and_not_the_secret(client_as, admin):
    response = client_as(admin).post(
        reverse("buckets:connection_create"),
        {
            "name": "bad",
            "oss_endpoint": "https://oss-cn-shanghai.aliyuncs.com",
            "region": "oss-cn-shanghai",
            "access_key_id": "LTAIshanghai",
            "access_key_secret": SECRET,
            "sts_token": STS_TOKEN,
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["region"] == [
        "Use the region id (cn-shanghai), not the OSS location (oss-cn-shanghai)."
    ]
    assert SECRET not in response.content.decode() and STS_TOKEN not in response.content.decode()


def test_the_edit_form_never_fills_in_the_secret(client_as, admin):
    connection = add_connection(sts_token=STS_TOKEN)

    page = client_as(admin).get(reverse("buckets:connection_edit", args=[connection.pk])).content.decode()

    assert 'type="password" name="access_key_secret"' in page
    assert "Leave blank to keep the current secret (a new endpoint needs it again)." in page
    assert 'name="clear_sts_token"' in page
    assert SECRET not in page and STS_TOKEN not in page


def test_an_admin_edits_a_connection_keeping_the_secret(client_as, admin, connection):
    response = client_as(admin).post(
        reverse("buckets:connection_edit", args=[connection.pk]),
        {
            "name": "hangzhou-prod",
            "oss_endpoint": connection.oss_endpoint,
            "region": "cn-hangzhou",
            "access_key_id": connection.access_key_id,
            "access_key_secret": "",
            "kms_endpoint": "",
            "save_anyway": "on",
        },
    )

    stored = Connection.objects.get(pk=connection.pk)
    assert response.status_code == 302
    assert stored.name == "hangzhou-prod" and stored.access_key_secret == SECRET
    page = client_as(admin).get(response.url).content.decode()
    assert "Connection hangzhou-prod saved: name hangzhou → hangzhou-prod." in page


@pytest.mark.parametrize(
    "changes, said",
    [
        ({}, "nothing changed"),
        ({"region": "cn-shanghai"}, "region cn-hangzhou → cn-shanghai"),
        (
            {"kms_endpoint": "https://kms-vpc.cn-hangzhou.aliyuncs.com", "access_key_secret": "another-secret-99"},
            "KMS endpoint none → https://kms-vpc.cn-hangzhou.aliyuncs.com; AccessKey secret replaced",
        ),
        (
            {"access_key_id": "LTAInew", "access_key_secret": "another-secret-99"},
            "AccessKey ID LTAI5tTestKeyId → LTAInew; AccessKey secret replaced",
        ),
        ({"sts_token": STS_TOKEN}, "STS token set"),
    ],
)
def test_a_saved_edit_says_what_changed_before_and_after_without_secrets(client_as, admin, connection, changes, said):
    form = {
        "name": "hangzhou",
        "oss_endpoint": connection.oss_endpoint,
        "region": "cn-hangzhou",
        "access_key_id": connection.access_key_id,
        "access_key_secret": "",
        "kms_endpoint": "",
        "save_anyway": "on",
    }

    response = client_as(admin).post(
        reverse("buckets:connection_edit", args=[connection.pk]), form | changes, follow=True
    )

    page = response.content.decode()
    assert f"Connection hangzhou saved: {said}." in page
    assert SECRET not in page and STS_TOKEN not in page and "another-secret-99" not in page


def test_an_admin_deletes_after_confirming(client_as, admin, connection):
    client = client_as(admin)
    url = reverse("buckets:connection_delete", args=[connection.pk])

    confirmation = client.get(url)
    assert confirmation.status_code == 200 and Connection.objects.exists()
    assert "Nothing changes in OSS or KMS" in confirmation.content.decode()

    response = client.post(url)

    assert response.status_code == 302 and response.url == reverse("buckets:connection_list")
    assert not Connection.objects.exists()


def test_a_viewer_tests_a_connection_and_sees_each_check_after_a_redirect(client_as, viewer, cloud_connection):
    client = client_as(viewer)
    response = client.post(reverse("buckets:connection_test", args=[cloud_connection.pk]))

    detail = reverse("buckets:connection_detail", args=[cloud_connection.pk])
    assert response.status_code == 302 and response.url == detail
    page = client.get(detail).content.decode()
    assert "OSS ListBuckets" in page and "KMS ListKeys" in page and "all checks passed" in page
    assert cloud_connection.access_key_secret not in page


def test_a_failed_test_shows_the_cloud_code_and_request_id_without_the_secret(client_as, admin, cloud_connection):
    cloud_connection.set_credentials(cloud_connection.access_key_id, SECRET)
    cloud_connection.save()

    response = client_as(admin).post(reverse("buckets:connection_test", args=[cloud_connection.pk]), follow=True)

    oss = Connection.objects.get(pk=cloud_connection.pk).last_test_failure
    page = response.content.decode()
    assert response.status_code == 200
    assert "<code>SignatureDoesNotMatch</code>" in page and f"<code>{oss['request_id']}</code>" in page
    assert advice.WRONG_SECRET in page
    assert SECRET not in page and "string to sign" not in page.lower()


def test_testing_an_unreachable_endpoint_is_a_page_not_a_server_error(client_as, viewer, connection):
    services.update_connection(
        actor=None, connection=connection, oss_endpoint="http://127.0.0.1:9", access_key_secret=SECRET, save_anyway=True
    )

    response = client_as(viewer).post(reverse("buckets:connection_test", args=[connection.pk]), follow=True)

    assert response.status_code == 200 and "<code>RequestError</code>" in response.content.decode()


def test_the_test_button_only_answers_post(client_as, viewer, connection):
    response = client_as(viewer).get(reverse("buckets:connection_test", args=[connection.pk]))

    assert response.status_code == 405
