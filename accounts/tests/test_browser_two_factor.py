"""Two-factor sign-in in a real browser (console.testing.browser): set up through the pages with the secret the page
shows, then sign in with a code made from it, and be refused with a wrong one.

A TOTP code is accepted once: the set-up uses this 30-second step's code, the sign-in the next step's, which the
device accepts as clock drift.
"""

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from accounts.services import create_user, has_two_factor
from console.testing.browser import assert_accessible, expect_error_summary, log_in

PASSWORD = "Browser-Two-Factor-Passw0rd"


@pytest.fixture
def olga(transactional_db):
    return create_user(actor=None, username="olga", role="operator", password=PASSWORD).user


def code_from(secret: str, steps_ahead: int = 0) -> str:
    return f"{totp(b32decode(secret), drift=steps_ahead):06d}"


def set_up_authenticator(page) -> str:
    """Through the header's link to the user's own page; the secret the set-up page shows."""
    page.get_by_role("link", name="olga").click()
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    assert_accessible(page)
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code").fill(code_from(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    return secret


def sign_in_with_password(page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Sign-in code")).to_be_visible()


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_an_operator_sets_up_an_authenticator_then_signs_in_with_its_code_and_not_with_a_wrong_one(
    page, console_server, olga
):
    log_in(page, console_server, "olga", PASSWORD)
    secret = set_up_authenticator(page)
    expect(page.locator("ul.recovery-codes li")).to_have_count(10)
    assert_accessible(page)
    assert has_two_factor(olga)
    log_out(page)

    sign_in_with_password(page, console_server)
    assert_accessible(page)
    page.get_by_label("Code").fill(code_from(secret, steps_ahead=1))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console_server}/")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    log_out(page)

    sign_in_with_password(page, console_server)
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect_error_summary(page, "That code is not right")
    page.goto(f"{console_server}/buckets/")
    expect(page).to_have_url(re.compile(r"/accounts/login/code/\?next=%2Fbuckets%2F$"))
    expect(page.get_by_role("link", name="Overview")).to_have_count(0)
