"""Keys, BYOK and the RAM policy through the services, pages and API, against localcloud's KMS over HTTP."""

import base64
import os

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.utils import timezone

from audit.models import AuditEvent
from buckets.models import Bucket
from buckets.oss import OssClient
from console.exceptions import ServiceError
from encryption import policy, services
from encryption import sse as sse_rules
from encryption.kms import KmsClient


@pytest.fixture
def key(cloud_connection, admin):
    return services.create_key(
        actor=admin, connection=cloud_connection, region="cn-hangzhou", spec="Aliyun_AES_256", alias="alias/app-data"
    ).key


def keys_url(connection, suffix=""):
    return f"/api/v1/keys/{suffix}?connection={connection.pk}&region=cn-hangzhou"


def wrap(public_key_b64: str, material: bytes) -> str:
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return base64.b64encode(public_key.encrypt(material, oaep)).decode()


# Services


def test_keys_are_listed_with_aliases_state_and_the_buckets_using_them(cloud_connection, key):
    OssClient(cloud_connection).create_bucket("uses-key")
    Bucket.objects.create(
        connection=cloud_connection,
        name="uses-key",
        region="cn-hangzhou",
        sse_method="kms",
        sse_key_id=key.key_id,
        refreshed_at=timezone.now(),
    )
    rows = {row.key.key_id: row for row in services.list_keys(cloud_connection, "cn-hangzhou")}
    row = rows[key.key_id]
    assert (row.key.aliases, row.key.state, row.key.spec, row.key.origin) == (
        ("alias/app-data",),
        "Enabled",
        "Aliyun_AES_256",
        "Aliyun_KMS",
    )
    assert row.used_by == ("uses-key",)


def test_each_change_is_audited_with_the_kms_request_id(cloud_connection, admin, key):
    scope = {"actor": admin, "connection": cloud_connection, "region": "cn-hangzhou", "key_id": key.key_id}
    assert services.disable_key(**scope).key.state == "Disabled"
    assert services.enable_key(**scope).key.state == "Enabled"
    services.rotate_key(**scope)
    services.add_alias(**scope, alias="alias/second")
    services.remove_alias(**scope, alias="alias/second")
    assert services.schedule_deletion(**scope, pending_days=7).key.state == "PendingDeletion"
    assert services.cancel_deletion(**scope).key.state == "Enabled"
    actions = [
        "key.disable",
        "key.enable",
        "key.rotate",
        "key.alias.add",
        "key.alias.remove",
        "key.deletion.schedule",
        "key.deletion.cancel",
    ]
    for action in actions:
        event = AuditEvent.objects.filter(action=action).first()  # newest: creating the key added an alias too
        assert (event.outcome, event.target, event.connection) == ("success", key.key_id, cloud_connection)
        assert event.request_id


def test_a_refused_change_is_audited_as_a_failure(cloud_connection, admin, key):
    scope = {"actor": admin, "connection": cloud_connection, "region": "cn-hangzhou", "key_id": key.key_id}
    services.schedule_deletion(**scope, pending_days=7)
    with pytest.raises(ServiceError):
        services.enable_key(**scope)
    assert AuditEvent.objects.get(action="key.enable").outcome == "failure"
    with pytest.raises(ServiceError):
        services.add_alias(**scope, alias="no-prefix")


# Pages and API: roles


def test_viewers_read_keys_but_only_admins_change_them(
    cloud_connection, key, client_as, api_as, viewer, operator, admin
):
    detail = f"/keys/{cloud_connection.pk}/cn-hangzhou/{key.key_id}/"
    for user in (viewer, operator):
        assert client_as(user).get(f"/keys/?connection={cloud_connection.pk}").status_code == 200
        assert client_as(user).get(detail).status_code == 200
        assert client_as(user).post(detail + "disable/").status_code == 403
        assert client_as(user).get(f"/keys/{cloud_connection.pk}/cn-hangzhou/new/").status_code == 403
        api = api_as(user)
        assert api.get(keys_url(cloud_connection)).status_code == 200
        for suffix in (
            "disable/",
            "enable/",
            "rotate/",
            "cancel-deletion/",
            "aliases/",
            "remove-alias/",
            "schedule-deletion/",
            "import-parameters/",
            "import-material/",
        ):
            assert api.post(keys_url(cloud_connection, f"{key.key_id}/{suffix}"), {}).status_code == 403
        assert api.post("/api/v1/keys/", {"connection": cloud_connection.pk}).status_code == 403
    response = client_as(admin).post(detail + "disable/")
    assert response.status_code == 302
    assert KmsClient(cloud_connection).describe_key(key.key_id).state == "Disabled"
    assert api_as(admin).post(keys_url(cloud_connection, f"{key.key_id}/enable/")).json()["key"]["state"] == "Enabled"


def test_anonymous_api_calls_are_refused(api_client, cloud_connection):
    assert api_client.get(keys_url(cloud_connection)).status_code == 401


def test_pages_show_the_key_and_never_the_connection_secret(cloud_connection, key, client_as, admin):
    page = client_as(admin).get(f"/keys/?connection={cloud_connection.pk}").content.decode()
    assert f"alias/app-data({key.key_id})" in page
    assert cloud_connection.access_key_secret not in page


def test_a_connection_kms_refuses_shows_its_error_not_a_500(cloud_connection, client_as, api_as, viewer):
    cloud_connection.set_credentials(cloud_connection.access_key_id, "wrong-secret")
    cloud_connection.save()
    page = client_as(viewer).get(f"/keys/?connection={cloud_connection.pk}")
    assert page.status_code == 200 and "KMS" in page.content.decode()
    response = api_as(viewer).get(keys_url(cloud_connection))
    assert response.status_code == 400 and response.json()["service"] == "kms" and response.json()["request_id"]


# BYOK


def test_bring_your_own_key_through_the_pages_then_encrypt_with_it(cloud_connection, client_as, admin):
    client = client_as(admin)
    client.post(
        "/keys/byok/",
        {
            "connection": cloud_connection.pk,
            "region": "cn-hangzhou",
            "spec": "Aliyun_AES_256",
            "alias": "alias/byok-app",
        },
    )
    key_id = client.session["encryption.byok"]["key_id"]
    assert KmsClient(cloud_connection).describe_key(key_id).state == "PendingImport"
    parameters_page = client.post("/keys/byok/parameters/", {"wrapping_algorithm": "RSAES_OAEP_SHA_256"}, follow=True)
    assert "BEGIN PUBLIC KEY" in parameters_page.content.decode()
    refused = client.post("/keys/byok/import/", {"encrypted_key_material": base64.b64encode(b"x" * 256).decode()})
    assert refused.status_code == 200 and KmsClient(cloud_connection).describe_key(key_id).state == "PendingImport"
    wrapped = wrap(client.session["encryption.byok"]["public_key"], os.urandom(32))
    done = client.post("/keys/byok/import/", {"encrypted_key_material": wrapped}, follow=True)
    assert "Enabled" in done.content.decode()
    oss = OssClient(cloud_connection)
    oss.create_bucket("byok-bucket")
    oss.put_object(
        "byok-bucket",
        "secret.txt",
        b"mine",
        {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": key_id},
    )
    assert b"".join(oss.open_object("byok-bucket", "secret.txt")) == b"mine"
    assert AuditEvent.objects.filter(action="key.import_material", target=key_id, outcome="success").exists()


def test_the_test_only_path_generates_and_imports_material(cloud_connection, client_as, admin):
    client = client_as(admin)
    client.post(
        "/keys/byok/",
        {
            "connection": cloud_connection.pk,
            "region": "cn-hangzhou",
            "spec": "Aliyun_AES_256",
            "alias": "alias/byok-test",
        },
    )
    client.post("/keys/byok/parameters/", {"wrapping_algorithm": "RSAES_OAEP_SHA_1"})
    client.post("/keys/byok/generate/", {"confirm": "on"})
    assert KmsClient(cloud_connection).describe_key("alias/byok-test").state == "Enabled"


def test_bring_your_own_key_through_the_api(cloud_connection, api_as, admin):
    api = api_as(admin)
    created = api.post(
        "/api/v1/keys/",
        {"connection": cloud_connection.pk, "origin": "EXTERNAL", "alias": "alias/api-byok"},
        format="json",
    )
    assert created.status_code == 201 and created.json()["key"]["state"] == "PendingImport"
    key_id = created.json()["key"]["key_id"]
    parameters = api.post(keys_url(cloud_connection, f"{key_id}/import-parameters/"), {}, format="json").json()
    assert parameters["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    wrong_token = api.post(
        keys_url(cloud_connection, f"{key_id}/import-material/"),
        {"encrypted_key_material": wrap(parameters["public_key"], os.urandom(32)), "import_token": "not-a-token"},
        format="json",
    )
    assert wrong_token.status_code == 400 and wrong_token.json()["service"] == "kms"
    imported = api.post(
        keys_url(cloud_connection, f"{key_id}/import-material/"),
        {
            "encrypted_key_material": wrap(parameters["public_key"], os.urandom(32)),
            "import_token": parameters["import_token"],
        },
        format="json",
    )
    assert imported.status_code == 200 and imported.json()["key"]["state"] == "Enabled"


# RAM policy


def test_the_policy_for_oss_managed_encryption_is_exact():
    document = policy.ram_policy("logs", sse_rules.Sse("oss", "AES256"), "", ["download", "set_encryption", "upload"])
    assert document == {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:PutBucketEncryption", "oss:GetBucketEncryption"],
                "Resource": ["acs:oss:*:*:logs"],
            },
            {"Effect": "Allow", "Action": ["oss:PutObject", "oss:GetObject"], "Resource": ["acs:oss:*:*:logs/*"]},
        ],
    }


def test_a_named_key_puts_its_arn_under_the_four_kms_actions(cloud_connection, key, api_as, client_as, viewer):
    OssClient(cloud_connection).create_bucket("policy-bucket")
    Bucket.objects.create(
        connection=cloud_connection, name="policy-bucket", region="cn-hangzhou", refreshed_at=timezone.now()
    )
    query = (
        f"connection={cloud_connection.pk}&bucket=policy-bucket&method=kms&algorithm=AES256"
        f"&key_id={key.key_id}&purposes=upload"
    )
    body = api_as(viewer).get(f"/api/v1/ram-policy/?{query}").json()
    statements = body["document"]["Statement"]
    assert body["key_arn"] == key.arn
    assert {"Effect": "Allow", "Action": ["kms:List*"], "Resource": ["*"]} in statements
    assert {
        "Effect": "Allow",
        "Action": ["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": [key.arn],
    } in statements
    page = client_as(viewer).get(f"/keys/ram-policy/?{query}&generate=1").content.decode()
    assert "kms:GenerateDataKey" in page and "data-copy" in page


# The rules of design.md §5


@pytest.mark.parametrize(
    "sse, label",
    [
        (sse_rules.Sse(), "None"),
        (sse_rules.Sse("oss", "AES256"), "OSS-managed AES256"),
        (sse_rules.Sse("oss", "SM4"), "OSS-managed SM4"),
        (sse_rules.Sse("kms", "AES256"), "KMS AES256 alias/acs/oss"),
        (sse_rules.Sse("kms", "SM4", "k1"), "KMS SM4 alias/name(k1)"),
    ],
)
def test_labels_read_as_on_the_oss_console(sse, label):
    assert sse.label({"k1": "alias/name(k1)"}) == label


@pytest.mark.parametrize(
    "method, algorithm, key_id",
    [("aes", "AES256", ""), ("oss", "AES128", ""), ("oss", "AES256", "k1"), ("none", "SM4", "")],
)
def test_malformed_settings_are_refused(method, algorithm, key_id):
    with pytest.raises(ServiceError):
        sse_rules.parse(method, algorithm, key_id)


def test_region_rules(settings):
    settings.CONSOLE_KMS_REGIONS = ["cn-shanghai"]
    sse_rules.check_region(sse_rules.Sse("oss", "SM4"), "")
    for sse, region in [
        (sse_rules.Sse("kms", "AES256"), ""),
        (sse_rules.Sse("kms", "AES256"), "cn-hangzhou"),
        (sse_rules.Sse("oss", "AES256"), "mars-north-1"),
    ]:
        with pytest.raises(ServiceError):
            sse_rules.check_region(sse, region)
    sse_rules.check_region(sse_rules.Sse("kms", "SM4"), "cn-shanghai")
