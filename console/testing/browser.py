"""Pytest plugin for real-browser tests: Playwright drives Debian's Chromium against a live console.

Fixtures: `browser` (one Chromium per run), `page` (a fresh context and tab per test, screenshot on failure;
`page_without_javascript` the same with scripts off),
`console_server` (base URL of a live console sharing the test database). `log_in` signs in through the real form.
Tests using `browser` or `page` get the `browser` marker (`-m "not browser"` leaves them out) and run last.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM_PATH = os.environ.get("CONSOLE_CHROMIUM_PATH", "/usr/bin/chromium")
# Root in a container has no user namespace for Chromium's sandbox, and Docker's /dev/shm is only 64 MB.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1280, "height": 900}
# Pages of a local console answer in milliseconds; waiting Playwright's default 30 s only delays the failure.
ACTION_TIMEOUT_MS = 10_000

CALL_REPORT = pytest.StashKey[pytest.TestReport]()


def uses_browser(item) -> bool:
    return "browser" in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Browser tests get the `browser` marker before `-m` selects by markers (`make test` runs them apart)."""
    for item in items:
        if uses_browser(item):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    """Browser tests run last, after pytest-django's own ordering.

    Once Chromium starts, Playwright's event loop stays running in the main thread until the session ends, and
    `asyncio.run()` or asgiref's `async_to_sync` fail there: no other test may come after it.
    """
    items = session.items
    items[:] = [item for item in items if not uses_browser(item)] + [item for item in items if uses_browser(item)]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep the outcome of the test body where the `page` fixture's teardown can read it."""
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report


def require_chromium() -> None:
    if Path(CHROMIUM_PATH).exists():
        return
    if os.environ.get("CONSOLE_REQUIRE_BROWSER"):
        pytest.fail(f"CONSOLE_REQUIRE_BROWSER is set but Debian's chromium is not installed ({CHROMIUM_PATH})")
    pytest.skip(f"Debian's chromium is not installed ({CHROMIUM_PATH}): browser tests skipped; `.ci/run` installs it")


@pytest.fixture(scope="session")
def browser():
    """Playwright is only the driver here: the browser is the distribution's, never one `playwright install` fetched."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio event loop running in this thread until the session ends, and Django
    # then refuses every ORM call from the test thread (SynchronousOnlyOperation), fixtures and teardown included.
    # The tests stay plain synchronous code and run last (see above), so the guard has nothing to protect here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def new_tab(browser, request, tmp_path, **context_options):
    """A fresh context and tab; a screenshot of the page when the test failed."""
    context = browser.new_context(viewport=VIEWPORT, **context_options)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    try:
        if call_failed(request.node):
            save_screenshot(tab, tmp_path / "failure.png")
    finally:
        context.close()


@pytest.fixture
def page(browser, request, tmp_path):
    with new_tab(browser, request, tmp_path) as tab:
        yield tab


@pytest.fixture
def page_without_javascript(browser, request, tmp_path):
    """Like `page`, in a context where scripts do not run: what a page offers without its scripts."""
    with new_tab(browser, request, tmp_path, java_script_enabled=False) as tab:
        yield tab


def call_failed(item) -> bool:
    report = item.stash.get(CALL_REPORT, None)
    return report is not None and report.failed


def save_screenshot(tab, path: Path) -> None:
    tab.screenshot(path=path, full_page=True)
    print(f"screenshot of the failed page: {path}")


@pytest.fixture
def console_server(live_server):
    """Base URL of the console served from a thread; it sees what the test writes (transactional database)."""
    return live_server.url


def log_in(page, base_url: str, username: str, password: str) -> None:
    """Sign in through the login form like a person would, and wait for the Overview page."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")


# What a page must never have: axe-core's two highest impacts. Moderate and minor findings are reported, not failed.
BLOCKING_IMPACTS = ("serious", "critical")


def accessibility_violations(page) -> list[dict]:
    """axe-core's violations of the page as it is now (WCAG 2.x A/AA and best practices), every impact."""
    from axe_playwright_python.sync_playwright import Axe

    return Axe().run(page).response["violations"]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = node.get("failureSummary", "").splitlines()
            lines.append(f"    {', '.join(map(str, node['target']))}: {summary[-1] if summary else ''}")
    return "\n".join(lines)


def assert_accessible(page) -> None:
    """No serious or critical axe-core violation on the page as it is shown now."""
    blocking = [v for v in accessibility_violations(page) if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core on {page.url}:\n{describe_violations(blocking)}"


def assert_no_sideways_scroll(page) -> None:
    """The page fits the viewport's width: only a table's own scroller may be wider."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow} px at {page.viewport_size['width']} px"


def expect_error_summary(page, *messages: str) -> None:
    """A refused submit: the error summary has the focus, where a keyboard or screen-reader user starts, and says
    each of `messages`."""
    from playwright.sync_api import expect

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    for message in messages:
        expect(summary).to_contain_text(message)
