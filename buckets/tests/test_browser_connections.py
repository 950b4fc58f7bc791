"""Connections in a real browser (console.testing.browser) against a real localcloud: add, edit, test, delete, each
checked where it lands (the Connection row, its sealed secret, a real call with it), refusals in a focused summary,
and never a secret, typed or stored, in a page."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.services import create_user
from buckets.forms.connections import KEPT_HELP
from buckets.models import Connection
from buckets.services import connection_advice as advice
from cloud.oss import OssClient
from console.testing.browser import assert_accessible, expect_error_summary, log_in
from localcloud.accesskeys import create_access_key

PASSWORD = "Browser-Connections-Passw0rd"
WRONG_SECRET = "Wrong-Secret-That-Must-Never-Show-31337"


@pytest.fixture
def admin_page(page, console_server, localcloud):
    create_user(actor=None, username="ada", role="admin", password=PASSWORD)
    log_in(page, console_server, "ada", PASSWORD)
    return page


def field(page, label: str):
    """The input labelled `label`, required or "(optional)"."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \(optional\))?$"))


def fill_connection_form(page, **values: str) -> None:
    labels = {
        "name": "Name",
        "oss_endpoint": "OSS endpoint",
        "region": "Region",
        "access_key_id": "AccessKey ID",
        "access_key_secret": "AccessKey secret",
    }
    for name, value in values.items():
        field(page, labels[name]).fill(value)


def check_row(page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))


def assert_no_secret_in(page, *secrets: str) -> None:
    html = page.content()
    for secret in secrets:
        assert secret not in html, f"a secret is in {page.url}"
    assert "string to sign" not in html.lower() and "stringtosign" not in html.lower()


def test_an_admin_adds_a_localcloud_connection_that_tests_green_and_really_works(
    admin_page, console_server, localcloud
):
    page = admin_page
    access_key_id, secret = create_access_key("browser connections")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
    page.get_by_role("link", name="Add connection").click()
    assert_accessible(page)
    fill_connection_form(
        page,
        name="prod",
        oss_endpoint=localcloud,
        region=settings.LOCALCLOUD_REGION,
        access_key_id=access_key_id,
        access_key_secret=secret,
    )
    page.get_by_role("button", name="Add", exact=True).click()

    expect(page.get_by_role("heading", name="Connection prod", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        f"Connection prod added: {localcloud}, region {settings.LOCALCLOUD_REGION}, AccessKey ID {access_key_id}."
    )
    assert_accessible(page)
    assert_no_secret_in(page, secret)
    connection = Connection.objects.get(name="prod")
    assert (connection.oss_endpoint, connection.region, connection.access_key_id, connection.kms_endpoint) == (
        localcloud,
        settings.LOCALCLOUD_REGION,
        access_key_id,
        "",
    )
    assert connection.access_key_secret == secret and secret not in connection.sealed_secret

    OssClient(connection).create_bucket("seen-by-prod")
    page.get_by_role("button", name="Test connection").click()

    expect(page.get_by_role("heading", name="Test result: all checks passed")).to_be_visible()
    expect(check_row(page, "OSS ListBuckets")).to_contain_text(f"1 bucket(s) visible at {localcloud}")
    expect(check_row(page, "KMS ListKeys")).to_contain_text("KMS answered at")
    assert_accessible(page)
    assert_no_secret_in(page, secret)
    assert [bucket.name for bucket in OssClient(Connection.objects.get(pk=connection.pk)).list_buckets()] == [
        "seen-by-prod"
    ]


def list_row(page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def test_a_wrong_secret_is_refused_saved_anyway_shown_failed_in_the_list_and_a_fixed_one_shows_ok(
    admin_page, console_server, localcloud
):
    page = admin_page
    access_key_id, right_secret = create_access_key("browser connections")
    page.goto(f"{console_server}/connections/new/")
    fill_connection_form(
        page,
        name="prod",
        oss_endpoint=localcloud,
        region=settings.LOCALCLOUD_REGION,
        access_key_id=access_key_id,
        access_key_secret=WRONG_SECRET,
    )
    page.get_by_role("button", name="Add", exact=True).click()

    expect_error_summary(
        page, "The connection was not saved: its test failed (SignatureDoesNotMatch, SignatureDoesNotMatch)."
    )
    for check in ("OSS ListBuckets", "KMS ListKeys"):
        checks = page.get_by_role("region", name="Test result: failed")
        expect(checks.get_by_role("listitem").filter(has_text=check)).to_contain_text(
            f"failed SignatureDoesNotMatch: {advice.WRONG_SECRET}"
        )
    expect(field(page, "AccessKey secret")).to_have_value("")
    expect(page.get_by_text(KEPT_HELP)).to_have_count(1)
    assert_accessible(page)
    assert_no_secret_in(page, WRONG_SECRET, right_secret)
    assert not Connection.objects.filter(name="prod").exists()

    page.get_by_role("button", name="Save anyway").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Saved although its test failed (OSS ListBuckets: SignatureDoesNotMatch)."
    )
    stored = Connection.objects.get(name="prod")
    assert stored.access_key_secret == WRONG_SECRET and stored.last_test_ok is False
    assert [check["code"] for check in stored.last_test_checks] == ["SignatureDoesNotMatch", "SignatureDoesNotMatch"]
    assert_no_secret_in(page, WRONG_SECRET, right_secret)
    page.reload()  # Post/Redirect/Get: a reload shows the page again and saves nothing twice
    assert Connection.objects.filter(name="prod").count() == 1
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
    row = list_row(page, "prod")
    expect(row.get_by_text("failed", exact=True)).to_be_visible()
    expect(row).to_contain_text(f"SignatureDoesNotMatch: {advice.WRONG_SECRET}")
    assert_accessible(page)

    row.get_by_role("link", name="Edit").click()
    field(page, "AccessKey secret").fill(right_secret)
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text("AccessKey secret replaced. Its test passed.")
    expect(page.get_by_role("heading", name="Test result: all checks passed")).to_be_visible()
    stored = Connection.objects.get(pk=stored.pk)
    assert stored.access_key_secret == right_secret and stored.last_test_ok is True
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
    expect(list_row(page, "prod").get_by_text("OK", exact=True)).to_be_visible()
    assert_no_secret_in(page, WRONG_SECRET, right_secret)


def test_a_failing_stored_connection_tests_red_with_advice_after_a_redirect(
    admin_page, console_server, cloud_connection
):
    page = admin_page
    cloud_connection.set_credentials(cloud_connection.access_key_id, WRONG_SECRET)
    cloud_connection.save()
    page.goto(f"{console_server}/connections/{cloud_connection.pk}/")
    page.get_by_role("button", name="Test connection").click()

    expect(page.get_by_role("heading", name="Test result: failed")).to_be_visible()
    expect(page).to_have_url(f"{console_server}/connections/{cloud_connection.pk}/")
    for check in ("OSS ListBuckets", "KMS ListKeys"):
        row = check_row(page, check)
        expect(row.get_by_text("failed", exact=True)).to_be_visible()
        expect(row).to_contain_text(f"SignatureDoesNotMatch: {advice.WRONG_SECRET}")
        expect(row.locator("td").last.locator("code")).not_to_be_empty()  # the cloud's request id
    assert_accessible(page)
    assert_no_secret_in(page, WRONG_SECRET)


def test_an_edit_says_before_and_after_keeps_the_unshown_secret_and_the_connection_works(
    admin_page, console_server, cloud_connection, localcloud
):
    page = admin_page
    secret = cloud_connection.access_key_secret
    page.goto(f"{console_server}/connections/")
    check_row(page, "local").get_by_role("link", name="Edit").click()
    expect(field(page, "Name")).to_have_value("local")
    expect(field(page, "AccessKey secret")).to_have_value("")
    assert_accessible(page)
    assert_no_secret_in(page, secret)
    field(page, "Name").fill("prod")
    field(page, "KMS endpoint").fill(localcloud)
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text(
        f"Connection prod saved: name local → prod; KMS endpoint none → {localcloud}."
    )
    expect(page.get_by_role("row", name=f"KMS endpoint {localcloud}")).to_be_visible()
    stored = Connection.objects.get(pk=cloud_connection.pk)
    assert (stored.name, stored.kms_endpoint, stored.access_key_secret) == ("prod", localcloud, secret)
    OssClient(stored).list_buckets()
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("heading", name="Test result: all checks passed")).to_be_visible()
    expect(check_row(page, "KMS ListKeys")).to_contain_text(f"KMS answered at {localcloud}")


def test_refused_adds_and_edits_show_a_focused_summary_keep_nothing_and_never_echo_the_secret(
    admin_page, console_server, cloud_connection, localcloud
):
    page = admin_page
    typed_secret = "Typed-Secret-Never-Echoed-2718"
    page.goto(f"{console_server}/connections/new/")
    fill_connection_form(
        page,
        name="shanghai",
        oss_endpoint="https://oss-cn-shanghai.aliyuncs.com",
        region="oss-cn-shanghai",
        access_key_id="LTAIshanghai",
        access_key_secret=typed_secret,
    )
    page.get_by_role("button", name="Add", exact=True).click()

    expect_error_summary(page, "Use the region id (cn-shanghai), not the OSS location (oss-cn-shanghai).")
    expect(page.get_by_role("link", name="Region")).to_have_attribute("href", "#id_region")
    expect(field(page, "AccessKey secret")).to_have_value("")
    expect(field(page, "Name")).to_have_value("shanghai")
    assert_accessible(page)
    assert_no_secret_in(page, typed_secret)
    assert not Connection.objects.filter(name="shanghai").exists()

    page.goto(f"{console_server}/connections/{cloud_connection.pk}/edit/")
    field(page, "Name").fill("")
    field(page, "Region").fill("")
    page.get_by_role("button", name="Save", exact=True).click()

    summary = page.locator("[data-error-summary]")
    expect_error_summary(page, "2 problems to fix")
    expect(summary).to_contain_text("Name: This field is required.")
    expect(summary).to_contain_text("Region: This field is required.")
    summary.get_by_role("link", name="Region").click()
    expect(field(page, "Region")).to_be_focused()
    assert_accessible(page)
    assert Connection.objects.get(pk=cloud_connection.pk).region == "cn-hangzhou"

    field(page, "Region").fill("cn-hangzhou")
    Connection.objects.create(name="taken", oss_endpoint=localcloud, region="cn-hangzhou")
    field(page, "Name").fill("taken")
    page.get_by_role("button", name="Save", exact=True).click()

    expect_error_summary(page, "A connection named 'taken' already exists.")
    assert Connection.objects.get(pk=cloud_connection.pk).name == "local"

    field(page, "Name").fill("local")
    field(page, "AccessKey ID").fill("LTAInewKey")
    page.get_by_role("button", name="Save", exact=True).click()

    expect_error_summary(page, "A new AccessKey ID needs its secret: enter it too.")
    stored = Connection.objects.get(pk=cloud_connection.pk)
    assert (stored.access_key_id, stored.access_key_secret) == (
        cloud_connection.access_key_id,
        cloud_connection.access_key_secret,
    )


def test_an_admin_deletes_a_connection_after_confirming(admin_page, console_server, cloud_connection):
    page = admin_page
    page.goto(f"{console_server}/connections/{cloud_connection.pk}/")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete connection local?")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Delete").click()

    expect(page.get_by_role("status")).to_contain_text("Connection local removed.")
    expect(page.get_by_role("heading", name="Connections", level=1)).to_be_visible()
    assert not Connection.objects.filter(pk=cloud_connection.pk).exists()
