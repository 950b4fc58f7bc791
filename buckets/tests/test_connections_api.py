"""/api/v1/connections/: roles, write-only secrets, and the test action against a real localcloud."""

import json

import pytest

from audit.models import AuditEvent
from buckets.models import Connection
from buckets.services import connections as services

SECRET = "Api-secret-that-must-never-show-9931"
STS_TOKEN = "Api-sts-token-that-must-never-show-1357"
LIST_URL = "/api/v1/connections/"


def detail_url(connection) -> str:
    return f"{LIST_URL}{connection.pk}/"


def new_connection_payload(**changes) -> dict:
    return {
        "name": "shanghai",
        "oss_endpoint": "https://oss-cn-shanghai.aliyuncs.com",
        "region": "cn-shanghai",
        "access_key_id": "LTAIshanghai",
        "access_key_secret": SECRET,
        # These endpoints are out of this machine's reach: rules that need no cloud save their failed test anyway.
        "save_anyway": True,
    } | changes


@pytest.fixture
def connection(db):
    return services.create_connection(
        actor=None,
        name="hangzhou",
        oss_endpoint="https://oss-cn-hangzhou.aliyuncs.com",
        region="cn-hangzhou",
        access_key_id="LTAIhangzhou",
        access_key_secret=SECRET,
        sts_token=STS_TOKEN,
        save_anyway=True,
    )


def change_requests(connection) -> list[tuple[str, str, dict]]:
    return [
        ("post", LIST_URL, new_connection_payload()),
        ("put", detail_url(connection), new_connection_payload(name="renamed")),
        ("patch", detail_url(connection), {"region": "cn-beijing"}),
        ("delete", detail_url(connection), {}),
    ]


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_change_connections(request, api_as, connection, role):
    client = api_as(request.getfixturevalue(role))

    for method, url, payload in change_requests(connection):
        response = getattr(client, method)(url, payload, format="json")
        assert response.status_code == 403, (method, url)

    assert list(Connection.objects.values_list("name", "region")) == [("hangzhou", "cn-hangzhou")]


def test_anonymous_calls_are_unauthorised(api_client, connection):
    for method, url, payload in [("get", LIST_URL, {}), *change_requests(connection)]:
        response = getattr(api_client, method)(url, payload, format="json")
        assert response.status_code == 401, (method, url)
    assert api_client.post(f"{detail_url(connection)}test/").status_code == 401


def test_every_role_reads_connections_without_secrets(api_as, viewer, connection):
    client = api_as(viewer)

    listing = client.get(LIST_URL)
    detail = client.get(detail_url(connection))

    assert listing.status_code == detail.status_code == 200
    assert detail.json() == listing.json()["results"][0]
    assert detail.json() | {"created_at": None, "updated_at": None, "last_test": None} == {
        "id": connection.pk,
        "name": "hangzhou",
        "oss_endpoint": "https://oss-cn-hangzhou.aliyuncs.com",
        "region": "cn-hangzhou",
        "access_key_id": "LTAIhangzhou",
        "kms_endpoint": "",
        "effective_kms_endpoint": "https://kms.cn-hangzhou.aliyuncs.com",
        "has_sts_token": True,
        "is_demo": False,
        "last_test": None,
        "bucket_count": 0,
        "created_at": None,
        "updated_at": None,
    }
    assert SECRET not in listing.content.decode() + detail.content.decode()
    assert STS_TOKEN not in listing.content.decode() + detail.content.decode()


def test_the_list_filters_by_region(api_as, viewer, connection):
    services.create_connection(actor=None, **new_connection_payload())

    names = [row["name"] for row in api_as(viewer).get(LIST_URL, {"region": "cn-shanghai"}).json()["results"]]

    assert names == ["shanghai"]


def test_an_admin_creates_a_connection_and_never_gets_the_secret_back(api_as, admin):
    response = api_as(admin).post(LIST_URL, new_connection_payload(sts_token=STS_TOKEN), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "shanghai" and body["has_sts_token"] is True
    assert "access_key_secret" not in body and "sts_token" not in body
    assert SECRET not in response.content.decode() and STS_TOKEN not in response.content.decode()
    stored = Connection.objects.get(pk=body["id"])
    assert stored.access_key_secret == SECRET and stored.sts_token == STS_TOKEN


def test_create_needs_the_secret(api_as, admin):
    response = api_as(admin).post(LIST_URL, new_connection_payload(access_key_secret=""), format="json")

    assert response.status_code == 400 and "access_key_secret" in response.json()


def test_invalid_and_duplicate_input_is_refused_with_the_service_message(api_as, admin, connection):
    client = api_as(admin)

    invalid = client.post(
        LIST_URL, new_connection_payload(oss_endpoint="ftp://oss-cn-shanghai.aliyuncs.com"), format="json"
    )
    duplicate = client.post(LIST_URL, new_connection_payload(name="hangzhou"), format="json")

    assert invalid.status_code == 400 and "must be an http:// or https:// URL" in invalid.json()["detail"]
    assert duplicate.status_code == 409 and duplicate.json() == {
        "detail": "A connection named 'hangzhou' already exists."
    }


def test_patch_changes_only_what_it_sends_and_keeps_the_secrets(api_as, admin, connection):
    response = api_as(admin).patch(detail_url(connection), {"region": "cn-beijing", "save_anyway": True}, format="json")

    assert response.status_code == 200 and response.json()["region"] == "cn-beijing"
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.name, stored.access_key_secret, stored.sts_token) == ("hangzhou", SECRET, STS_TOKEN)


def test_put_rotates_the_key_pair_and_clears_the_sts_token(api_as, admin, connection):
    payload = new_connection_payload(
        name="hangzhou", access_key_id="LTAIrotated", access_key_secret="rotated-secret-2", clear_sts_token=True
    )

    response = api_as(admin).put(detail_url(connection), payload, format="json")

    assert response.status_code == 200 and response.json()["has_sts_token"] is False
    assert "rotated-secret-2" not in response.content.decode()
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.access_key_id, stored.access_key_secret, stored.sts_token) == ("LTAIrotated", "rotated-secret-2", "")


def test_an_admin_deletes_a_connection(api_as, admin, connection):
    response = api_as(admin).delete(detail_url(connection))

    assert response.status_code == 204 and not Connection.objects.exists()
    assert AuditEvent.objects.get(action="connection.delete").connection_name == "hangzhou"


def test_changes_through_the_api_are_audited_without_secrets(api_as, admin, connection):
    client = api_as(admin)
    client.post(LIST_URL, new_connection_payload(), format="json")
    client.patch(
        detail_url(connection),
        {"access_key_id": "LTAInew", "access_key_secret": "another-secret-5", "save_anyway": True},
    )
    client.delete(detail_url(connection))

    events = AuditEvent.objects.filter(action__startswith="connection.", channel="api").order_by("id")
    assert [(event.action, event.outcome) for event in events] == [
        ("connection.create", "success"),
        ("connection.update", "success"),
        ("connection.delete", "success"),
    ]
    exported = api_as(admin).get("/api/v1/audit-events/").content.decode()
    stored = json.dumps(list(AuditEvent.objects.values("before", "after", "error")))
    for secret in (SECRET, STS_TOKEN, "another-secret-5"):
        assert secret not in exported and secret not in stored


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_every_role_may_test_a_connection(request, api_as, cloud_connection, role):
    response = api_as(request.getfixturevalue(role)).post(f"{detail_url(cloud_connection)}test/")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert [(check["name"], check["service"], check["ok"]) for check in body["checks"]] == [
        ("OSS ListBuckets", "oss", True),
        ("KMS ListKeys", "kms", True),
    ]
    assert cloud_connection.access_key_secret not in response.content.decode()


def test_a_failed_test_answers_200_with_each_cloud_error(api_as, viewer, cloud_connection):
    cloud_connection.set_credentials(cloud_connection.access_key_id, SECRET)
    cloud_connection.save()

    response = api_as(viewer).post(f"{detail_url(cloud_connection)}test/")

    assert response.status_code == 200
    oss, kms = response.json()["checks"]
    assert response.json()["ok"] is False
    assert oss["code"] == "SignatureDoesNotMatch" and oss["request_id"] and oss["advice"]
    assert kms["ok"] is False and kms["code"] and kms["request_id"]
    assert SECRET not in response.content.decode()


def test_testing_an_unreachable_endpoint_is_not_a_server_error(api_as, viewer, connection):
    services.update_connection(
        actor=None,
        connection=connection,
        oss_endpoint="http://127.0.0.1:9",
        access_key_secret=SECRET,
        clear_sts_token=True,
        save_anyway=True,
    )

    response = api_as(viewer).post(f"{detail_url(connection)}test/")

    assert response.status_code == 200
    assert [check["code"] for check in response.json()["checks"]] == ["RequestError", "RequestError"]


def test_the_schema_documents_write_only_secrets(api_as, viewer):
    schema = api_as(viewer).get("/api/v1/schema/", {"format": "json"}).json()

    create = schema["components"]["schemas"]["ConnectionCreate"]["properties"]
    shown = schema["components"]["schemas"]["Connection"]["properties"]
    assert create["access_key_secret"]["writeOnly"] is True
    assert "access_key_secret" not in shown and "has_sts_token" in shown and "effective_kms_endpoint" in shown
    assert "/api/v1/connections/{id}/test/" in schema["paths"]
