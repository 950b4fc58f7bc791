"""The Keys area in a real browser: every form, each transition and each refusal checked where it lands.

KMS keys are read back through the KMS SDK against localcloud, CSE master keys from the database and by encrypting
and decrypting objects with them (oss2's CryptoBucket on one side, the console's cloud.cse on the other), the
RAM policy by parsing it. A refused submit must show the error summary, focused, and change nothing. axe-core
checks every distinct page on the way (a form page once, with its error summary showing).
"""

import base64
import hashlib
import json
import os
import re
from datetime import UTC, date, datetime, timedelta

import oss2
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from playwright.sync_api import expect

from accounts.services import create_user
from buckets.models import Connection
from cloud.cse.objects import get_decrypted, put_encrypted
from cloud.kms import KmsClient
from cloud.oss import OssClient
from console.testing.browser import assert_accessible, expect_error_summary, log_in
from console.testing.cloud import named_key, new_bucket
from encryption.models import MasterKey
from encryption.services import master_keys

PASSWORD = "Browser-Passw0rd-11"
REGION = "cn-hangzhou"


@pytest.fixture
def admin_page(page, console_server, cloud_connection):
    """The page, signed in as an Admin (who may do everything in the Keys area)."""
    create_user(actor=None, username="kim", role="admin", password=PASSWORD)
    log_in(page, console_server, "kim", PASSWORD)
    return page


def key_ids(connection) -> set[str]:
    return {key.key_id for key in KmsClient(connection).list_keys()}


def told(page, text: str) -> None:
    """The page's status messages include `text` (what changed, before → after)."""
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def today() -> date:
    """Today where the console counts material expiry: UTC."""
    return datetime.now(UTC).date()


def wrapped(material: bytes, public_pem: str, digest=hashes.SHA256) -> str:
    """Material wrapped as a person would with openssl before pasting it: RSAES-OAEP, base64."""
    public_key = serialization.load_pem_public_key(public_pem.encode())
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=digest()), algorithm=digest(), label=None)
    return base64.b64encode(public_key.encrypt(material, oaep)).decode()


# KMS keys


def test_an_admin_creates_keys_and_walks_one_through_every_state(admin_page, console_server, cloud_connection):
    page = admin_page
    kms = KmsClient(cloud_connection)
    Connection.objects.create(name="private cloud", oss_endpoint="http://127.0.0.1:9", region="xx-private-1")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Keys").click()
    expect(page.get_by_role("heading", name="CMKs (KMS keys)")).to_be_visible()
    page.get_by_role("link", name="Create key").click()
    existing = key_ids(cloud_connection)
    page.get_by_label("Aliyun_SM4").check()
    page.get_by_label("Alias").fill("browser-sm4")
    page.get_by_role("button", name="Create key").click()
    expect_error_summary(page, "An alias starts with alias/")
    assert key_ids(cloud_connection) == existing
    assert_accessible(page)

    page.get_by_label("Alias").fill("alias/browser-sm4")
    page.get_by_label("Description").fill("browser SM4 key")
    page.get_by_role("button", name="Create key").click()
    sm4 = kms.describe_key("alias/browser-sm4")
    told(page, f"Key alias/browser-sm4({sm4.key_id}) created: Aliyun_SM4, Aliyun_KMS, Enabled.")
    assert (sm4.spec, sm4.origin, sm4.state, sm4.description) == (
        "Aliyun_SM4",
        "Aliyun_KMS",
        "Enabled",
        "browser SM4 key",
    )
    expect(page.get_by_role("heading", name=f"alias/browser-sm4({sm4.key_id})")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{console_server}/keys/{cloud_connection.pk}/{REGION}/new/")
    page.get_by_label("Aliyun_AES_256").check()
    page.get_by_label("Alias").fill("alias/browser-sm4")
    page.get_by_role("button", name="Create key").click()
    expect_error_summary(page, f"The alias alias/browser-sm4 is already taken in {REGION}.")
    assert key_ids(cloud_connection) == existing | {sm4.key_id}
    page.get_by_label("Alias").fill("alias/browser-aes")
    page.get_by_role("button", name="Create key").click()
    aes = kms.describe_key("alias/browser-aes")
    told(page, f"Key alias/browser-aes({aes.key_id}) created: Aliyun_AES_256, Aliyun_KMS, Enabled.")
    assert (aes.spec, aes.state) == ("Aliyun_AES_256", "Enabled")

    page.get_by_role("link", name=re.compile("← Keys of")).click()
    expect(page.get_by_role("link", name=f"alias/browser-aes({aes.key_id})")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Region", exact=True).select_option("xx-private-1")  # the other connection's own region
    page.get_by_role("button", name="Show keys").click()
    expect_error_summary(page, "xx-private-1 is not a region this connection can use.")
    expect(page.get_by_role("link", name=f"alias/browser-aes({aes.key_id})")).to_have_count(0)
    page.get_by_label("Region", exact=True).select_option(REGION)
    page.get_by_role("button", name="Show keys").click()
    page.get_by_role("link", name=f"alias/browser-sm4({sm4.key_id})").click()
    name = f"alias/browser-sm4({sm4.key_id})"

    page.get_by_role("button", name="Disable").click()
    told(page, f"Key {name}: Enabled → Disabled.")
    assert kms.describe_key(sm4.key_id).state == "Disabled"
    page.get_by_role("button", name="Enable").click()
    told(page, f"Key {name}: Disabled → Enabled.")
    assert kms.describe_key(sm4.key_id).state == "Enabled"

    page.get_by_role("link", name="Schedule deletion…").click()
    for days, confirmed, refusal in (
        ("6", True, "Ensure this value is greater than or equal to 7."),
        ("367", False, "Ensure this value is less than or equal to 366."),
    ):
        page.get_by_label("Waiting period (days)").fill(days)
        page.get_by_label(re.compile("I understand")).set_checked(confirmed)
        page.get_by_role("button", name="Schedule deletion").click()
        expect_error_summary(page, refusal, *([] if confirmed else ["This field is required."]))
        unchanged = kms.describe_key(sm4.key_id)
        assert (unchanged.state, unchanged.deletion_date) == ("Enabled", "")
    assert_accessible(page)

    page.get_by_label("Waiting period (days)").fill("7")
    page.get_by_label(re.compile("I understand")).check()
    asked = datetime.now(UTC).replace(microsecond=0)
    page.get_by_role("button", name="Schedule deletion").click()
    expect(page.get_by_role("button", name="Cancel deletion")).to_be_visible()
    answered = datetime.now(UTC)
    pending = kms.describe_key(sm4.key_id)
    assert pending.state == "PendingDeletion"
    assert asked + timedelta(days=7) <= datetime.fromisoformat(pending.deletion_date) <= answered + timedelta(days=7)
    told(page, f"Key {name}: Enabled → PendingDeletion; deletion date none → {pending.deletion_date}.")
    page.get_by_role("button", name="Cancel deletion").click()
    told(page, f"Key {name}: PendingDeletion → Enabled; deletion date {pending.deletion_date} → none.")
    restored = kms.describe_key(sm4.key_id)
    assert (restored.state, restored.deletion_date) == ("Enabled", "")

    for alias, refusal in (
        ("browser sm4", "An alias starts with alias/"),
        ("alias/browser-aes", "KMS AliasAlreadyExists"),
    ):
        page.get_by_label("Alias").fill(alias)
        page.get_by_role("button", name="Add alias").click()
        expect_error_summary(page, refusal)
        assert kms.describe_key(sm4.key_id).aliases == ("alias/browser-sm4",)
    page.get_by_label("Alias").fill("alias/browser-sm4-reports")
    page.get_by_role("button", name="Add alias").click()
    told(page, f"Key {name}: aliases alias/browser-sm4 → alias/browser-sm4, alias/browser-sm4-reports.")
    assert set(kms.describe_key(sm4.key_id).aliases) == {"alias/browser-sm4", "alias/browser-sm4-reports"}
    assert kms.describe_key(aes.key_id).aliases == ("alias/browser-aes",)


# Bring your own key


def test_an_admin_brings_their_own_key_material_through_the_wizard(admin_page, console_server, cloud_connection):
    page = admin_page
    kms = KmsClient(cloud_connection)
    named_key(cloud_connection, "alias/taken")
    page.goto(f"{console_server}/keys/")
    page.get_by_role("link", name="Bring your own key").click()

    existing = key_ids(cloud_connection)
    page.get_by_label("Alias").fill("alias/taken")
    page.get_by_role("button", name="Create EXTERNAL key").click()
    expect_error_summary(page, f"The alias alias/taken is already taken in {REGION}.")
    assert key_ids(cloud_connection) == existing
    assert_accessible(page)

    page.get_by_label("Alias").fill("alias/browser-byok")
    page.get_by_role("button", name="Create EXTERNAL key").click()
    key = kms.describe_key("alias/browser-byok")
    assert (key.origin, key.state, key.spec) == ("EXTERNAL", "PendingImport", "Aliyun_AES_256")
    told(page, f"EXTERNAL key alias/browser-byok({key.key_id}) created: Aliyun_AES_256, PendingImport")

    page.get_by_role("button", name="Get wrapping key and token").click()
    public_pem = page.locator("#wrapping-key").text_content()
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert page.locator("#import-token").text_content().strip()
    assert_accessible(page)
    page.get_by_role("link", name="Next: import material").click()

    material = page.get_by_label("Wrapped key material (base64)")
    for pasted, refusal in (
        ("not base64 at all!", "The wrapped key material is not base64."),
        (wrapped(os.urandom(16), public_pem), "takes 256-bit material"),  # KMS refuses: an SM4 key's length
    ):
        material.fill(pasted)
        page.get_by_role("button", name="Import", exact=True).click()
        expect_error_summary(page, refusal)
        assert kms.describe_key(key.key_id).state == "PendingImport"
    assert_accessible(page)

    expires = today() + timedelta(days=30)
    material.fill(wrapped(os.urandom(32), public_pem))
    bring = page.locator("section").filter(has=page.get_by_role("heading", name="Import key material"))
    bring.get_by_label("Material expires on").fill(expires.isoformat())
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Key material imported")).to_be_visible()
    imported = kms.describe_key(key.key_id)
    assert (imported.origin, imported.state) == ("EXTERNAL", "Enabled")
    assert imported.material_expires.startswith(expires.isoformat())
    told(
        page,
        f"Key material imported into alias/browser-byok({key.key_id}): PendingImport → Enabled; "
        f"material expires none → {imported.material_expires}.",
    )
    assert_accessible(page)
    plaintext = base64.b64encode(b"sealed under brought material").decode()
    assert kms.decrypt(kms.encrypt(key.key_id, plaintext).ciphertext_blob).plaintext == plaintext

    # An SM4 EXTERNAL key from the Create key page, into the wizard from its own page, the test-only material.
    page.goto(f"{console_server}/keys/{cloud_connection.pk}/{REGION}/new/")
    page.get_by_label("Aliyun_SM4").check()
    page.get_by_label(re.compile("Imported by you")).check()
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name=re.compile("^[0-9a-f-]{36}$"))).to_be_visible()
    key_id = page.url.rstrip("/").rsplit("/", 1)[1]
    told(page, f"Key {key_id} created: Aliyun_SM4, EXTERNAL, PendingImport.")
    created = key_ids(cloud_connection)
    assert (kms.describe_key(key_id).origin, kms.describe_key(key_id).state) == ("EXTERNAL", "PendingImport")

    page.get_by_role("button", name="Import key material…").click()
    page.get_by_label("RSAES_OAEP_SHA_1").check()
    page.get_by_role("button", name="Get wrapping key and token").click()
    expect(page.get_by_role("heading", name="Wrapping public key (RSAES_OAEP_SHA_1)")).to_be_visible()
    page.get_by_role("link", name="Next: import material").click()

    testing_only = page.locator("section").filter(has=page.get_by_role("heading", name=re.compile("For testing only")))
    testing_only.get_by_label(re.compile("For testing only")).check()
    testing_only.get_by_label("Material expires on").fill(today().isoformat())
    page.get_by_role("button", name="Generate, wrap and import").click()
    expect_error_summary(page, "Choose a day after today.")
    assert kms.describe_key(key_id).state == "PendingImport"
    assert_accessible(page)

    testing_only.get_by_label(re.compile("For testing only")).check()
    testing_only.get_by_label("Material expires on").fill("")
    page.get_by_role("button", name="Generate, wrap and import").click()
    told(page, f"Key material imported into {key_id}: PendingImport → Enabled.")
    key = kms.describe_key(key_id)
    assert (key.origin, key.spec, key.state, key.material_expires) == ("EXTERNAL", "Aliyun_SM4", "Enabled", "")
    assert key_ids(cloud_connection) == created


# Client-side encryption master keys


def private_pem(key, passphrase: bytes | None = None, pkcs8: bool = True) -> str:
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    form = serialization.PrivateFormat.PKCS8 if pkcs8 else serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, form, encryption).decode()


def public_pem(key) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def fingerprint(key) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def crypto_bucket(connection, bucket: str, provider) -> oss2.CryptoBucket:
    auth = oss2.AuthV4(connection.access_key_id, connection.access_key_secret)
    return oss2.CryptoBucket(auth, connection.oss_endpoint, bucket, provider, region=connection.region)


def assert_no_private_key(page, *pems: str) -> None:
    html = page.content()
    assert "PRIVATE KEY-----" not in html
    for pem in pems:
        body = [line for line in pem.splitlines() if line and not line.startswith(("-----", "Proc-Type", "DEK-Info"))]
        assert not any(line in html for line in body)


def test_an_admin_generates_imports_and_adds_cse_master_keys_that_really_encrypt(
    admin_page, console_server, cloud_connection
):
    page = admin_page
    new_bucket(cloud_connection, "cse-keys")
    oss = OssClient(cloud_connection)
    page.goto(f"{console_server}/keys/")
    page.get_by_role("link", name="CSE master keys").click()

    # Generated: the console writes with it, oss2 reads with the same key pair.
    page.get_by_role("link", name="Generate RSA key").click()
    assert_accessible(page)
    page.get_by_label("Name").fill("browser generated")
    page.get_by_role("button", name="Generate key").click()
    told(page, "Master key browser generated added.")
    generated = MasterKey.objects.get(name="browser generated")
    assert (generated.kind, generated.bits, generated.matdesc) == ("rsa", 2048, {"name": "browser generated"})
    expect(page.locator("pre")).to_have_text(generated.public_key_pem.strip())
    wrapper = master_keys.wrapper_for(generated)
    assert_no_private_key(page, wrapper.private_pem().decode())
    assert_accessible(page)
    put_encrypted(oss, "cse-keys", "generated.txt", b"written by the console", wrapper)
    provider = oss2.RsaProvider(
        key_pair={"private_key": wrapper.private_pem(), "public_key": generated.public_key_pem.encode()},
        mat_desc=generated.matdesc,
    )
    assert crypto_bucket(cloud_connection, "cse-keys", provider).get_object("generated.txt").read() == (
        b"written by the console"
    )

    page.goto(f"{console_server}/keys/cse/new/")
    page.get_by_label("Name").fill("browser generated")
    page.get_by_role("button", name="Generate key").click()
    expect_error_summary(page, "A master key named browser generated already exists.")
    assert MasterKey.objects.count() == 1

    # Imported: a traditional PEM without passphrase, then a PKCS#8 one with a passphrase (wrong, then right).
    plain_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    locked_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    plain_pem, locked_pem = private_pem(plain_key, pkcs8=False), private_pem(locked_key, b"open sesame")
    page.goto(f"{console_server}/keys/cse/")
    page.get_by_role("link", name="Import RSA key").click()
    page.get_by_label("Name").fill("browser imported")
    page.get_by_label("Private key (PEM)").fill(plain_pem)
    page.get_by_role("button", name="Import key").click()
    told(page, "Master key browser imported added.")
    imported = MasterKey.objects.get(name="browser imported")
    assert (imported.fingerprint, imported.public_key_pem) == (
        fingerprint(plain_key.public_key()),
        public_pem(plain_key.public_key()),
    )
    assert_no_private_key(page, plain_pem)

    page.goto(f"{console_server}/keys/cse/import/")
    page.get_by_label("Name").fill("browser locked")
    page.get_by_label("Material description").fill('{"owner": "finance"}')
    page.get_by_label("Private key (PEM)").fill(locked_pem)
    page.get_by_label("Passphrase").fill("open sesame!")
    page.get_by_role("button", name="Import key").click()
    expect_error_summary(page, "The private key could not be read: wrong passphrase")
    assert not MasterKey.objects.filter(name="browser locked").exists()
    expect(page.get_by_label("Private key (PEM)")).to_have_value("")
    assert_no_private_key(page, locked_pem)
    assert_accessible(page)
    page.get_by_label("Private key (PEM)").fill(locked_pem)
    page.get_by_role("button", name="Import key").click()
    expect_error_summary(page, "The private key is encrypted: give its passphrase.")
    page.get_by_label("Private key (PEM)").fill(locked_pem)
    page.get_by_label("Passphrase").fill("open sesame")
    page.get_by_role("button", name="Import key").click()
    told(page, "Master key browser locked added.")
    locked = MasterKey.objects.get(name="browser locked")
    assert (locked.fingerprint, locked.matdesc) == (fingerprint(locked_key.public_key()), {"owner": "finance"})
    expect(page.get_by_text(locked.fingerprint)).to_be_visible()
    assert_no_private_key(page, locked_pem)
    for key, pem, passphrase in ((imported, plain_pem, None), (locked, locked_pem, "open sesame")):
        provider = oss2.RsaProvider(
            key_pair={"private_key": pem.encode(), "public_key": key.public_key_pem.encode()},
            passphrase=passphrase,
            mat_desc=key.matdesc,
        )
        crypto_bucket(cloud_connection, "cse-keys", provider).put_object(f"{key.name}.txt", b"written by oss2")
        assert get_decrypted(oss, "cse-keys", f"{key.name}.txt", master_keys.wrapper_for(key)) == b"written by oss2"

    # A KMS CMK: refused while unknown, then the data keys come from KMS.
    cmk_id = named_key(cloud_connection, "alias/browser-cse")
    page.goto(f"{console_server}/keys/cse/")
    page.get_by_role("link", name="Add KMS-backed master key").click()
    page.get_by_label("Name").fill("browser kms")
    page.get_by_label("CMK id").fill("alias/browser-nothing")
    page.get_by_role("button", name="Add key").click()
    expect_error_summary(page, "KMS key alias/browser-nothing was not found")
    assert not MasterKey.objects.filter(name="browser kms").exists()
    assert_accessible(page)
    page.get_by_label("CMK id").fill("alias/browser-cse")
    page.get_by_role("button", name="Add key").click()
    told(page, "Master key browser kms added.")
    by_kms = MasterKey.objects.get(name="browser kms")
    assert (by_kms.kind, by_kms.cmk_id, by_kms.region) == ("kms", cmk_id, REGION)
    assert_accessible(page)
    put_encrypted(oss, "cse-keys", "kms.txt", b"sealed by a KMS data key", master_keys.wrapper_for(by_kms))
    assert get_decrypted(oss, "cse-keys", "kms.txt", master_keys.wrapper_for(by_kms)) == b"sealed by a KMS data key"

    page.goto(f"{console_server}/keys/cse/")
    assert_accessible(page)
    page.get_by_role("link", name="browser generated").click()
    page.get_by_role("link", name="Delete master key…").click()
    assert_accessible(page)
    page.get_by_role("button", name="Delete").click()
    told(page, "Master key browser generated deleted.")
    assert sorted(MasterKey.objects.values_list("name", flat=True)) == [
        "browser imported",
        "browser kms",
        "browser locked",
    ]


# RAM policy helper


def test_the_ram_policy_helper_names_the_chosen_bucket_and_key(admin_page, console_server, cloud_connection):
    page = admin_page
    new_bucket(cloud_connection, "policy-bucket")
    key_id = named_key(cloud_connection, "alias/policy-app")
    arn = KmsClient(cloud_connection).describe_key(key_id).arn
    page.goto(f"{console_server}/keys/")
    page.get_by_role("link", name="RAM policy helper").click()

    page.get_by_label("Bucket", exact=True).select_option("policy-bucket")
    page.get_by_label("KMS", exact=True).check()
    page.get_by_label("SM4", exact=True).check()
    page.get_by_label("CMK").select_option(label=f"alias/policy-app({key_id})")
    for purpose in ("Set bucket encryption", "Upload objects", "Download objects"):
        page.get_by_label(purpose).uncheck()
    page.get_by_role("button", name="Show policy").click()
    expect_error_summary(page, "Purposes: Choose at least one purpose")
    expect(page.get_by_label("Policy JSON")).to_have_count(0)
    assert_accessible(page)

    page.get_by_label("Upload objects").check()
    page.get_by_label("Download objects").check()
    page.get_by_role("button", name="Show policy").click()
    document = json.loads(page.get_by_label("Policy JSON").input_value())
    assert_accessible(page)
    resources = [resource for statement in document["Statement"] for resource in statement["Resource"]]
    actions = [action for statement in document["Statement"] for action in statement["Action"]]
    assert "acs:oss:*:*:policy-bucket/*" in resources and arn in resources
    assert {"oss:PutObject", "oss:GetObject", "kms:GenerateDataKey", "kms:Decrypt"} <= set(actions)
    assert "oss:PutBucketEncryption" not in actions
    reasons = page.get_by_role("list").filter(has_text="oss:PutObject")
    expect(reasons).to_contain_text("OSS asks KMS for a data key under the CMK on the caller's behalf")
