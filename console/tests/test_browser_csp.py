"""The Content-Security-Policy in Chromium: what the console's own files do still works, injected code does not."""

import pytest
from playwright.sync_api import expect

from accounts.services import create_user
from console.testing.browser import log_in

PASSWORD = "Policy-Passw0rd-Long"


@pytest.fixture
def policy_violations(page):
    """What Chromium reports the policy blocked on the page, as it happens."""
    seen = []
    page.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None)
    return seen


@pytest.fixture
def signed_in(page, console_server, db):
    create_user(actor=None, username="vera", role="viewer", password=PASSWORD)
    log_in(page, console_server, "vera", PASSWORD)
    return page


def test_a_script_injected_into_a_page_does_not_run(signed_in, console_server, policy_violations):
    signed_in.goto(f"{console_server}/")

    signed_in.evaluate(
        """() => {
            const injected = document.createElement("script");
            injected.textContent = "window.injectedRan = true";
            document.body.append(injected);
        }"""
    )

    assert signed_in.evaluate("() => window.injectedRan") is None
    assert any("inline script" in violation for violation in policy_violations)


def test_the_api_docs_render_from_the_consoles_own_files(signed_in, console_server, policy_violations):
    signed_in.goto(f"{console_server}/api/v1/docs/")

    expect(signed_in.locator(".opblock-tag").first).to_be_visible()
    expect(signed_in.get_by_text("/api/v1/buckets/", exact=False).first).to_be_attached()
    assert policy_violations == []
