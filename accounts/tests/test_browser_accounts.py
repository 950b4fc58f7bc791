"""Users, login and logout in a real browser (console.testing.browser): each form's every transition, checked where
it lands (the database, a login of the user concerned, the navigation they get), refusals in a focused summary."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from accounts.services import create_user, role_of
from console.testing.browser import ACTION_TIMEOUT_MS, VIEWPORT, assert_accessible, expect_error_summary, log_in

PASSWORD = "Browser-Accounts-Passw0rd"
CAROLS_OWN = "Carols-Own-Choice-2026"
# What each role finds in the main navigation, in its order (console/navigation.py): exactly these, no more.
VIEWER_NAVIGATION = ["Overview", "Buckets", "Keys", "Jobs", "Schedules", "Audit log", "Connections", "API"]
OPERATOR_NAVIGATION = VIEWER_NAVIGATION
ADMIN_NAVIGATION = [*VIEWER_NAVIGATION[:-1], "Users", "API"]


@pytest.fixture
def ada(transactional_db):
    return create_user(actor=None, username="ada", role="admin", password=PASSWORD).user


@pytest.fixture
def bob(transactional_db):
    return create_user(actor=None, username="bob", role="viewer", password=PASSWORD).user


@pytest.fixture
def other_tab(browser):
    """A second browser with its own cookies: the user an Admin changed logs in there while the Admin stays."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def navigation_links(page) -> list[str]:
    return page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()


def user_row(page, username: str):
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=username, exact=True))


def test_an_admin_creates_a_user_who_logs_in_with_the_shown_password_and_gets_the_viewer_navigation(
    page, console_server, ada, other_tab
):
    log_in(page, console_server, "ada", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Create user").click()
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Email").fill("carol@example.com")
    page.get_by_label("Viewer").check()
    page.get_by_role("button", name="Create").click()

    expect(page.get_by_role("heading", name="User carol created", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("User carol created with the role Viewer.")
    assert_accessible(page)
    password = page.locator("code.secret").inner_text().strip()
    carol = get_user_model().objects.get(username="carol")
    assert (role_of(carol), carol.email, carol.is_active) == ("Viewer", "carol@example.com", True)
    assert [group.name for group in carol.groups.all()] == ["Viewer"]

    other_tab.goto(f"{console_server}/accounts/login/")
    other_tab.get_by_label("Username").fill("carol")
    other_tab.get_by_label("Password").fill(password)
    other_tab.get_by_role("button", name="Log in").click()
    # A generated password leads to the password change first (accounts/tests/test_browser_passwords.py).
    other_tab.get_by_label("Current password").fill(password)
    other_tab.get_by_label("New password", exact=True).fill(CAROLS_OWN)
    other_tab.get_by_label("New password again").fill(CAROLS_OWN)
    other_tab.get_by_role("button", name="Change password").click()
    other_tab.wait_for_url(f"{console_server}/")
    assert navigation_links(other_tab) == VIEWER_NAVIGATION
    refused = other_tab.goto(f"{console_server}/users/")
    assert refused.status == 403
    expect(other_tab.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(other_tab.get_by_text("This page needs the Admin role; you are a Viewer.")).to_be_visible()
    assert navigation_links(other_tab) == VIEWER_NAVIGATION


def test_a_refused_user_creation_shows_the_focused_summary_and_creates_nobody(page, console_server, ada, bob):
    log_in(page, console_server, "ada", PASSWORD)
    page.goto(f"{console_server}/users/new/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Operator").check()
    page.get_by_role("button", name="Create").click()

    expect_error_summary(page, "A user named 'bob' already exists.")
    assert_accessible(page)

    page.get_by_label("Username").fill("dave")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create").click()

    expect_error_summary(page, "This password is too short.")
    assert not get_user_model().objects.filter(username="dave").exists()
    assert role_of(get_user_model().objects.get(username="bob")) == "Viewer"


def test_an_admin_makes_a_viewer_operator_and_the_user_then_may_start_jobs(page, console_server, ada, bob, other_tab):
    log_in(page, console_server, "ada", PASSWORD)
    page.goto(f"{console_server}/users/")
    user_row(page, "bob").get_by_role("link", name="Change role").click()
    expect(page.get_by_label("Viewer")).to_be_checked()
    assert_accessible(page)
    page.get_by_label("Operator").check()
    page.get_by_role("button", name="Save role").click()

    expect(page.get_by_role("status")).to_contain_text("bob: Viewer → Operator.")
    expect(user_row(page, "bob").get_by_role("cell", name="Operator", exact=True)).to_be_visible()
    bob.refresh_from_db()
    assert [group.name for group in bob.groups.all()] == ["Operator"]

    log_in(other_tab, console_server, "bob", PASSWORD)
    assert navigation_links(other_tab) == OPERATOR_NAVIGATION
    other_tab.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    expect(other_tab.get_by_role("link", name="New re-encryption job")).to_be_visible()


def test_an_admin_cannot_take_their_own_admin_role_and_is_told_in_a_focused_summary(page, console_server, ada):
    log_in(page, console_server, "ada", PASSWORD)
    page.goto(f"{console_server}/users/{ada.pk}/role/")
    page.get_by_label("Viewer").check()
    page.get_by_role("button", name="Save role").click()

    expect_error_summary(page, "You cannot remove the Admin role from your own account")
    assert_accessible(page)
    assert role_of(get_user_model().objects.get(pk=ada.pk)) == "Admin"
    assert navigation_links(page) == ADMIN_NAVIGATION


def test_a_deactivated_user_cannot_log_in_until_activated_again(page, console_server, ada, bob, other_tab):
    log_in(page, console_server, "ada", PASSWORD)
    page.goto(f"{console_server}/users/")
    user_row(page, "bob").get_by_role("button", name="Deactivate").click()

    expect(page.get_by_role("status")).to_contain_text("bob: active → deactivated.")
    expect(user_row(page, "bob").get_by_text("deactivated", exact=True)).to_be_visible()
    assert_accessible(page)
    bob.refresh_from_db()
    assert not bob.is_active
    other_tab.goto(f"{console_server}/accounts/login/")
    other_tab.get_by_label("Username").fill("bob")
    other_tab.get_by_label("Password").fill(PASSWORD)
    other_tab.get_by_role("button", name="Log in").click()
    expect_error_summary(other_tab, "Please enter a correct username and password")

    user_row(page, "bob").get_by_role("button", name="Activate").click()

    expect(page.get_by_role("status")).to_contain_text("bob: deactivated → active.")
    bob.refresh_from_db()
    assert bob.is_active
    log_in(other_tab, console_server, "bob", PASSWORD)
    assert navigation_links(other_tab) == VIEWER_NAVIGATION


def test_an_admin_cannot_deactivate_themselves_and_the_refusal_takes_the_focus(page, console_server, ada):
    log_in(page, console_server, "ada", PASSWORD)
    page.goto(f"{console_server}/users/")
    user_row(page, "ada").get_by_role("button", name="Deactivate").click()

    expect_error_summary(page, "You cannot deactivate your own account")
    assert get_user_model().objects.get(pk=ada.pk).is_active


def test_a_failed_login_says_why_in_the_focused_summary_and_keeps_the_username(page, console_server, bob):
    page.goto(f"{console_server}/accounts/login/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect_error_summary(page, "Please enter a correct username and password")
    expect(page.get_by_label("Username")).to_have_value("bob")
    expect(page.get_by_label("Password")).to_have_value("")
    assert_accessible(page)

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{console_server}/")


def test_logging_out_ends_the_session_and_protected_pages_send_to_the_login(page, console_server, ada):
    log_in(page, console_server, "ada", PASSWORD)
    page.get_by_role("button", name="Log out").click()

    expect(page).to_have_url(f"{console_server}/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert "sessionid" not in {cookie["name"] for cookie in page.context.cookies()}
    page.goto(f"{console_server}/users/")
    expect(page).to_have_url(f"{console_server}/accounts/login/?next=/users/")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
