"""Bring your own key end to end against localcloud: through the wizard pages and through the API, then the key
encrypts objects as SSE-KMS. The material is made and wrapped here, as a customer would do it elsewhere."""

import base64
import os

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.contrib.messages import get_messages

from audit.models import AuditEvent
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule, OssClient
from encryption.services import keys as services

REGION = "cn-hangzhou"
WIZARD = "encryption.byok"


def from_pem(public_key_pem: bytes):
    return serialization.load_pem_public_key(public_key_pem)


def from_der_base64(public_key_b64: str):
    return serialization.load_der_public_key(base64.b64decode(public_key_b64))


def wrap(public_key, material: bytes) -> str:
    """RSAES-OAEP with SHA-256 (and MGF1 SHA-256), base64: what ImportKeyMaterial takes."""
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return base64.b64encode(public_key.encrypt(material, oaep)).decode()


def state_of(connection, key_id: str) -> str:
    return KmsClient(connection, REGION).describe_key(key_id).state


def encrypts_objects(connection, key_id: str) -> bool:
    """With the key as a bucket's default SSE-KMS key, an object written there reads back, sealed by that key."""
    oss = OssClient(connection)
    oss.create_bucket("byok-bucket")
    oss.put_encryption("byok-bucket", EncryptionRule("KMS", key_id))
    oss.put_object("byok-bucket", "mine.txt", b"only with my key", {})
    head = oss.head_object("byok-bucket", "mine.txt")
    return (
        b"".join(oss.open_object("byok-bucket", "mine.txt")) == b"only with my key"
        and head.header("x-oss-server-side-encryption-key-id") == key_id
    )


@pytest.fixture
def wizard(cloud_connection, client_as, admin):
    """An Admin's client at step 2 of the wizard, with a fresh EXTERNAL AES-256 key."""
    client = client_as(admin)
    start = client.post(
        "/keys/byok/",
        {"connection": cloud_connection.pk, "region": REGION, "spec": "Aliyun_AES_256", "alias": "alias/byok-app"},
    )
    assert (start.status_code, start["Location"]) == (302, "/keys/byok/parameters/")
    return client


def key_id_of(client) -> str:
    return client.session[WIZARD]["key_id"]


# Through the pages


def test_an_admin_brings_their_own_key_through_the_wizard_and_encrypts_with_it(cloud_connection, wizard, caplog):
    caplog.set_level("INFO")  # the console's log level; urllib3's DEBUG lines carry whole request URLs
    key_id = key_id_of(wizard)
    assert state_of(cloud_connection, key_id) == "PendingImport"
    assert KmsClient(cloud_connection).describe_key(key_id).origin == "EXTERNAL"
    assert wizard.get("/keys/byok/parameters/").status_code == 200
    parameters = wizard.post("/keys/byok/parameters/", {"wrapping_algorithm": "RSAES_OAEP_SHA_256"}, follow=True)
    pem = wizard.get("/keys/byok/wrapping-key.pem").content
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----") and pem.decode() in parameters.content.decode()
    token = wizard.session[WIZARD]["import_token"]
    assert token in parameters.content.decode() and wizard.session[WIZARD]["token_expires"]
    assert wizard.get("/keys/byok/import/").status_code == 200

    imported = wizard.post("/keys/byok/import/", {"encrypted_key_material": wrap(from_pem(pem), os.urandom(32))})
    assert (imported.status_code, imported["Location"]) == (302, "/keys/byok/done/")
    done = wizard.get("/keys/byok/done/").content.decode()
    assert "Enabled" in done and f"alias/byok-app({key_id})" in done
    assert state_of(cloud_connection, key_id) == "Enabled"
    assert "public_key" not in wizard.session[WIZARD] and "import_token" not in wizard.session[WIZARD]
    event = AuditEvent.objects.get(action="key.import_material")
    assert (event.outcome, event.target, event.after["state"]) == ("success", key_id, "Enabled") and event.request_id
    assert encrypts_objects(cloud_connection, key_id)
    assert token not in caplog.text and token not in str(event.before) + str(event.after) + event.error


def test_material_kms_cannot_unwrap_is_refused_and_the_key_keeps_waiting(cloud_connection, wizard):
    key_id = key_id_of(wizard)
    wizard.post("/keys/byok/parameters/", {"wrapping_algorithm": "RSAES_OAEP_SHA_256"})
    garbage = wizard.post("/keys/byok/import/", {"encrypted_key_material": base64.b64encode(os.urandom(256)).decode()})
    assert garbage.status_code == 200
    assert "KMS " in garbage.content.decode() and "does not unwrap" in garbage.content.decode()
    not_base64 = wizard.post("/keys/byok/import/", {"encrypted_key_material": "this is not base64!"})
    assert not_base64.status_code == 200 and "not base64" in not_base64.content.decode()
    assert state_of(cloud_connection, key_id) == "PendingImport"
    assert AuditEvent.objects.get(action="key.import_material").outcome == "failure"


def test_a_token_not_issued_for_the_key_is_refused(cloud_connection, wizard):
    key_id = key_id_of(wizard)
    wizard.post("/keys/byok/parameters/", {"wrapping_algorithm": "RSAES_OAEP_SHA_256"})
    pem = wizard.get("/keys/byok/wrapping-key.pem").content
    session = wizard.session
    session[WIZARD] = session[WIZARD] | {"import_token": "not-a-token"}
    session.save()
    refused = wizard.post("/keys/byok/import/", {"encrypted_key_material": wrap(from_pem(pem), os.urandom(32))})
    assert refused.status_code == 200 and "InvalidImportToken" in refused.content.decode()
    assert state_of(cloud_connection, key_id) == "PendingImport"


def test_the_wizard_keeps_its_order(cloud_connection, client_as, admin):
    client = client_as(admin)
    assert client.get("/keys/byok/parameters/")["Location"] == "/keys/byok/"
    assert client.get("/keys/byok/import/")["Location"] == "/keys/byok/parameters/"
    assert client.get("/keys/byok/done/")["Location"] == "/keys/byok/"
    assert client.get("/keys/byok/wrapping-key.pem").status_code == 404


def test_the_test_only_path_generates_the_material_for_an_existing_external_key(cloud_connection, client_as, admin):
    key = services.create_key(
        actor=admin, connection=cloud_connection, region=REGION, spec="Aliyun_SM4", origin="EXTERNAL"
    ).key
    client = client_as(admin)
    entered = client.post(f"/keys/{cloud_connection.pk}/{REGION}/{key.key_id}/import/")
    assert entered["Location"] == "/keys/byok/parameters/"
    client.post("/keys/byok/parameters/", {"wrapping_algorithm": "RSAES_OAEP_SHA_1"})
    unconfirmed = client.post("/keys/byok/generate/", {})
    assert unconfirmed.status_code == 200 and state_of(cloud_connection, key.key_id) == "PendingImport"
    generated = client.post("/keys/byok/generate/", {"confirm": "on"}, follow=True)
    assert generated.redirect_chain == [("/keys/byok/done/", 302)]
    told = f"Key material imported into {key.key_id}: PendingImport → Enabled."
    assert told in [str(m) for m in get_messages(generated.wsgi_request)]
    assert "Enabled" in generated.content.decode() and state_of(cloud_connection, key.key_id) == "Enabled"
    assert AuditEvent.objects.get(action="key.import_material").after["material"].startswith("generated")


# Through the API


def test_an_admin_brings_their_own_key_through_the_api(cloud_connection, api_as, admin):
    api = api_as(admin)
    created = api.post(
        "/api/v1/keys/",
        {"connection": cloud_connection.pk, "spec": "Aliyun_AES_256", "origin": "EXTERNAL", "alias": "alias/api-byok"},
        format="json",
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert (key["origin"], key["state"], key["aliases"]) == ("EXTERNAL", "PendingImport", ["alias/api-byok"])
    scope = f"?connection={cloud_connection.pk}&region={REGION}"
    url = f"/api/v1/keys/{key['key_id']}/"

    parameters = api.post(url + "import-parameters/" + scope, {}, format="json")
    assert parameters.status_code == 200
    parameters = parameters.json()
    assert parameters["wrapping_algorithm"] == "RSAES_OAEP_SHA_256" and parameters["token_expires"]
    assert parameters["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    public_key = from_der_base64(parameters["public_key"])
    assert from_pem(parameters["public_key_pem"].encode()).public_numbers() == public_key.public_numbers()
    wrapped = wrap(public_key, os.urandom(32))

    wrong_token = api.post(
        url + "import-material/" + scope, {"encrypted_key_material": wrapped, "import_token": "nope"}, format="json"
    )
    assert wrong_token.status_code == 400
    assert (wrong_token.json()["service"], wrong_token.json()["code"]) == ("kms", "InvalidImportToken")
    garbage = api.post(
        url + "import-material/" + scope,
        {"encrypted_key_material": "not base64!", "import_token": parameters["import_token"]},
        format="json",
    )
    assert garbage.status_code == 400 and "not base64" in garbage.json()["detail"]
    assert state_of(cloud_connection, key["key_id"]) == "PendingImport"

    imported = api.post(
        url + "import-material/" + scope,
        {"encrypted_key_material": wrapped, "import_token": parameters["import_token"]},
        format="json",
    )
    assert imported.status_code == 200
    assert imported.json()["key"]["state"] == "Enabled" and imported.json()["request_id"]
    assert encrypts_objects(cloud_connection, key["key_id"])
