"""Generated passwords in a real browser (console.testing.browser): the one an Admin's new user gets and the one an
Admin's reset gives both lead straight to the password change at sign-in, and nowhere else until it is done."""

import re

import pytest
from playwright.sync_api import expect

from accounts.services import create_user
from console.testing.browser import assert_accessible, expect_error_summary, log_in

PASSWORD = "Browser-Passwords-Passw0rd"
CAROLS_OWN = "Carols-Own-Choice-2026"


@pytest.fixture
def ada(transactional_db):
    return create_user(actor=None, username="ada", role="admin", password=PASSWORD).user


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def sign_in_with_generated(page, base_url: str, username: str, password: str) -> None:
    """Sign in through the form with a generated password: it lands on the password change, not the Overview."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/password/\?next="))
    expect(page.get_by_role("heading", name="Change password", level=1)).to_be_visible()
    expect(page.get_by_text("Your password was generated for you")).to_be_visible()


def choose_password(page, current: str, new: str) -> None:
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("New password again").fill(new)
    page.get_by_role("button", name="Change password").click()


def shown_password(page) -> str:
    return page.locator("code.secret").inner_text().strip()


def test_a_generated_password_is_changed_at_first_sign_in_and_again_after_an_admin_reset(page, console_server, ada):
    log_in(page, console_server, "ada", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Create user").click()
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Viewer").check()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("they must choose their own at their first sign-in")).to_be_visible()
    generated = shown_password(page)
    log_out(page)

    sign_in_with_generated(page, console_server, "carol", generated)
    assert_accessible(page)
    page.goto(f"{console_server}/buckets/")
    expect(page).to_have_url(f"{console_server}/accounts/password/?next=%2Fbuckets%2F")
    choose_password(page, "not-the-generated-one", CAROLS_OWN)
    expect_error_summary(page, "Your current password is not right; the password is unchanged.")
    choose_password(page, generated, CAROLS_OWN)
    expect(page).to_have_url(f"{console_server}/buckets/")
    expect(page.get_by_role("status")).to_contain_text("Password changed")
    page.get_by_role("link", name="Bucket encryption console").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    log_out(page)

    log_in(page, console_server, "ada", PASSWORD)
    page.goto(f"{console_server}/users/")
    expect(page.get_by_role("row").filter(has_text="carol")).not_to_contain_text("password to change")
    page.get_by_role("button", name="Reset the password of carol").click()
    expect(page.get_by_role("heading", name="Password of carol reset", level=1)).to_be_visible()
    assert_accessible(page)
    reset = shown_password(page)
    assert reset not in (generated, CAROLS_OWN)
    log_out(page)

    sign_in_with_generated(page, console_server, "carol", reset)
    page.goto(f"{console_server}/jobs/")
    expect(page).to_have_url(f"{console_server}/accounts/password/?next=%2Fjobs%2F")
    choose_password(page, reset, "Carols-Second-Choice-2026")
    expect(page).to_have_url(f"{console_server}/jobs/")
