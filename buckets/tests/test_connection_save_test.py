"""Connections that tell the truth: saving one tests it against a real localcloud first, refuses a failing one
with plain advice (unless saved anyway), keeps the outcome for the list, and never lets a secret reach a page,
an API answer or the session in the clear."""

import json

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from buckets.forms.connections import KEPT_HELP
from buckets.models import Connection
from buckets.services import connection_advice as advice
from cloud.errors import CloudError
from localcloud.accesskeys import create_access_key, deactivate_access_key

WRONG_SECRET = "Wrong-Secret-Typed-By-Mistake-4242"
LIST_URL = "/api/v1/connections/"


@pytest.fixture
def key_pair(localcloud):
    return create_access_key("connection save tests")


@pytest.fixture
def form(localcloud, key_pair) -> dict:
    """The Add connection form filled in for localcloud with the right pair."""
    access_key_id, secret = key_pair
    return {
        "name": "local",
        "oss_endpoint": localcloud,
        "region": settings.LOCALCLOUD_REGION,
        "access_key_id": access_key_id,
        "access_key_secret": secret,
    }


def assert_no_secret(response, *secrets: str) -> None:
    body = response.content
    for secret in secrets:
        assert secret.encode() not in body, f"a secret is in the answer to {response.request['PATH_INFO']}"
    assert b"string to sign" not in body.lower() and b"stringtosign" not in body.lower()


def form_token(response) -> str:
    return response.context["form"]["form_token"].value()


# The advice, one code at a time


@pytest.mark.parametrize(
    "code, cloud_message, said",
    [
        ("SignatureDoesNotMatch", "The request signature we calculated does not match", advice.WRONG_SECRET),
        ("IncompleteSignature", "server string to sign is: GET\n/\n", advice.WRONG_SECRET),
        ("InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist", advice.UNKNOWN_KEY),
        ("InvalidAccessKeyId.Inactive", "Specified access key is disabled.", advice.UNKNOWN_KEY),
        ("AccessDenied", "You have no right to access this bucket.", advice.NO_PERMISSION),
        ("Forbidden.RAM", "User not authorized to operate on the specified resource.", advice.NO_PERMISSION),
        ("RequestTimeTooSkewed", "The difference between the request time and the current time", advice.CLOCK_SKEW),
        ("AccessDenied", "OSS authentication requires a valid Date.", advice.CLOCK_SKEW),
        ("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", advice.CLOCK_SKEW),
        ("RequestError", "OSS endpoint unreachable (ConnectionError)", advice.UNREACHABLE),
        ("RequestError", "KMS endpoint unreachable (SSLError)", advice.TLS_FAILED),
        ("NoSuchThing", "Something else. server string to sign is: POST&%2F&secret-ish", "Something else."),
    ],
)
def test_each_common_refusal_has_plain_advice_and_never_a_string_to_sign(code, cloud_message, said):
    assert advice.advice_for(CloudError("oss", code, cloud_message)) == said


# Pages


def test_a_wrong_secret_is_refused_with_the_advice_and_nothing_is_saved(client_as, admin, form):
    response = client_as(admin).post(reverse("buckets:connection_create"), form | {"access_key_secret": WRONG_SECRET})

    page = response.content.decode()
    assert response.status_code == 200 and not Connection.objects.exists()
    assert "The connection was not saved: its test failed (SignatureDoesNotMatch, SignatureDoesNotMatch)." in page
    assert "<code>SignatureDoesNotMatch</code>: " + advice.WRONG_SECRET in page
    assert 'name="save_anyway"' in page
    assert_no_secret(response, WRONG_SECRET, form["access_key_secret"])
    event = AuditEvent.objects.get(action="connection.create")
    assert event.outcome == AuditEvent.FAILURE and advice.WRONG_SECRET in event.error


def test_save_anyway_keeps_the_typed_secret_records_the_failed_test_and_the_list_shows_it(client_as, admin, form):
    client = client_as(admin)
    refused = client.post(reverse("buckets:connection_create"), form | {"access_key_secret": WRONG_SECRET})
    assert KEPT_HELP in refused.content.decode()

    saved = client.post(
        reverse("buckets:connection_create"),
        form | {"access_key_secret": "", "form_token": form_token(refused), "save_anyway": "on"},
    )

    stored = Connection.objects.get(name="local")
    assert saved.status_code == 302 and saved.url == reverse("buckets:connection_detail", args=[stored.pk])
    assert stored.access_key_secret == WRONG_SECRET and stored.last_test_ok is False
    assert stored.last_test_failure["code"] == "SignatureDoesNotMatch"
    detail = client.get(saved.url)
    listing = client.get(reverse("buckets:connection_list"))
    assert "Saved although its test failed (OSS ListBuckets: SignatureDoesNotMatch)." in detail.content.decode()
    assert "<code>SignatureDoesNotMatch</code>: " + advice.WRONG_SECRET in listing.content.decode()
    for response in (refused, saved, detail, listing):
        assert_no_secret(response, WRONG_SECRET, form["access_key_secret"])


def test_the_right_secret_saves_at_once_and_the_list_says_ok(client_as, admin, form):
    client = client_as(admin)

    saved = client.post(reverse("buckets:connection_create"), form)

    stored = Connection.objects.get(name="local")
    assert saved.status_code == 302 and stored.last_test_ok is True and stored.last_tested_at
    assert "Its test passed." in client.get(saved.url).content.decode()
    listing = client.get(reverse("buckets:connection_list")).content.decode()
    assert '<span class="badge ok">OK</span>' in listing


def test_an_unknown_or_disabled_access_key_id_is_explained(client_as, admin, form, key_pair):
    client = client_as(admin)
    unknown = client.post(reverse("buckets:connection_create"), form | {"access_key_id": "LTAInoSuchKey"})
    deactivate_access_key(key_pair[0])
    disabled = client.post(reverse("buckets:connection_create"), form)

    for response in (unknown, disabled):
        assert "<code>InvalidAccessKeyId</code>: " + advice.UNKNOWN_KEY in response.content.decode()
        assert_no_secret(response, form["access_key_secret"])
    assert not Connection.objects.exists()


def test_an_endpoint_without_a_scheme_is_taken_as_https(client_as, admin, form, localcloud):
    """localcloud serves plain HTTP, so https:// to it fails the TLS handshake: the advice says so."""
    host = localcloud.removeprefix("http://")
    client = client_as(admin)

    refused = client.post(reverse("buckets:connection_create"), form | {"oss_endpoint": host})
    saved = client.post(
        reverse("buckets:connection_create"), form | {"oss_endpoint": host, "save_anyway": "on"}, follow=True
    )

    assert "<code>RequestError</code>: " + advice.TLS_FAILED in refused.content.decode()
    assert Connection.objects.get(name="local").oss_endpoint == f"https://{host}"
    assert f"Connection local added: https://{host}, region" in saved.content.decode()


def test_the_secret_survives_an_unrelated_validation_error_without_reaching_the_page(client_as, admin, form):
    client = client_as(admin)
    secret = form["access_key_secret"]
    refused = client.post(reverse("buckets:connection_create"), form | {"region": "oss-cn-hangzhou"})

    assert refused.context["form"].errors["region"]
    assert KEPT_HELP in refused.content.decode()
    assert_no_secret(refused, secret)
    stored_sessions = json.dumps([session.get_decoded() for session in Session.objects.all()])
    assert secret not in stored_sessions

    saved = client.post(
        reverse("buckets:connection_create"), form | {"access_key_secret": "", "form_token": form_token(refused)}
    )

    stored = Connection.objects.get(name="local")
    assert saved.status_code == 302 and stored.access_key_secret == secret and stored.last_test_ok is True
    again = client.post(
        reverse("buckets:connection_create"),
        form | {"name": "other", "access_key_secret": "", "form_token": form_token(refused)},
    )
    assert again.context["form"].errors["access_key_secret"], "a kept secret serves one save only"


def test_a_secret_kept_for_one_form_is_not_handed_to_another(client_as, admin, form, cloud_connection):
    client = client_as(admin)
    refused = client.post(reverse("buckets:connection_create"), form | {"region": "oss-cn-hangzhou"})

    edit = client.post(
        reverse("buckets:connection_edit", args=[cloud_connection.pk]),
        form | {"name": "local", "access_key_secret": "", "form_token": form_token(refused)},
    )

    assert edit.context["form"].errors["access_key_secret"] == ["A new AccessKey ID needs its secret: enter it too."]
    assert Connection.objects.get(pk=cloud_connection.pk).access_key_id == cloud_connection.access_key_id


def test_testing_redirects_to_the_result_so_a_reload_never_tests_again(client_as, viewer, cloud_connection):
    client = client_as(viewer)

    response = client.post(reverse("buckets:connection_test", args=[cloud_connection.pk]))

    assert response.status_code == 302
    assert response.url == reverse("buckets:connection_detail", args=[cloud_connection.pk])
    tested_at = Connection.objects.get(pk=cloud_connection.pk).last_tested_at
    page = client.get(response.url).content.decode()
    assert "Connection local tested: all checks passed." in page and "Test result:" in page
    assert client.get(response.url).status_code == 200
    assert Connection.objects.get(pk=cloud_connection.pk).last_tested_at == tested_at


def test_saving_and_deleting_redirect(client_as, admin, form, cloud_connection):
    client = client_as(admin)
    edit = {
        "name": "renamed",
        "oss_endpoint": cloud_connection.oss_endpoint,
        "region": cloud_connection.region,
        "access_key_id": cloud_connection.access_key_id,
    }

    saved = client.post(reverse("buckets:connection_edit", args=[cloud_connection.pk]), edit)
    deleted = client.post(reverse("buckets:connection_delete", args=[cloud_connection.pk]))

    assert (saved.status_code, deleted.status_code) == (302, 302)
    assert deleted.url == reverse("buckets:connection_list")


def stored_denial(connection: Connection) -> None:
    """A last test refused for lack of permissions, as a RAM user without oss:ListBuckets gets it: localcloud
    signs everyone in as the account owner, so it never answers a signed ListBuckets with AccessDenied."""
    check = {
        "name": "OSS ListBuckets",
        "service": "oss",
        "ok": False,
        "summary": "",
        "code": "AccessDenied",
        "advice": advice.advice_for(CloudError("oss", "AccessDenied", "You are denied by RAM policy.")),
        "needs_permissions": True,
        "request_id": "6551DBCF4311A7303980C9B6",
    }
    Connection.objects.filter(pk=connection.pk).update(
        last_tested_at=timezone.now(), last_test_ok=False, last_test_checks=[check]
    )


def test_a_key_whose_ram_policy_lacks_list_buckets_is_refused_with_the_ram_advice_and_its_link(
    client_as, admin, form, localcloud
):
    may_only_list_keys = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:ListKeys", "Resource": "*"}]}
    access_key_id, secret = create_access_key("a RAM user without OSS rights", policy=may_only_list_keys)

    refused = client_as(admin).post(
        reverse("buckets:connection_create"), {**form, "access_key_id": access_key_id, "access_key_secret": secret}
    )

    page = refused.content.decode()
    assert "AccessDenied" in page and advice.NO_PERMISSION in page
    assert f'href="{reverse("encryption:ram_policy")}' in page
    assert not Connection.objects.exists()
    assert_no_secret(refused, secret)


def test_missing_permissions_link_to_the_ram_policy_helper_for_the_connection(client_as, viewer, cloud_connection):
    stored_denial(cloud_connection)
    helper = f"{reverse('encryption:ram_policy')}?connection={cloud_connection.pk}"

    listing = client_as(viewer).get(reverse("buckets:connection_list")).content.decode()
    detail = client_as(viewer).get(reverse("buckets:connection_detail", args=[cloud_connection.pk])).content.decode()

    for page in (listing, detail):
        assert advice.NO_PERMISSION in page and f'href="{helper}"' in page
    assert client_as(viewer).get(helper).status_code == 200


# API


def test_the_api_refuses_a_wrong_secret_with_the_advice_and_saves_it_only_when_told(api_as, admin, form):
    client = api_as(admin)
    payload = form | {"access_key_secret": WRONG_SECRET}

    refused = client.post(LIST_URL, payload, format="json")
    saved = client.post(LIST_URL, payload | {"save_anyway": True}, format="json")

    assert refused.status_code == 400
    oss = refused.json()["test"]["checks"][0]
    assert (oss["code"], oss["advice"]) == ("SignatureDoesNotMatch", advice.WRONG_SECRET)
    assert advice.WRONG_SECRET in refused.json()["detail"]
    assert saved.status_code == 201
    last_test = saved.json()["last_test"]
    assert last_test["ok"] is False and last_test["checks"][0]["code"] == "SignatureDoesNotMatch"
    fixed = client.patch(f"{LIST_URL}{saved.json()['id']}/", {"access_key_secret": form["access_key_secret"]})
    assert fixed.status_code == 200 and fixed.json()["last_test"]["ok"] is True
    listed = client.get(LIST_URL).json()["results"][0]["last_test"]
    assert listed["ok"] is True and [check["ok"] for check in listed["checks"]] == [True, True]
    for response in (refused, saved, fixed):
        assert_no_secret(response, WRONG_SECRET, form["access_key_secret"])


def test_the_api_takes_an_endpoint_as_alibaba_cloud_lists_it(api_as, admin, form):
    payload = form | {"oss_endpoint": "oss-cn-hangzhou.aliyuncs.com", "region": "cn-hangzhou", "save_anyway": True}

    response = api_as(admin).post(LIST_URL, payload, format="json")

    assert response.status_code == 201 and response.json()["oss_endpoint"] == "https://oss-cn-hangzhou.aliyuncs.com"


def test_the_api_links_missing_permissions_to_the_ram_policy_helper(api_as, viewer, cloud_connection):
    stored_denial(cloud_connection)

    shown = api_as(viewer).get(f"{LIST_URL}{cloud_connection.pk}/").json()["last_test"]["checks"][0]

    assert shown["advice"] == advice.NO_PERMISSION
    assert shown["ram_policy_url"] == f"{reverse('encryption:ram_policy')}?connection={cloud_connection.pk}"


def test_the_schema_documents_save_anyway_and_the_refusal(api_as, viewer):
    schema = api_as(viewer).get("/api/v1/schema/", {"format": "json"}).json()

    assert "save_anyway" in schema["components"]["schemas"]["ConnectionCreate"]["properties"]
    assert "save_anyway" in schema["components"]["schemas"]["PatchedConnectionUpdate"]["properties"]
    assert "400" in schema["paths"]["/api/v1/connections/"]["post"]["responses"]
    assert "last_test" in schema["components"]["schemas"]["Connection"]["properties"]
