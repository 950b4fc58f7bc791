"""/api/v1/keys/ against localcloud: the same services as the Keys pages, Viewers read, only Admins change."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from buckets.models import Bucket
from cloud.kms import KmsClient
from cloud.oss import OssClient
from encryption.services import keys as services

REGION = "cn-hangzhou"
UNKNOWN_KEY = "00000000-0000-4000-8000-000000000000"
# Every change of an existing key, in an order that works on an Enabled key, with a valid body.
KEY_CHANGES = [
    ("aliases/", {"alias": "alias/more"}),
    ("remove-alias/", {"alias": "alias/more"}),
    ("disable/", {}),
    ("enable/", {}),
    ("rotate/", {}),
    ("schedule-deletion/", {"pending_days": 7}),
    ("cancel-deletion/", {}),
]
BYOK_CHANGES = ["import-parameters/", "import-material/"]


@pytest.fixture
def key(cloud_connection, admin):
    change = services.create_key(
        actor=admin, connection=cloud_connection, region=REGION, spec="Aliyun_AES_256", alias="alias/app-data"
    )
    return change.key


def keys_url(connection, suffix: str = "", region: str = REGION) -> str:
    return f"/api/v1/keys/{suffix}?connection={connection.pk}&region={region}"


# Reading


def test_viewers_list_the_keys_of_a_region_a_page_at_a_time(cloud_connection, key, api_as, viewer):
    response = api_as(viewer).get(keys_url(cloud_connection))
    assert response.status_code == 200
    page = response.json()
    assert (page["count"], page["next"]) == (1, None)
    listed = page["results"][0]
    assert (listed["key_id"], listed["display_name"]) == (key.key_id, f"alias/app-data({key.key_id})")
    assert (listed["aliases"], listed["state"], listed["spec"], listed["origin"]) == (
        ["alias/app-data"],
        "Enabled",
        "Aliyun_AES_256",
        "Aliyun_KMS",
    )
    assert (listed["arn"], listed["used_by"], listed["is_default_oss_key"]) == (key.arn, [], False)


def test_the_region_defaults_to_the_connections_and_can_be_another_sse_region(
    cloud_connection, key, api_as, viewer, admin
):
    shanghai = services.create_key(actor=admin, connection=cloud_connection, region="cn-shanghai", spec="Aliyun_SM4")
    api = api_as(viewer)
    default = api.get(f"/api/v1/keys/?connection={cloud_connection.pk}").json()["results"]
    assert [listed["key_id"] for listed in default] == [key.key_id]
    other = api.get(keys_url(cloud_connection, region="cn-shanghai")).json()["results"]
    assert [listed["key_id"] for listed in other] == [shanghai.key.key_id]


def test_the_scope_is_checked_before_kms_is_asked(cloud_connection, api_as, viewer):
    api = api_as(viewer)
    outside = api.get(keys_url(cloud_connection, region="mars-north-1"))
    assert outside.status_code == 400 and "mars-north-1" in outside.json()["detail"]
    unknown = api.get(f"/api/v1/keys/?connection={cloud_connection.pk + 1}")
    assert unknown.status_code == 404 and unknown.json() == {"detail": f"No connection {cloud_connection.pk + 1}."}
    missing = api.get("/api/v1/keys/")
    assert missing.status_code == 400 and "connection" in missing.json()
    assert api.get(f"/api/v1/keys/{UNKNOWN_KEY}/?connection={cloud_connection.pk + 1}").status_code == 404


def test_one_key_has_every_fact_kms_gives_and_the_buckets_using_it(cloud_connection, key, api_as, viewer):
    OssClient(cloud_connection).create_bucket("uses-key")
    Bucket.objects.create(
        connection=cloud_connection,
        name="uses-key",
        region=REGION,
        sse_method="kms",
        sse_key_id=key.key_id,
        refreshed_at=timezone.now(),
    )
    response = api_as(viewer).get(keys_url(cloud_connection, f"{key.key_id}/"))
    assert response.status_code == 200
    body = response.json()
    kms_facts = {
        "key_id": key.key_id,
        "arn": key.arn,
        "state": "Enabled",
        "spec": "Aliyun_AES_256",
        "usage": "ENCRYPT/DECRYPT",
        "origin": "Aliyun_KMS",
        "aliases": ["alias/app-data"],
        "created": key.created,
        "protection_level": key.protection_level,
    }
    assert {name: body[name] for name in kms_facts} == kms_facts
    assert {"creator", "description", "deletion_date", "material_expires", "rotation_interval"} <= body.keys()
    assert body["used_by"] == ["uses-key"]


def test_a_key_kms_does_not_know_is_a_404_with_the_kms_error(cloud_connection, api_as, viewer):
    response = api_as(viewer).get(keys_url(cloud_connection, f"{UNKNOWN_KEY}/"))
    assert response.status_code == 404
    assert (response.json()["service"], response.json()["code"]) == ("kms", "Forbidden.KeyNotFound")
    assert response.json()["request_id"]


def test_a_kms_refusal_is_json_with_its_request_id_and_never_the_secret(cloud_connection, api_as, viewer):
    secret = "wrong-secret-0123456789"
    cloud_connection.set_credentials(cloud_connection.access_key_id, secret)
    cloud_connection.save()
    response = api_as(viewer).get(keys_url(cloud_connection))
    assert response.status_code == 400
    assert response.json()["service"] == "kms" and response.json()["request_id"]
    assert secret not in response.content.decode()


# Changing


def test_an_admin_creates_a_key_audited_as_an_api_call(cloud_connection, api_as, admin):
    response = api_as(admin).post(
        "/api/v1/keys/",
        {"connection": cloud_connection.pk, "region": "cn-shanghai", "spec": "Aliyun_SM4", "alias": "alias/sm4"},
        format="json",
    )
    assert response.status_code == 201
    created = response.json()
    assert created["request_id"] and created["key"]["arn"].startswith("acs:kms:cn-shanghai:")
    assert (created["key"]["spec"], created["key"]["aliases"]) == ("Aliyun_SM4", ["alias/sm4"])
    event = AuditEvent.objects.get(action="key.create")
    assert (event.channel, event.target, event.actor) == ("api", created["key"]["key_id"], admin)
    assert cloud_connection.access_key_secret not in response.content.decode()


def test_a_malformed_creation_is_refused(cloud_connection, api_as, admin):
    api = api_as(admin)
    bad_spec = api.post("/api/v1/keys/", {"connection": cloud_connection.pk, "spec": "RSA_2048"}, format="json")
    assert bad_spec.status_code == 400 and "spec" in bad_spec.json()
    bad_alias = api.post("/api/v1/keys/", {"connection": cloud_connection.pk, "alias": "mine"}, format="json")
    assert bad_alias.status_code == 400 and "starts with alias/" in bad_alias.json()["detail"]
    assert AuditEvent.objects.get(action="key.create").outcome == "failure"
    unknown = api.post("/api/v1/keys/", {"connection": cloud_connection.pk + 1}, format="json")
    assert unknown.status_code == 404
    assert KmsClient(cloud_connection).list_keys() == []


def test_an_admin_makes_every_change_and_gets_the_key_back(cloud_connection, key, api_as, admin):
    api = api_as(admin)
    states = []
    for suffix, body in KEY_CHANGES:
        response = api.post(keys_url(cloud_connection, f"{key.key_id}/{suffix}"), body, format="json")
        assert response.status_code == 200, (suffix, response.json())
        assert response.json()["request_id"] and response.json()["key"]["key_id"] == key.key_id
        states.append(response.json()["key"]["state"])
    assert states == ["Enabled", "Enabled", "Disabled", "Enabled", "Enabled", "PendingDeletion", "Enabled"]
    events = AuditEvent.objects.filter(channel="api", target=key.key_id, outcome="success")
    assert events.count() == len(KEY_CHANGES)
    byok = services.create_key(
        actor=admin, connection=cloud_connection, region=REGION, spec="Aliyun_AES_256", origin="EXTERNAL"
    ).key
    parameters = api.post(keys_url(cloud_connection, f"{byok.key_id}/import-parameters/"), {}, format="json")
    assert parameters.status_code == 200 and parameters.json()["key_id"] == byok.key_id


def test_a_refused_change_is_the_kms_error_and_an_audited_failure(cloud_connection, key, api_as, admin):
    api = api_as(admin)
    api.post(keys_url(cloud_connection, f"{key.key_id}/schedule-deletion/"), {"pending_days": 7}, format="json")
    refused = api.post(keys_url(cloud_connection, f"{key.key_id}/enable/"))
    assert refused.status_code == 409 and refused.json()["code"].startswith("Rejected.")
    assert AuditEvent.objects.get(action="key.enable").request_id == refused.json()["request_id"]
    too_soon = api.post(keys_url(cloud_connection, f"{key.key_id}/schedule-deletion/"), {"pending_days": 6})
    assert too_soon.status_code == 400 and "pending_days" in too_soon.json()
    not_an_alias = api.post(keys_url(cloud_connection, f"{key.key_id}/remove-alias/"), {"alias": "alias/other"})
    assert not_an_alias.status_code == 400 and "not an alias of key" in not_an_alias.json()["detail"]


def test_the_service_key_alias_acs_oss_is_not_changed_over_the_api(cloud_connection, api_as, admin):
    OssClient(cloud_connection).create_bucket("default-key")
    OssClient(cloud_connection).put_object("default-key", "k", b"x", {"x-oss-server-side-encryption": "KMS"})
    service_key = KmsClient(cloud_connection).default_oss_key()
    response = api_as(admin).post(keys_url(cloud_connection, f"{service_key.key_id}/disable/"))
    assert response.status_code == 400 and "only the service changes it" in response.json()["detail"]
    assert KmsClient(cloud_connection).default_oss_key().state == "Enabled"


# Who may call what


def test_viewers_operators_and_anonymous_callers_change_nothing(cloud_connection, key, api_as, viewer, operator):
    change_urls = ["/api/v1/keys/?connection=0"] + [
        keys_url(cloud_connection, f"{key.key_id}/{suffix}") for suffix, _ in KEY_CHANGES
    ]
    change_urls += [keys_url(cloud_connection, f"{key.key_id}/{suffix}") for suffix in BYOK_CHANGES]
    body = {"connection": cloud_connection.pk, "alias": "alias/x", "pending_days": 7}
    for user in (viewer, operator):
        api = api_as(user)
        assert api.get(keys_url(cloud_connection)).status_code == 200
        for url in change_urls:
            assert api.post(url, body, format="json").status_code == 403, (user.username, url)
    anonymous = APIClient()
    for url in [keys_url(cloud_connection), keys_url(cloud_connection, f"{key.key_id}/"), *change_urls]:
        response = anonymous.post(url, body, format="json") if url in change_urls else anonymous.get(url)
        assert response.status_code == 401, url
    assert KmsClient(cloud_connection).describe_key(key.key_id).aliases == ("alias/app-data",)
    assert not AuditEvent.objects.filter(channel="api").exists()


def test_the_schema_documents_the_keys_api(api_as, viewer):
    schema = api_as(viewer).get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    for suffix in ["aliases", "remove-alias", "enable", "disable", "schedule-deletion", "cancel-deletion", "rotate"]:
        operation = paths[f"/api/v1/keys/{{key_id}}/{suffix}/"]["post"]
        assert {parameter["name"] for parameter in operation["parameters"]} == {"connection", "region", "key_id"}
        assert "examples" in operation["responses"]["200"]["content"]["application/json"]
    assert "examples" in paths["/api/v1/keys/"]["post"]["requestBody"]["content"]["application/json"]
    import_parameters = paths["/api/v1/keys/{key_id}/import-parameters/"]["post"]
    assert import_parameters["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ImportParameters"
    )
    purposes = next(p for p in paths["/api/v1/ram-policy/"]["get"]["parameters"] if p["name"] == "purposes")
    assert purposes["schema"]["items"]["enum"] == [
        "browse", "client_side", "download", "everything", "expire_versions", "purge_history", "reencrypt", "scan",
        "set_encryption", "upload",
    ]  # fmt: skip
