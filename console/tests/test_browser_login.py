"""Logging in through the real login form in Chromium (see console.testing.browser)."""

import pytest
from playwright.sync_api import expect

from accounts.services import create_user
from console.testing.browser import log_in

PASSWORD = "Browser-Login-Passw0rd"


@pytest.fixture
def browser_operator(transactional_db):
    return create_user(actor=None, username="otto-operator", role="operator", password=PASSWORD).user


def test_login_leads_to_the_overview_with_the_username_and_the_main_navigation(page, console_server, browser_operator):
    log_in(page, console_server, browser_operator.username, PASSWORD)

    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.locator(".userbox")).to_contain_text(browser_operator.username)
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    expect(navigation.get_by_role("link", name="API")).to_be_visible()


def test_the_console_stylesheet_is_served_and_applied(page, console_server):
    page.goto(f"{console_server}/accounts/login/")

    assert page.evaluate(
        "[...document.styleSheets].some(sheet => sheet.href.endsWith('/static/css/console.css')"
        " && sheet.cssRules.length > 0)"
    )


def test_a_wrong_password_shows_the_login_error(page, console_server, browser_operator):
    page.goto(f"{console_server}/accounts/login/")
    page.get_by_label("Username").fill(browser_operator.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
    expect(page).to_have_url(f"{console_server}/accounts/login/")
