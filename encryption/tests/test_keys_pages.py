"""The Keys pages against localcloud: Viewers read, only Admins change, a KMS refusal is a message, never a 500."""

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from audit.models import AuditEvent
from buckets.models import Bucket
from cloud.kms import KmsClient
from encryption.services import keys as services

REGION = "cn-hangzhou"
# Every page that changes a key, relative to the key's page, with a valid body.
KEY_CHANGES = {
    "aliases/add/": {"alias": "alias/more"},
    "aliases/remove/": {"alias": "alias/app-data"},
    "enable/": {},
    "disable/": {},
    "schedule-deletion/": {"pending_days": 7, "confirm": "on"},
    "cancel-deletion/": {},
    "rotate/": {},
    "import/": {},
}


@pytest.fixture
def key(cloud_connection, admin):
    change = services.create_key(
        actor=admin, connection=cloud_connection, region=REGION, spec="Aliyun_AES_256", alias="alias/app-data"
    )
    return change.key


@pytest.fixture
def key_page(cloud_connection, key):
    return f"/keys/{cloud_connection.pk}/{REGION}/{key.key_id}/"


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def state_of(connection, key) -> str:
    return KmsClient(connection).describe_key(key.key_id).state


# Reading


def test_viewers_see_the_keys_of_a_connection_and_region(cloud_connection, key, client_as, viewer):
    Bucket.objects.create(
        connection=cloud_connection,
        name="sealed-by-app-data",
        region=REGION,
        sse_method="kms",
        sse_key_id=key.key_id,
        refreshed_at=timezone.now(),
    )
    page = client_as(viewer).get(f"/keys/?connection={cloud_connection.pk}&region={REGION}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<code>alias/app-data</code>" in html and f"<code>{key.key_id}</code>" in html
    for shown in ('<span class="badge ok">Enabled</span>', "Aliyun_AES_256", "Aliyun_KMS", key.protection_level):
        assert shown in html
    assert "sealed-by-app-data" in html
    assert "Create key" not in html and "Bring your own key" not in html


def test_the_list_defaults_to_the_first_connection_and_its_region(cloud_connection, key, client_as, viewer):
    page = client_as(viewer).get("/keys/")
    assert page.status_code == 200 and key.key_id in page.content.decode()
    assert page.context["region"] == REGION


def test_viewers_see_a_key_without_its_change_buttons(key_page, key, client_as, viewer, admin):
    page = client_as(viewer).get(key_page)
    assert page.status_code == 200
    html = page.content.decode()
    assert key.arn in html and "alias/app-data" in html
    assert key_page + "disable/" not in html and key_page + "aliases/add/" not in html
    assert key_page + "disable/" in client_as(admin).get(key_page).content.decode()


def test_a_key_kms_does_not_know_is_a_404_page_with_its_error(cloud_connection, client_as, viewer):
    page = client_as(viewer).get(f"/keys/{cloud_connection.pk}/{REGION}/00000000-0000-4000-8000-000000000000/")
    assert page.status_code == 404 and "Forbidden.KeyNotFound" in page.content.decode()


def test_a_region_the_connection_cannot_use_is_not_found(cloud_connection, key, client_as, viewer):
    assert client_as(viewer).get(f"/keys/{cloud_connection.pk}/mars-north-1/{key.key_id}/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    page = client.get("/keys/")
    assert page.status_code == 302 and "/login" in page["Location"]


def test_a_kms_refusal_shows_on_the_list_page_not_a_500(cloud_connection, client_as, viewer):
    secret = "wrong-secret-0123456789"
    cloud_connection.set_credentials(cloud_connection.access_key_id, secret)
    cloud_connection.save()
    page = client_as(viewer).get(f"/keys/?connection={cloud_connection.pk}")
    assert page.status_code == 200
    assert page.context["error"].startswith("KMS ") and page.context["error"] in page.content.decode()
    assert secret not in page.content.decode()


# Who may change keys


def test_viewers_and_operators_cannot_change_keys(cloud_connection, key, key_page, client_as, viewer, operator):
    key_events = AuditEvent.objects.filter(action__startswith="key.").count()
    for user in (viewer, operator):
        client = client_as(user)
        for suffix, body in KEY_CHANGES.items():
            assert client.post(key_page + suffix, body).status_code == 403, suffix
        assert client.get(key_page + "schedule-deletion/").status_code == 403
        assert client.get(f"/keys/{cloud_connection.pk}/{REGION}/new/").status_code == 403
        assert client.post(f"/keys/{cloud_connection.pk}/{REGION}/new/", {"spec": "Aliyun_SM4"}).status_code == 403
        for wizard_step in ("", "parameters/", "import/", "generate/", "done/"):
            assert client.post(f"/keys/byok/{wizard_step}").status_code == 403, wizard_step
    assert state_of(cloud_connection, key) == "Enabled"
    assert AuditEvent.objects.filter(action__startswith="key.").count() == key_events


def test_an_admin_changes_a_key_and_is_told_what_happened(cloud_connection, key, key_page, client_as, admin):
    client = client_as(admin)
    name = f"alias/app-data({key.key_id})"
    expected = [
        ("disable/", {}, f"Key {name}: Enabled → Disabled.", "Disabled"),
        ("enable/", {}, f"Key {name}: Disabled → Enabled.", "Enabled"),
        ("rotate/", {}, f"Key {name} has a new key version", "Enabled"),
        (
            "aliases/add/",
            {"alias": "alias/more"},
            f"Key {name}: aliases alias/app-data → alias/app-data, alias/more.",
            "Enabled",
        ),
        (
            "aliases/remove/",
            {"alias": "alias/more"},
            f"Key {name}: aliases alias/app-data, alias/more → alias/app-data.",
            "Enabled",
        ),
        (
            "schedule-deletion/",
            {"pending_days": 7, "confirm": "on"},
            f"Key {name}: Enabled → PendingDeletion; deletion date none → ",
            "PendingDeletion",
        ),
        ("cancel-deletion/", {}, f"Key {name}: PendingDeletion → Enabled; deletion date ", "Enabled"),
    ]
    for suffix, body, told, state in expected:
        response = client.post(key_page + suffix, body)
        assert (response.status_code, response["Location"]) == (302, key_page), suffix
        assert any(text.startswith(told) for text in message_texts(response)), (suffix, message_texts(response))
        assert state_of(cloud_connection, key) == state, suffix
    assert AuditEvent.objects.filter(target=key.key_id, outcome="success").count() == 2 + len(expected)


def test_a_refused_change_is_an_error_message_on_the_key_page(cloud_connection, key, key_page, client_as, admin):
    client = client_as(admin)
    client.post(key_page + "schedule-deletion/", {"pending_days": 7, "confirm": "on"})
    response = client.post(key_page + "enable/", follow=True)
    assert response.status_code == 200
    assert any(text.startswith("KMS ") for text in message_texts(response))
    assert AuditEvent.objects.get(action="key.enable").outcome == "failure"
    bad_alias = client.post(key_page + "aliases/add/", {"alias": "no-prefix"}, follow=True)
    assert "starts with alias/" in bad_alias.content.decode()


def test_an_admin_creates_a_key_and_lands_on_it(cloud_connection, client_as, admin):
    client = client_as(admin)
    form_page = client.get(f"/keys/{cloud_connection.pk}/{REGION}/new/")
    assert form_page.status_code == 200 and "Create a CMK" in form_page.content.decode()
    response = client.post(
        f"/keys/{cloud_connection.pk}/{REGION}/new/",
        {"spec": "Aliyun_SM4", "origin": "Aliyun_KMS", "alias": "alias/new-one", "description": "for reports"},
        follow=True,
    )
    created = KmsClient(cloud_connection).describe_key("alias/new-one")
    assert response.redirect_chain == [(f"/keys/{cloud_connection.pk}/{REGION}/{created.key_id}/", 302)]
    assert f"Key alias/new-one({created.key_id}) created: Aliyun_SM4, Aliyun_KMS, Enabled." in message_texts(response)
    assert (created.spec, created.description) == ("Aliyun_SM4", "for reports")
    refused = client.post(f"/keys/{cloud_connection.pk}/{REGION}/new/", {"spec": "Aliyun_SM4", "alias": "x"})
    assert refused.status_code == 200 and "starts with alias/" in refused.content.decode()


def test_scheduling_a_deletion_asks_for_a_waiting_period_and_a_confirmation(
    cloud_connection, key, key_page, client_as, admin
):
    client = client_as(admin)
    form_page = client.get(key_page + "schedule-deletion/")
    assert form_page.status_code == 200 and "Schedule deletion" in form_page.content.decode()
    unconfirmed = client.post(key_page + "schedule-deletion/", {"pending_days": 7})
    too_soon = client.post(key_page + "schedule-deletion/", {"pending_days": 6, "confirm": "on"})
    assert unconfirmed.status_code == too_soon.status_code == 200
    assert state_of(cloud_connection, key) == "Enabled"


def test_no_page_shows_the_connection_secret(cloud_connection, key, key_page, client_as, admin):
    client = client_as(admin)
    pages = [
        "/keys/",
        f"/keys/?connection={cloud_connection.pk}&region=cn-shanghai",
        key_page,
        key_page + "schedule-deletion/",
        f"/keys/{cloud_connection.pk}/{REGION}/new/",
        "/keys/byok/",
        "/keys/ram-policy/",
    ]
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        assert cloud_connection.access_key_secret not in page.content.decode(), url
