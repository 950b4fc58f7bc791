"""Views that take a secret hide it from Django's error reports (sensitive_post_parameters), and answers that
carry a generated password or token are never stored by a browser or proxy cache (Cache-Control: no-store)."""

import pytest
from django.urls import resolve, reverse

from buckets.models import Connection

KEY_ID = "key-0123456789abcdef"

# url name, its arguments, the POST fields holding a secret
SECRET_PAGES = [
    ("login", {}, ["password"]),
    ("login_code", {}, ["code"]),
    ("two_factor_confirm", {}, ["code"]),
    ("two_factor_disable", {}, ["code"]),
    ("accounts:user_create", {}, ["password"]),
    ("buckets:connection_create", {}, ["access_key_secret", "sts_token"]),
    ("buckets:connection_edit", {"pk": "connection"}, ["access_key_secret", "sts_token"]),
    ("encryption:cse_key_import", {}, ["pem", "passphrase"]),
    ("encryption:byok_import", {}, ["encrypted_key_material"]),
]
SECRET_API_CALLS = [
    ("post", "api-token", {}, ["password"]),
    ("post", "user-list", {}, ["password"]),
    ("post", "connection-list", {}, ["access_key_secret", "sts_token"]),
    ("patch", "connection-detail", {"pk": "connection"}, ["access_key_secret", "sts_token"]),
    ("post", "cse-key-list", {}, ["private_key_pem", "passphrase"]),
    ("post", "key-import-material", {"key_id": KEY_ID}, ["encrypted_key_material"]),
]


@pytest.fixture
def connection(db):
    connection = Connection(name="secretive", oss_endpoint="http://127.0.0.1:9", region="cn-hangzhou")
    connection.set_credentials("LTAI5tExampleKeyId00001", "not-a-real-secret")
    connection.save()
    return connection


def url_of(name, kwargs, connection):
    arguments = {key: connection.pk if value == "connection" else value for key, value in kwargs.items()}
    return reverse(name, kwargs=arguments)


def hides(request, fields) -> bool:
    hidden = getattr(request, "sensitive_post_parameters", None)
    return hidden == "__ALL__" or (hidden is not None and set(fields) <= set(hidden))


@pytest.mark.parametrize(("name", "kwargs", "fields"), SECRET_PAGES, ids=[page[0] for page in SECRET_PAGES])
def test_pages_taking_a_secret_hide_it_from_error_reports(client_as, admin, connection, name, kwargs, fields):
    url = url_of(name, kwargs, connection)
    assert resolve(url).url_name == name.rpartition(":")[2]

    response = client_as(admin).post(url, {})

    assert hides(response.wsgi_request, fields), f"{name} does not hide {fields}"


@pytest.mark.parametrize(
    ("method", "name", "kwargs", "fields"), SECRET_API_CALLS, ids=[call[1] for call in SECRET_API_CALLS]
)
def test_api_calls_taking_a_secret_hide_it_from_error_reports(api_as, admin, connection, method, name, kwargs, fields):
    url = url_of(name, kwargs, connection)
    assert resolve(url).url_name == name

    response = getattr(api_as(admin), method)(url, {}, format="json")

    assert hides(response.wsgi_request, fields), f"{method.upper()} {name} does not hide {fields}"


def test_the_page_showing_a_generated_password_is_not_stored(client_as, admin):
    response = client_as(admin).post(reverse("accounts:user_create"), {"username": "nina", "role": "viewer"})

    assert response.context["created"].generated_password
    assert "no-store" in response["Cache-Control"]


def test_the_api_answer_with_a_generated_password_is_not_stored(api_as, admin):
    response = api_as(admin).post(reverse("user-list"), {"username": "nina", "role": "viewer"}, format="json")

    assert response.json()["generated_password"]
    assert "no-store" in response["Cache-Control"]
