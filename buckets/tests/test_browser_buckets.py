"""The bucket pages in a real browser: every form, every default-encryption transition, with and without JavaScript,
by keyboard alone; each change is read back where it lands, in localcloud, through the console's OSS client.

The five default-encryption states of a bucket are None, OSS-managed AES256, OSS-managed SM4, KMS with the default
key alias/acs/oss, and KMS with a named CMK. One walk (an Eulerian circuit of the complete directed graph on the five
states) takes each of the 20 transitions once, so a single login covers them all.
"""

from dataclasses import dataclass
from itertools import pairwise, product

import pytest
from playwright.sync_api import expect

from accounts.services import create_user
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule, OssClient
from console.testing.browser import (
    assert_accessible,
    assert_no_sideways_scroll,
    log_in,
)

PASSWORD = "Browser-Passw0rd-7"
KEY_ALIAS = "alias/ledger-key"


@dataclass(frozen=True)
class Setting:
    """A default encryption as the form chooses it (the labels of its radios) and as OSS states it."""

    method: str  # "None", "OSS-managed" or "KMS"
    algorithm: str = ""  # AES256 or SM4; for KMS the data encryption
    named_key: bool = False  # KMS only: the CMK alias/ledger-key instead of alias/acs/oss

    @property
    def state(self) -> str:
        if self.method == "OSS-managed":
            return f"OSS-managed {self.algorithm}"
        if self.method == "KMS":
            return "KMS named key" if self.named_key else "KMS default key"
        return "None"

    def label(self, key_id: str) -> str:
        """What the console calls it: `None`, `OSS-managed SM4`, `KMS SM4 alias/ledger-key(<CMK ID>)`..."""
        if self.method == "KMS":
            return f"KMS {self.algorithm} {key_label(key_id) if self.named_key else 'alias/acs/oss'}"
        return self.state

    def rule(self, key_id: str) -> EncryptionRule | None:
        """What GetBucketEncryption answers for it."""
        if self.method == "None":
            return None
        if self.method == "OSS-managed":
            return EncryptionRule(self.algorithm)
        return EncryptionRule("KMS", key_id if self.named_key else "", "SM4" if self.algorithm == "SM4" else "")


NONE = Setting("None")
OSS_AES256 = Setting("OSS-managed", "AES256")
OSS_SM4 = Setting("OSS-managed", "SM4")
KMS_DEFAULT = Setting("KMS", "AES256")
KMS_DEFAULT_SM4 = Setting("KMS", "SM4")
KMS_NAMED = Setting("KMS", "AES256", named_key=True)
KMS_NAMED_SM4 = Setting("KMS", "SM4", named_key=True)
STATES = {setting.state for setting in (NONE, OSS_AES256, OSS_SM4, KMS_DEFAULT, KMS_NAMED)}

# From a new bucket (None) through every transition between the five states and back. The KMS states are visited
# with AES256 and with SM4 data encryption in turn. Second step: KMS named key -> OSS-managed AES256, the change that
# failed silently while the hidden key chooser was still posted and refused.
WALK = [
    NONE,
    KMS_NAMED_SM4,
    OSS_AES256,
    OSS_SM4,
    KMS_NAMED,
    KMS_DEFAULT,
    OSS_AES256,
    KMS_DEFAULT_SM4,
    OSS_SM4,
    KMS_DEFAULT,
    KMS_NAMED_SM4,
    OSS_SM4,
    OSS_AES256,
    NONE,
    OSS_AES256,
    KMS_NAMED,
    NONE,
    OSS_SM4,
    NONE,
    KMS_DEFAULT_SM4,
    NONE,
]


def key_label(key_id: str) -> str:
    """How the key chooser and the labels name the CMK."""
    return f"{KEY_ALIAS}({key_id})"


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """Each test signs in once through the login form; a cheap hasher keeps that from dominating the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def oss(cloud_connection):
    return OssClient(cloud_connection)


@pytest.fixture
def kms(cloud_connection):
    return KmsClient(cloud_connection)


@pytest.fixture
def key_id(kms):
    """An Enabled CMK of the connection's region with the alias alias/ledger-key."""
    key, _ = kms.create_key(description="browser tests of the bucket pages")
    kms.create_alias(key.key_id, KEY_ALIAS)
    return key.key_id


def sign_in(page, console_server: str, role: str) -> None:
    create_user(actor=None, username=f"{role}-in-browser", role=role, password=PASSWORD)
    log_in(page, console_server, f"{role}-in-browser", PASSWORD)


def open_bucket(page, name: str) -> None:
    """Buckets in the main navigation, then the bucket's name in the list."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Buckets").click()
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=f"Bucket {name}")).to_be_visible()


def checks_the_accessibility_of_this_page(page) -> None:
    assert_accessible(page)
    assert_no_sideways_scroll(page)


def choose(page, setting: Setting, key_id: str) -> None:
    """Fill the encryption fields like a person with a mouse; what the chosen method does not use is hidden."""
    algorithm = page.get_by_role("group", name="Encryption algorithm")
    key_chooser = page.get_by_label("CMK")
    page.get_by_label(setting.method, exact=True).check()
    if setting.method == "None":
        expect(algorithm).to_be_hidden()
        expect(key_chooser).to_be_hidden()
        return
    expect(algorithm).to_be_visible()
    page.get_by_label(setting.algorithm, exact=True).check()
    if setting.method == "OSS-managed":
        expect(key_chooser).to_be_hidden()
        return
    expect(key_chooser).to_be_visible()
    if setting.named_key:
        key_chooser.select_option(label=key_label(key_id))
    else:
        key_chooser.select_option(value="")


def assert_chosen_key_shown_whole(page) -> None:
    """The key chooser is wide enough for the chosen key's full name, alias/<name>(<CMK ID>), beside its arrow."""
    room, needed = page.get_by_label("CMK").evaluate(
        """select => {
            const style = getComputedStyle(select);
            const context = document.createElement("canvas").getContext("2d");
            context.font = style.font;
            const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
            const arrow = 24;
            return [select.clientWidth - padding - arrow, context.measureText(select.selectedOptions[0].text).width];
        }"""
    )
    assert needed <= room, f"the chosen key's name needs {needed:.0f} px, the chooser shows {room:.0f} px"


def expect_form_shows(page, setting: Setting, key_id: str) -> None:
    """The form starts from the setting OSS holds now."""
    expect(page.get_by_label(setting.method, exact=True)).to_be_checked()
    if setting.method != "None":
        expect(page.get_by_label(setting.algorithm, exact=True)).to_be_checked()
    if setting.method == "KMS":
        expect(page.get_by_label("CMK")).to_have_value(key_id if setting.named_key else "")


def expect_saved(page, bucket: str, before: str, after: str) -> None:
    expect(page.get_by_role("heading", name="Server-side encryption saved")).to_be_visible()
    expect(page.locator("[data-change]")).to_have_text(f"Default encryption of {bucket}: {before} → {after}")


def head(oss: OssClient, bucket: str, key: str) -> dict[str, str]:
    """The object's server-side-encryption response headers, as HeadObject gives them."""
    headers = oss.head_object(bucket, key).headers
    return {name: value for name, value in headers.items() if name.startswith("x-oss-server-side-")}


def content(oss: OssClient, bucket: str, key: str) -> bytes:
    return b"".join(oss.open_object(bucket, key))


# -- The server-side-encryption form of a bucket ----------------------------------------------------------


def test_the_walk_takes_each_of_the_twenty_transitions_between_the_five_states_once():
    transitions = [(before.state, after.state) for before, after in pairwise(WALK)]

    assert sorted(transitions) == sorted((a, b) for a, b in product(STATES, STATES) if a != b)
    assert ("KMS named key", "OSS-managed AES256") in transitions
    assert KMS_NAMED_SM4 in WALK and KMS_DEFAULT_SM4 in WALK


def test_the_encryption_form_takes_a_bucket_through_every_transition_and_oss_holds_each_result(
    page, console_server, oss, key_id
):
    oss.create_bucket("ledger")
    sign_in(page, console_server, "operator")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Buckets").click()
    checks_the_accessibility_of_this_page(page)
    open_bucket(page, "ledger")
    checks_the_accessibility_of_this_page(page)
    page.get_by_role("link", name="Server-side encryption").click()

    for step, (before, after) in enumerate(pairwise(WALK)):
        if step:
            page.get_by_role("link", name="Change it again").click()
        expect_form_shows(page, before, key_id)
        choose(page, after, key_id)
        if step == 0:
            checks_the_accessibility_of_this_page(page)  # with every field shown
            assert_chosen_key_shown_whole(page)
        page.get_by_role("button", name="Save").click()

        expect_saved(page, "ledger", before.label(key_id), after.label(key_id))
        assert oss.get_encryption("ledger") == after.rule(key_id), f"step {step}: {before.state} -> {after.state}"
        if step == 0:
            checks_the_accessibility_of_this_page(page)


def test_without_javascript_the_form_drops_the_fields_the_chosen_method_does_not_use(
    page_without_javascript, console_server, oss, key_id
):
    page = page_without_javascript
    oss.create_bucket("ledger")
    oss.put_encryption("ledger", KMS_NAMED_SM4.rule(key_id))
    sign_in(page, console_server, "operator")
    open_bucket(page, "ledger")
    page.get_by_role("link", name="Server-side encryption").click()

    # Every field is shown and posted: the CMK chosen before goes along with OSS-managed, and is dropped.
    key_chooser = page.get_by_label("CMK")
    expect(key_chooser).to_be_visible()
    expect(key_chooser).to_have_value(key_id)
    page.get_by_label("OSS-managed", exact=True).check()
    page.get_by_label("AES256", exact=True).check()
    with page.expect_request(lambda request: request.method == "POST") as posted:
        page.get_by_role("button", name="Save").click()
    assert f"key_id={key_id}" in posted.value.post_data
    expect_saved(page, "ledger", KMS_NAMED_SM4.label(key_id), "OSS-managed AES256")
    assert oss.get_encryption("ledger") == EncryptionRule("AES256")

    page.get_by_role("link", name="Change it again").click()
    page.get_by_label("KMS", exact=True).check()
    page.get_by_label("SM4", exact=True).check()
    page.get_by_label("CMK").select_option(label=key_label(key_id))
    page.get_by_role("button", name="Save").click()
    expect_saved(page, "ledger", "OSS-managed AES256", KMS_NAMED_SM4.label(key_id))
    assert oss.get_encryption("ledger") == EncryptionRule("KMS", key_id, "SM4")

    # KMS -> None: the algorithm and the key still posted are dropped too.
    page.get_by_role("link", name="Change it again").click()
    page.get_by_label("None", exact=True).check()
    with page.expect_request(lambda request: request.method == "POST") as posted:
        page.get_by_role("button", name="Save").click()
    assert "algorithm=SM4" in posted.value.post_data and f"key_id={key_id}" in posted.value.post_data
    expect_saved(page, "ledger", KMS_NAMED_SM4.label(key_id), "None")
    assert oss.get_encryption("ledger") is None

    page.get_by_role("link", name="Change it again").click()
    page.get_by_label("KMS", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect_saved(page, "ledger", "None", "KMS AES256 alias/acs/oss")
    assert oss.get_encryption("ledger") == EncryptionRule("KMS")


def expect_focus_visible(page) -> None:
    """The focused element draws a focus ring (an outline or the console's box-shadow)."""
    style = page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            return {outline: style.outlineStyle, width: parseFloat(style.outlineWidth), shadow: style.boxShadow};
        }"""
    )
    assert (style["outline"] != "none" and style["width"] > 0) or style["shadow"] != "none", style


def test_the_encryption_form_can_be_filled_and_saved_with_the_keyboard_alone(page, console_server, oss, key_id):
    oss.create_bucket("ledger")
    sign_in(page, console_server, "operator")
    open_bucket(page, "ledger")
    page.goto(console_server + page.get_by_role("link", name="Server-side encryption").get_attribute("href"))
    keyboard = page.keyboard

    def press(key: str, then_focused) -> None:
        keyboard.press(key)
        expect(then_focused).to_be_focused()
        expect_focus_visible(page)

    press("Tab", page.get_by_role("link", name="Skip to content"))
    keyboard.press("Enter")
    press("Tab", page.get_by_role("main").get_by_role("link", name="ledger"))
    press("Tab", page.get_by_label("None", exact=True))
    press("ArrowDown", page.get_by_label("OSS-managed", exact=True))
    press("ArrowDown", page.get_by_label("KMS", exact=True))
    expect(page.get_by_label("KMS", exact=True)).to_be_checked()
    press("Tab", page.get_by_label("AES256", exact=True))
    press("ArrowRight", page.get_by_label("SM4", exact=True))
    expect(page.get_by_label("SM4", exact=True)).to_be_checked()
    press("Tab", page.get_by_label("CMK"))
    keyboard.press("ArrowDown")
    expect(page.get_by_label("CMK")).to_have_value(key_id)
    press("Tab", page.get_by_role("button", name="Save"))
    keyboard.press("Enter")

    expect_saved(page, "ledger", "None", KMS_NAMED_SM4.label(key_id))
    assert oss.get_encryption("ledger") == EncryptionRule("KMS", key_id, "SM4")


def test_a_refused_save_leads_with_a_focused_error_summary_and_changes_nothing_in_oss(
    page, console_server, oss, kms, key_id
):
    oss.create_bucket("ledger")
    oss.put_encryption("ledger", EncryptionRule("SM4"))
    sign_in(page, console_server, "operator")
    open_bucket(page, "ledger")
    page.get_by_role("link", name="Server-side encryption").click()
    summary = page.locator("[data-error-summary]")

    # The key is disabled after the form was shown.
    choose(page, KMS_NAMED_SM4, key_id)
    kms.disable_key(key_id)
    page.get_by_role("button", name="Save").click()

    expect(summary).to_be_focused()
    assert page.evaluate("document.activeElement.matches('.error-summary[role=alert]')")
    expect(summary).to_contain_text(f"CMK: The key {key_id} is not one of the keys offered now")
    expect(summary).to_contain_text("it may have been disabled or deleted since the page was shown")
    expect(summary.get_by_role("link", name="CMK")).to_have_attribute("href", "#id_key_id")
    assert oss.get_encryption("ledger") == EncryptionRule("SM4")
    checks_the_accessibility_of_this_page(page)

    # A value no chooser offers, forged into the page.
    choose(page, OSS_SM4, key_id)
    page.get_by_label("OSS-managed", exact=True).evaluate("radio => { radio.value = 'rot13' }")
    page.get_by_role("button", name="Save").click()

    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Encryption method: Select a valid choice. rot13 is not one of the available")
    assert oss.get_encryption("ledger") == EncryptionRule("SM4")


# -- Creating a bucket ------------------------------------------------------------------------------------


def create_bucket(page, name: str, setting: Setting, key_id: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Buckets").click()
    page.get_by_role("link", name="Create bucket").click()
    page.get_by_label("Bucket name").fill(name)
    choose(page, setting, key_id)
    page.get_by_role("button", name="Create").click()


def test_an_admin_creates_buckets_with_encryption_and_a_refused_name_changes_nothing(page, console_server, oss, key_id):
    sign_in(page, console_server, "admin")

    create_bucket(page, "payroll-sm4", OSS_SM4, key_id)
    expect(page.get_by_role("heading", name="Bucket payroll-sm4")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(
        "Bucket payroll-sm4 created on local. Default encryption of payroll-sm4: None → OSS-managed SM4."
    )
    checks_the_accessibility_of_this_page(page)
    assert oss.bucket_details("payroll-sm4").summary.name == "payroll-sm4"
    assert oss.get_encryption("payroll-sm4") == EncryptionRule("SM4")

    create_bucket(page, "payroll-kms", KMS_NAMED_SM4, key_id)
    expect(page.get_by_role("status")).to_have_text(
        f"Bucket payroll-kms created on local. Default encryption of payroll-kms: None → {KMS_NAMED_SM4.label(key_id)}."
    )
    assert oss.get_encryption("payroll-kms") == EncryptionRule("KMS", key_id, "SM4")

    create_bucket(page, "Payroll_2026", OSS_AES256, key_id)
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Bucket name: 'Payroll_2026' is not a valid bucket name")
    expect(summary.get_by_role("link", name="Bucket name")).to_have_attribute("href", "#id_name")
    expect(page.get_by_label("OSS-managed", exact=True)).to_be_checked()
    checks_the_accessibility_of_this_page(page)
    assert sorted(bucket.name for bucket in oss.list_buckets()) == ["payroll-kms", "payroll-sm4"]


def test_the_bucket_is_created_on_the_connection_the_form_shows_with_or_without_javascript(
    page, page_without_javascript, console_server, cloud_connection, oss
):
    """The connection select is part of the form: choosing another one and pressing Create never creates the
    bucket on the first connection (it once did, when the select sat in a separate form of its own)."""
    from buckets.models import Connection

    unreachable = Connection(name="unreachable", oss_endpoint="http://127.0.0.1:9", region="cn-hangzhou")
    unreachable.set_credentials("LTAIunreachable", "unreachable-secret-value")
    unreachable.save()
    create_user(actor=None, username="admin-in-browser", role="admin", password=PASSWORD)

    for tab, name in ((page, "scripted-choice"), (page_without_javascript, "plain-choice")):
        log_in(tab, console_server, "admin-in-browser", PASSWORD)
        tab.goto(f"{console_server}/buckets/new/")
        tab.get_by_label("Bucket name").fill(name)
        tab.get_by_label("Connection", exact=True).select_option(label="unreachable (cn-hangzhou)")
        expect(tab.get_by_label("Bucket name")).to_have_value(name)  # kept when the script reloads the form
        tab.get_by_role("button", name="Create").click()

        summary = tab.locator("[data-error-summary]")
        expect(summary).to_contain_text(f"Bucket {name} was not created on unreachable: OSS RequestError")
        expect(tab.get_by_label("Connection", exact=True)).to_have_value(str(unreachable.pk))
        assert name not in [bucket.name for bucket in oss.list_buckets()]

    page.get_by_label("Connection", exact=True).select_option(label=f"{cloud_connection.name} (cn-hangzhou)")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Bucket scripted-choice")).to_be_visible()
    assert "scripted-choice" in [bucket.name for bucket in oss.list_buckets()]


# -- Objects: upload, and one object's encryption ---------------------------------------------------------


def upload(page, name: str, data: bytes, method: str, algorithm: str = "", key_id: str | None = None) -> None:
    """On the upload page: the file, then the encryption (`method`: the radio's label; `key_id` "": alias/acs/oss)."""
    page.get_by_label("File").set_input_files({"name": name, "mimeType": "text/plain", "buffer": data})
    page.get_by_label(method, exact=True).check()
    if algorithm:
        page.get_by_label(algorithm, exact=True).check()
    if key_id is not None:
        page.get_by_label("CMK").select_option(value=key_id)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Uploaded")).to_be_visible()


def test_uploads_with_each_encryption_choice_are_stored_as_chosen(page, console_server, oss, kms, key_id):
    oss.create_bucket("inbox")
    oss.put_encryption("inbox", EncryptionRule("KMS", key_id))
    named = KMS_NAMED.label(key_id)
    sign_in(page, console_server, "operator")
    open_bucket(page, "inbox")
    page.get_by_role("link", name="Objects", exact=True).click()
    page.get_by_role("link", name="Upload").click()
    expect(page.get_by_label(f"Bucket default ({named})")).to_be_checked()
    checks_the_accessibility_of_this_page(page)

    uploads = [
        ("default.txt", f"Bucket default ({named})", "", None, named),
        ("aes.txt", "OSS-managed", "AES256", None, "OSS-managed AES256"),
        ("sm4.txt", "OSS-managed", "SM4", None, "OSS-managed SM4"),
        ("kms.txt", "KMS", "AES256", "", None),  # named after the CMK behind alias/acs/oss, made on first use
        ("kms-sm4.txt", "KMS", "SM4", key_id, KMS_NAMED_SM4.label(key_id)),
    ]
    for number, (name, method, algorithm, key, label) in enumerate(uploads):
        if number:
            page.get_by_role("link", name="Upload another").click()
        upload(page, name, f"content of {name}".encode(), method, algorithm, key)
        label = label or f"KMS AES256 alias/acs/oss({kms.default_oss_key().key_id})"
        expect(page.locator("[data-change]")).to_have_text(f"Uploaded {name}: no object → {label}.")
        if number == 0:
            checks_the_accessibility_of_this_page(page)

    assert head(oss, "inbox", "default.txt") == {
        "x-oss-server-side-encryption": "KMS",
        "x-oss-server-side-encryption-key-id": key_id,
    }
    assert head(oss, "inbox", "aes.txt") == {"x-oss-server-side-encryption": "AES256"}
    assert head(oss, "inbox", "sm4.txt") == {"x-oss-server-side-encryption": "SM4"}
    default_key = kms.default_oss_key().key_id
    assert head(oss, "inbox", "kms.txt") == {
        "x-oss-server-side-encryption": "KMS",
        "x-oss-server-side-encryption-key-id": default_key,
    }
    assert head(oss, "inbox", "kms-sm4.txt") == {
        "x-oss-server-side-encryption": "KMS",
        "x-oss-server-side-data-encryption": "SM4",
        "x-oss-server-side-encryption-key-id": key_id,
    }
    for name, *_ in uploads:
        assert content(oss, "inbox", name) == f"content of {name}".encode()

    page.get_by_role("link", name="Back to the folder").click()
    expect(page.get_by_role("link", name="kms-sm4.txt")).to_be_visible()


def test_one_objects_encryption_changes_in_place_keeping_its_content_and_metadata(page, console_server, oss, key_id):
    oss.create_bucket("archive")
    kept = {"Content-Type": "text/csv", "x-oss-meta-owner": "finance"}
    oss.put_object("archive", "reports/q1.csv", b"quarter,total\nq1,42\n", kept)
    sign_in(page, console_server, "operator")
    open_bucket(page, "archive")
    page.get_by_role("link", name="Objects", exact=True).click()
    checks_the_accessibility_of_this_page(page)
    page.get_by_role("link", name="reports/").click()
    page.get_by_role("link", name="q1.csv").click()
    checks_the_accessibility_of_this_page(page)

    page.get_by_role("link", name="Change encryption").click()
    checks_the_accessibility_of_this_page(page)
    choose(page, KMS_NAMED, key_id)
    page.get_by_role("button", name="Change encryption").click()

    expect(page.get_by_role("status")).to_contain_text(
        f"Encryption of reports/q1.csv: None → {KMS_NAMED.label(key_id)}."
    )
    assert head(oss, "archive", "reports/q1.csv") == {
        "x-oss-server-side-encryption": "KMS",
        "x-oss-server-side-encryption-key-id": key_id,
    }

    page.get_by_role("link", name="Change encryption").click()
    expect_form_shows(page, KMS_NAMED, key_id)
    choose(page, OSS_SM4, key_id)
    page.get_by_role("button", name="Change encryption").click()

    expect(page.get_by_role("status")).to_contain_text(
        f"Encryption of reports/q1.csv: {KMS_NAMED.label(key_id)} → OSS-managed SM4."
    )
    assert head(oss, "archive", "reports/q1.csv") == {"x-oss-server-side-encryption": "SM4"}
    stored = oss.head_object("archive", "reports/q1.csv")
    assert (stored.header("content-type"), stored.user_metadata) == ("text/csv", {"owner": "finance"})
    assert content(oss, "archive", "reports/q1.csv") == b"quarter,total\nq1,42\n"
