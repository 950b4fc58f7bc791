"""The console's daily paths in a real browser: a bucket default to KMS with a named key, an SM4 upload, a BYOK key."""

import re

import pytest
from playwright.sync_api import expect

from accounts.services import create_user
from cloud.kms import KmsClient
from cloud.oss import OssClient
from console.testing.browser import log_in

PASSWORD = "Browser-Passw0rd-7"


@pytest.fixture
def named_key(cloud_connection):
    key, _ = KmsClient(cloud_connection).create_key(description="browser test")
    KmsClient(cloud_connection).create_alias(key.key_id, "alias/browser-app")
    return key


def test_an_operator_sets_kms_with_a_named_key_and_uploads_an_sm4_object(
    page, console_server, cloud_connection, named_key
):
    oss = OssClient(cloud_connection)
    oss.create_bucket("browser-bucket")
    create_user(actor=None, username="bea", role="operator", password=PASSWORD)
    log_in(page, console_server, "bea", PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Buckets").click()
    page.get_by_role("link", name="browser-bucket").click()
    page.get_by_role("link", name="Server-side encryption").click()

    key_chooser = page.get_by_label("CMK")
    expect(key_chooser).to_be_hidden()
    page.get_by_label("KMS", exact=True).check()
    expect(key_chooser).to_be_visible()
    key_chooser.select_option(label=f"alias/browser-app({named_key.key_id})")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text(f"KMS AES256 alias/browser-app({named_key.key_id})").first).to_be_visible()
    expect(page.get_by_text("Existing objects keep their encryption").first).to_be_visible()
    rule = oss.get_encryption("browser-bucket")
    assert (rule.algorithm, rule.kms_key_id) == ("KMS", named_key.key_id)

    page.goto(f"{console_server}/buckets/")
    page.get_by_role("link", name="browser-bucket").click()
    page.get_by_role("link", name="Objects", exact=True).click()
    page.get_by_role("link", name="Upload").click()
    page.get_by_label("File").set_input_files({"name": "note.txt", "mimeType": "text/plain", "buffer": b"sealed"})
    page.get_by_label("OSS-managed", exact=True).check()
    page.get_by_label("SM4", exact=True).check()
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_text("SM4").first).to_be_visible()
    head = oss.head_object("browser-bucket", "note.txt")
    assert head.header("x-oss-server-side-encryption") == "SM4"
    assert b"".join(oss.open_object("browser-bucket", "note.txt")) == b"sealed"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="Bucket default encryption set")).to_be_visible()
    expect(page.get_by_role("cell", name="Object uploaded", exact=True)).to_be_visible()


def test_an_admin_brings_their_own_key_and_finds_it_in_the_audit_log(page, console_server, cloud_connection):
    create_user(actor=None, username="abe", role="admin", password=PASSWORD)
    log_in(page, console_server, "abe", PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Keys").click()
    page.get_by_role("link", name="Bring your own key").click()
    page.get_by_label("Alias").fill("alias/browser-byok")
    page.get_by_role("button", name="Create EXTERNAL key").click()
    page.get_by_role("button", name="Get wrapping key and token").click()
    expect(page.get_by_text("BEGIN PUBLIC KEY")).to_be_visible()
    page.get_by_role("link", name="Next: import material").click()
    page.get_by_label(re.compile("For testing only")).check()
    page.get_by_role("button", name="Generate, wrap and import").click()

    expect(page.get_by_role("heading", name="Key material imported")).to_be_visible()
    expect(page.get_by_text("Enabled", exact=True)).to_be_visible()
    key = KmsClient(cloud_connection).describe_key("alias/browser-byok")
    assert (key.origin, key.state) == ("EXTERNAL", "Enabled")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="CMK created")).to_be_visible()
    expect(page.get_by_role("cell", name="CMK material imported")).to_be_visible()
