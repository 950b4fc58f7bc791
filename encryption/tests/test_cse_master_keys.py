"""Master keys for client-side encryption: services, pages, API, roles, audit, and a round trip on localcloud."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.urls import reverse

from audit.models import AuditEvent
from cloud.cse import CseError
from cloud.cse.objects import get_decrypted, head_envelope, put_encrypted
from cloud.errors import Conflict, ServiceError
from cloud.oss import OssClient
from console import secrets
from encryption.models import MasterKey
from encryption.services import keys as key_services
from encryption.services import master_keys

pytestmark = pytest.mark.django_db
API = "/api/v1/cse-keys/"


def pem_of(private_key, passphrase: bytes | None = None, fmt=serialization.PrivateFormat.PKCS8) -> str:
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return private_key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


def private_body(key: MasterKey) -> list[str]:
    """Lines of the sealed private key's base64 body: none may ever appear in an answer."""
    pem = secrets.unseal(master_keys._PURPOSE, key.sealed_private_key, master_keys._context(key))
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def assert_no_private(text: str, key: MasterKey) -> None:
    for line in private_body(key):
        assert line not in text


@pytest.fixture
def rsa_key(admin):
    return master_keys.generate_rsa(actor=admin, name="finance", bits=2048, description="Finance reports")


# Services


def test_generate_seals_the_private_key_and_records_public_facts(admin, rsa_key):
    assert rsa_key.kind == "rsa" and rsa_key.bits == 2048 and rsa_key.matdesc == {"name": "finance"}
    assert len(rsa_key.fingerprint) == 64 and rsa_key.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in rsa_key.sealed_private_key
    event = AuditEvent.objects.get(action="cse.masterkey.create")
    assert event.outcome == AuditEvent.SUCCESS and event.actor == admin and event.target == "finance"
    assert event.after["fingerprint"] == rsa_key.fingerprint
    assert_no_private(str(event.after) + str(event.before), rsa_key)
    assert "PRIVATE" not in repr(master_keys.wrapper_for(rsa_key))


def test_generate_refuses_bad_bits_duplicates_and_same_matdesc(admin, rsa_key):
    with pytest.raises(ServiceError, match="2048 or 3072"):
        master_keys.generate_rsa(actor=admin, name="small", bits=1024)
    with pytest.raises(Conflict, match="already exists"):
        master_keys.generate_rsa(actor=admin, name="finance")
    with pytest.raises(Conflict, match="material description"):
        master_keys.generate_rsa(actor=admin, name="other", matdesc={"name": "finance"})
    with pytest.raises(ServiceError, match="JSON object"):
        master_keys.generate_rsa(actor=admin, name="other", matdesc=["x"])
    failures = AuditEvent.objects.filter(action="cse.masterkey.create", outcome=AuditEvent.FAILURE)
    assert failures.count() == 4


@pytest.mark.parametrize(
    "fmt,passphrase",
    [
        (serialization.PrivateFormat.PKCS8, None),
        (serialization.PrivateFormat.TraditionalOpenSSL, None),
        (serialization.PrivateFormat.PKCS8, b"s3cret-phrase"),
        (serialization.PrivateFormat.TraditionalOpenSSL, b"s3cret-phrase"),
    ],
)
def test_import_reads_pkcs8_and_traditional_pems(admin, fmt, passphrase):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = master_keys.import_rsa(
        actor=admin,
        name="legacy",
        pem=pem_of(private_key, passphrase, fmt),
        passphrase=passphrase.decode() if passphrase else "",
        matdesc={"team": "legacy"},
    )
    assert key.bits == 2048 and key.matdesc == {"team": "legacy"}
    public = private_key.public_key()
    assert key.public_key_pem.encode() == public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    event = AuditEvent.objects.get(action="cse.masterkey.import")
    assert event.outcome == AuditEvent.SUCCESS
    assert_no_private(str(event.after), key)
    if passphrase:
        assert passphrase.decode() not in str(event.after)


def test_import_refuses_bad_pems_clearly(admin):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    good = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = good.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    cases = [
        (public_pem.decode(), "", "public key"),
        (pem_of(ec.generate_private_key(ec.SECP256R1())), "", "not an RSA key"),
        (pem_of(small), "", "1024 bits; at least 2048"),
        ("hello", "", "not a PEM private key"),
        ("", "", "Paste the RSA private key"),
        (pem_of(good, b"right"), "", "is encrypted: give its passphrase"),
        (pem_of(good, b"right"), "wrong", "wrong passphrase"),
        (pem_of(good), "unneeded", "is not encrypted"),
        ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "", "could not be read"),
    ]
    for pem, passphrase, message in cases:
        with pytest.raises(ServiceError, match=message) as refused:
            master_keys.import_rsa(actor=admin, name="bad", pem=pem, passphrase=passphrase)
        assert not any(line in refused.value.message for line in pem.splitlines()[1:-1])
    events = AuditEvent.objects.filter(action="cse.masterkey.import", outcome=AuditEvent.FAILURE)
    assert events.count() == len(cases)
    assert not MasterKey.objects.exists()


def test_kms_key_is_checked_to_exist_and_be_enabled(cloud_connection, admin):
    region = cloud_connection.region
    created = key_services.create_key(actor=admin, connection=cloud_connection, region=region, spec="Aliyun_AES_256")
    key_id = created.key.key_id
    key = master_keys.add_kms(actor=admin, name="kms", connection=cloud_connection, region="", cmk_id=key_id)
    assert (key.kind, key.region, key.cmk_id, key.matdesc) == ("kms", region, key_id, {"name": "kms"})
    event = AuditEvent.objects.filter(action="cse.masterkey.create").first()
    assert event.connection == cloud_connection and event.after["cmk_id"] == key_id

    with pytest.raises(ServiceError, match="not found"):
        master_keys.add_kms(
            actor=admin, name="ghost", connection=cloud_connection, cmk_id="0987dcba-09fe-87dc-65ba-ab0987654321"
        )
    key_services.disable_key(actor=admin, connection=cloud_connection, region=region, key_id=key_id)
    with pytest.raises(ServiceError, match="Disabled"):
        master_keys.add_kms(actor=admin, name="off", connection=cloud_connection, cmk_id=key_id)


def test_delete_is_audited(admin, rsa_key):
    master_keys.delete_master_key(actor=admin, key=rsa_key)
    assert not MasterKey.objects.exists()
    event = AuditEvent.objects.get(action="cse.masterkey.delete")
    assert event.before["name"] == "finance" and event.outcome == AuditEvent.SUCCESS


CURRENT = {"key": "x-oss-meta-client-side-encryption-key", "wrap": "x-oss-meta-client-side-encryption-wrap-alg"}
CURRENT_MATDESC = "x-oss-meta-client-side-encryption-matdesc"
OLDER = {"key": "x-oss-meta-oss-crypto-key", "wrap": "x-oss-meta-oss-wrap-alg"}


def envelope_of(names: dict, wrap_alg: str, matdesc: str | None = None, matdesc_name: str = CURRENT_MATDESC) -> dict:
    headers = {names["key"]: "d3JhcHBlZA==", names["wrap"]: wrap_alg}
    return headers if matdesc is None else {**headers, matdesc_name: matdesc}


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"x-oss-meta-owner": "finance"}, "not client-side encrypted"),
        (envelope_of(CURRENT, "RSA/NONE/PKCS1Padding"), "rsa plain"),
        (envelope_of(CURRENT, "RSA/NONE/OAEPWithSHA-1AndMGF1Padding", '{"team": "ops"}'), "rsa ops"),
        (envelope_of(CURRENT, "KMS/ALICLOUD", '{"team": "ops"}'), "kms ops"),
        (envelope_of(CURRENT, "RSA/NONE/PKCS1Padding", '{"team": "x"}'), None),
        (envelope_of(CURRENT, "AES/KeyWrap"), None),
        (envelope_of(OLDER, "rsa", '{"team": "ops"}', "x-oss-meta-oss-crypto-matdesc"), "rsa ops"),
        (envelope_of(OLDER, "kms"), "kms plain"),
        ({**envelope_of(CURRENT, "RSA/NONE/PKCS1Padding"), **envelope_of(OLDER, "kms")}, "kms plain"),
        (envelope_of(CURRENT, "RSA/NONE/PKCS1Padding", "not json"), "unreadable"),
    ],
)
def test_the_master_key_an_object_is_under_follows_wrap_algorithm_and_material_description(admin, headers, expected):
    keys = {
        "rsa plain": MasterKey.objects.create(name="rsa plain", kind=MasterKey.RSA),
        "rsa ops": MasterKey.objects.create(name="rsa ops", kind=MasterKey.RSA, matdesc={"team": "ops"}),
        "kms plain": MasterKey.objects.create(name="kms plain", kind=MasterKey.KMS),
        "kms ops": MasterKey.objects.create(name="kms ops", kind=MasterKey.KMS, matdesc={"team": "ops"}),
    }
    if expected == "unreadable":
        with pytest.raises(CseError, match="not valid JSON"):
            master_keys.master_key_of(headers)
        return

    envelope, master_key = master_keys.master_key_of(headers)

    if expected == "not client-side encrypted":
        assert (envelope, master_key) == (None, None)
    else:
        assert envelope is not None and master_key == keys.get(expected)


def test_generated_key_round_trips_on_localcloud(cloud_connection, admin):
    key = master_keys.generate_rsa(actor=admin, name="roundtrip", bits=2048)
    oss = OssClient(cloud_connection)
    oss.create_bucket("cse-keys")
    data = b"client-side encrypted " * 1000
    put_encrypted(oss, "cse-keys", "report.txt", data, master_keys.wrapper_for(key))
    envelope = head_envelope(oss, "cse-keys", "report.txt")
    assert master_keys.match_envelope(envelope) == key
    fresh = MasterKey.objects.get(pk=key.pk)
    assert get_decrypted(oss, "cse-keys", "report.txt", master_keys.wrapper_for(fresh)) == data


# Pages


def test_pages_show_public_facts_and_never_the_private_key(client_as, admin, viewer, rsa_key):
    client = client_as(viewer)
    pages = [
        client.get(reverse("encryption:cse_key_list")),
        client.get(reverse("encryption:cse_key_detail", args=[rsa_key.pk]) + "?new=1"),
        client.get(reverse("encryption:cse_public_key", args=[rsa_key.pk])),
        client.get(reverse("encryption:key_list")),
    ]
    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    assert rsa_key.fingerprint in pages[1].content.decode()
    assert "never shown" in pages[1].content.decode()
    assert pages[2].content.decode() == rsa_key.public_key_pem
    assert reverse("encryption:cse_key_list") in pages[3].content.decode()
    for page in pages:
        assert_no_private(page.content.decode(), rsa_key)
    assert client.get(reverse("encryption:cse_key_new")).status_code == 403
    assert client.post(reverse("encryption:cse_key_delete", args=[rsa_key.pk])).status_code == 403


def test_admin_generates_imports_and_deletes_through_pages(client_as, admin):
    client = client_as(admin)
    response = client.post(reverse("encryption:cse_key_new"), {"name": "web", "bits": "2048", "matdesc": ""})
    key = MasterKey.objects.get(name="web")
    assert response.status_code == 302 and response.url.endswith("?new=1")
    detail = client.get(response.url).content.decode()
    assert "never shown" in detail and key.fingerprint in detail
    assert_no_private(detail, key)

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = pem_of(private_key)
    refused = client.post(reverse("encryption:cse_key_import"), {"name": "weak", "pem": pem})
    body = refused.content.decode()
    assert refused.status_code == 200 and "at least 2048" in body
    assert pem.splitlines()[1] not in body  # a refused private key is not echoed back

    response = client.post(reverse("encryption:cse_key_delete", args=[key.pk]))
    assert response.status_code == 302 and not MasterKey.objects.filter(name="web").exists()


# API


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_api_only_admins_create_master_keys(request, api_as, role):
    refused = api_as(request.getfixturevalue(role)).post(API, {"name": "x", "kind": "rsa", "bits": 2048}, format="json")

    assert refused.status_code == 403 and not MasterKey.objects.exists()


def test_api_an_admin_generates_a_master_key_and_it_is_audited(api_as, admin):
    created = api_as(admin).post(API, {"name": "gen", "kind": "rsa", "bits": 2048}, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["fingerprint"]
    assert_no_private(created.content.decode(), MasterKey.objects.get(name="gen"))
    assert AuditEvent.objects.filter(action="cse.masterkey.create").exists()


def test_api_an_imported_key_never_answers_back_its_private_key_or_passphrase(api_as, admin):
    pem = pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048), b"phrase")

    imported = api_as(admin).post(
        API, {"name": "imp", "kind": "rsa", "private_key_pem": pem, "passphrase": "phrase"}, format="json"
    )

    assert imported.status_code == 201, imported.content
    assert "private_key_pem" not in imported.json() and "passphrase" not in imported.json()
    assert "phrase" not in imported.content.decode()
    assert_no_private(imported.content.decode(), MasterKey.objects.get(name="imp"))
    assert AuditEvent.objects.filter(action="cse.masterkey.import").exists()


@pytest.mark.parametrize(
    "payload",
    [{"name": "bad", "kind": "rsa", "private_key_pem": "nope"}, {"name": "k", "kind": "kms"}],
    ids=["not-a-pem", "kms-is-no-master-key-kind"],
)
def test_api_refuses_a_master_key_it_cannot_make(api_as, admin, payload):
    assert api_as(admin).post(API, payload, format="json").status_code == 400
    assert not MasterKey.objects.exists()


def test_api_viewers_list_and_read_master_keys_without_private_material(api_as, viewer, rsa_key):
    reader = api_as(viewer)

    listing = reader.get(API)
    one = reader.get(f"{API}{rsa_key.pk}/")

    assert listing.status_code == 200 and [row["name"] for row in listing.json()["results"]] == ["finance"]
    assert one.status_code == 200 and one.json()["fingerprint"]
    assert_no_private(listing.content.decode() + one.content.decode(), rsa_key)


def test_api_only_admins_delete_master_keys_and_deleting_is_audited(api_as, viewer, admin, rsa_key):
    assert api_as(viewer).delete(f"{API}{rsa_key.pk}/").status_code == 403
    assert api_as(admin).delete(f"{API}{rsa_key.pk}/").status_code == 204
    assert not MasterKey.objects.exists()
    assert AuditEvent.objects.filter(action="cse.masterkey.delete").exists()


def test_api_adds_a_kms_key(api_as, admin, cloud_connection):
    created = key_services.create_key(
        actor=admin, connection=cloud_connection, region=cloud_connection.region, spec="Aliyun_AES_256"
    )
    body = {"name": "kms", "kind": "kms", "connection": cloud_connection.pk, "cmk_id": created.key.key_id}
    response = api_as(admin).post(API, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["cmk_id"] == created.key.key_id and response.json()["connection_name"] == "local"
