"""Every page of the console, for each role, in Chromium: no serious or critical axe-core violation, no sideways
scroll at 1280 px, and usable at 390 px (no sideways scroll of the page, the main navigation and every form control
within reach).

The pages come from the URLconf: every named route outside the API is either a page swept here (PAGES: the least
role that may open it and how to get there with real objects) or excused with its reason (NOT_PAGES).
`test_every_named_route_is_swept_or_excused` fails as soon as a route appears that is in neither.

The data is demo-like and real: a connection to localcloud, buckets in four default-encryption states, objects, a
KMS key, a client-side master key, a finished scan, job and dry run run by a real Celery worker, a schedule. One
browser context per role walks every page it may open; problems are collected and reported together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.http import urlencode
from playwright.sync_api import expect

from accounts.services import create_user, issue_api_token
from buckets.services.buckets import refresh_buckets
from cloud.oss import EncryptionRule, OssClient
from cloud.sse import AES256, OSS
from console.testing.browser import (
    ACTION_TIMEOUT_MS,
    BLOCKING_IMPACTS,
    VIEWPORT,
    accessibility_violations,
    describe_violations,
)
from console.testing.cloud import named_key, new_bucket
from console.testing.jobs import wait_for
from encryption.models import CseTransfer
from encryption.services import master_keys
from jobs.models import Job
from jobs.services import jobs as services
from jobs.services import schedules, sweeps

PASSWORD = "Every-Page-Passw0rd"
ANONYMOUS, VIEWER, OPERATOR, ADMIN = "anonymous", "viewer", "operator", "admin"
SIGNED_IN = (VIEWER, OPERATOR, ADMIN)
WIDE = VIEWPORT  # 1280 px
NARROW = {"width": 390, "height": 844}


@dataclass
class Data:
    """The objects the pages are opened with; `users` by role."""

    connection: object
    region: str
    buckets: dict[str, object]
    object_key: str
    key_id: str
    master_key: object
    scan: Job
    job: Job
    dry_run: Job
    schedule: object
    sweep: object
    users: dict[str, object]
    transfers: dict[str, CseTransfer] = field(default_factory=dict)


Paths = Callable[[Data, str], list[str]]


@dataclass(frozen=True)
class Page:
    """A route swept for `role` and every role above it (ANONYMOUS: only signed out). `paths` gives the URLs to
    open; `reach`, for a page only a step before it leads to (a POST, a wizard step), gets there in the browser."""

    role: str
    paths: Paths | None = None
    reach: Callable[[object, Data], None] | None = None


def one(path: str) -> Paths:
    return lambda data, role: [path]


def bucket_path(suffix: str = "", bucket: str = "plain", query: dict | None = None) -> Paths:
    def paths(data: Data, role: str) -> list[str]:
        path = f"/buckets/{data.buckets[bucket].pk}/{suffix}"
        return [f"{path}?{urlencode(query)}" if query else path]

    return paths


def object_path(suffix: str) -> Paths:
    return lambda data, role: [f"/buckets/{data.buckets['plain'].pk}/{suffix}?{urlencode({'key': data.object_key})}"]


def key_path(suffix: str = "") -> Paths:
    return lambda data, role: [f"/keys/{data.connection.pk}/{data.region}/{data.key_id}/{suffix}"]


def reach_connection_test(page, data: Data) -> None:
    page.goto(f"/connections/{data.connection.pk}/")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("heading", name="Test result: all checks passed")).to_be_visible()


def reach_token_created(page, data: Data) -> None:
    page.goto("/users/me/tokens/")
    page.get_by_label("Label").fill("every-page laptop")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="API token created")).to_be_visible()


# The BYOK wizard's steps need the state of the one before: these run in this order in the Admin's walk.
def reach_byok_parameters(page, data: Data) -> None:
    page.goto("/keys/byok/")
    page.get_by_label("Alias").fill("alias/every-page-byok")
    page.get_by_role("button", name="Create EXTERNAL key").click()
    expect(page.get_by_role("button", name="Get wrapping key and token")).to_be_visible()


def reach_byok_import(page, data: Data) -> None:
    page.get_by_role("button", name="Get wrapping key and token").click()
    page.get_by_role("link", name="Next: import material").click()
    expect(page.get_by_role("button", name="Generate, wrap and import")).to_be_visible()


def reach_byok_done(page, data: Data) -> None:
    page.get_by_label("For testing only", exact=False).check()
    page.get_by_role("button", name="Generate, wrap and import").click()
    expect(page.get_by_role("heading", name="Key material imported")).to_be_visible()


def reach_two_factor_setup(page, data: Data) -> None:
    page.goto("/accounts/two-factor/")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()


PAGES: dict[str, Page] = {
    "login": Page(ANONYMOUS, one("/accounts/login/")),
    "overview": Page(VIEWER, one("/")),
    # Users
    "accounts:user_list": Page(ADMIN, one("/users/")),
    "accounts:user_create": Page(ADMIN, one("/users/new/")),
    "accounts:user_role": Page(ADMIN, lambda data, role: [f"/users/{data.users[VIEWER].pk}/role/"]),
    "accounts:user_tokens": Page(ADMIN, lambda data, role: [f"/users/{data.users[OPERATOR].pk}/tokens/"]),
    "accounts:token_list": Page(VIEWER, one("/users/me/tokens/")),
    "accounts:token_create": Page(VIEWER, reach=reach_token_created),
    "password_change": Page(VIEWER, one("/accounts/password/")),
    # Two-factor sign-in (a set-up left unconfirmed changes nothing at sign-in)
    "two_factor": Page(VIEWER, one("/accounts/two-factor/")),
    "two_factor_setup": Page(VIEWER, reach=reach_two_factor_setup),
    # Connections
    "buckets:connection_list": Page(VIEWER, one("/connections/")),
    "buckets:connection_create": Page(ADMIN, one("/connections/new/")),
    "buckets:connection_detail": Page(VIEWER, lambda data, role: [f"/connections/{data.connection.pk}/"]),
    "buckets:connection_test": Page(VIEWER, reach=reach_connection_test),
    "buckets:connection_edit": Page(ADMIN, lambda data, role: [f"/connections/{data.connection.pk}/edit/"]),
    "buckets:connection_delete": Page(ADMIN, lambda data, role: [f"/connections/{data.connection.pk}/delete/"]),
    # Buckets and objects
    "buckets:bucket_list": Page(VIEWER, one("/buckets/")),
    "buckets:bucket_create": Page(ADMIN, one("/buckets/new/")),
    "buckets:bucket_detail": Page(
        VIEWER, lambda data, role: [f"/buckets/{bucket.pk}/" for bucket in data.buckets.values()]
    ),
    "buckets:bucket_encryption": Page(OPERATOR, bucket_path("encryption/", bucket="kms")),
    "buckets:object_list": Page(VIEWER, bucket_path("objects/")),
    "buckets:object_detail": Page(VIEWER, object_path("object/")),
    "buckets:object_upload": Page(OPERATOR, bucket_path("upload/")),
    "buckets:object_encryption": Page(OPERATOR, object_path("object/encryption/")),
    # KMS keys, BYOK, RAM policy
    "encryption:key_list": Page(VIEWER, one("/keys/")),
    "encryption:key_detail": Page(VIEWER, key_path()),
    "encryption:key_create": Page(ADMIN, lambda data, role: [f"/keys/{data.connection.pk}/{data.region}/new/"]),
    "encryption:key_schedule_deletion": Page(ADMIN, key_path("schedule-deletion/")),
    "encryption:ram_policy": Page(VIEWER, one("/keys/ram-policy/")),
    "encryption:byok_start": Page(ADMIN, one("/keys/byok/")),
    "encryption:byok_parameters": Page(ADMIN, reach=reach_byok_parameters),
    "encryption:byok_import": Page(ADMIN, reach=reach_byok_import),
    "encryption:byok_done": Page(ADMIN, reach=reach_byok_done),
    # Client-side encryption
    "encryption:cse_key_list": Page(VIEWER, one("/keys/cse/")),
    "encryption:cse_key_new": Page(ADMIN, one("/keys/cse/new/")),
    "encryption:cse_key_import": Page(ADMIN, one("/keys/cse/import/")),
    "encryption:cse_key_detail": Page(VIEWER, lambda data, role: [f"/keys/cse/{data.master_key.pk}/"]),
    "encryption:cse_key_delete": Page(ADMIN, lambda data, role: [f"/keys/cse/{data.master_key.pk}/delete/"]),
    "encryption:cse_transfer": Page(OPERATOR, lambda data, role: [f"/keys/cse/uploads/{data.transfers[role].pk}/"]),
    # Audit
    "audit:event_list": Page(VIEWER, one("/audit/")),
    # Jobs, scans, compliance, schedules
    "jobs:job_list": Page(VIEWER, one("/jobs/")),
    "jobs:job_new": Page(OPERATOR, one("/jobs/new/")),
    "jobs:scan_new": Page(OPERATOR, one("/jobs/scan/")),
    "jobs:rewrap_new": Page(OPERATOR, one("/jobs/rewrap/")),
    "jobs:compliance": Page(VIEWER, one("/jobs/compliance/")),
    "jobs:job_detail": Page(
        VIEWER, lambda data, role: [f"/jobs/{job.pk}/" for job in (data.scan, data.job, data.dry_run)]
    ),
    "jobs:schedule_list": Page(VIEWER, one("/jobs/schedules/")),
    "jobs:schedule_new": Page(OPERATOR, one("/jobs/schedules/new/")),
    "jobs:schedule_edit": Page(OPERATOR, lambda data, role: [f"/jobs/schedules/{data.schedule.pk}/"]),
    "jobs:schedule_delete": Page(OPERATOR, lambda data, role: [f"/jobs/schedules/{data.schedule.pk}/delete/"]),
    "jobs:sweep_detail": Page(VIEWER, lambda data, role: [f"/jobs/sweeps/{data.sweep.pk}/"]),
}

POST_ONLY = "an action that only answers POST (405 to GET) and redirects to a page swept here"
DOWNLOAD = "a file download (attachment), not a page"
NOT_PAGES: dict[str, str] = {
    "healthz": "JSON for monitors, not a page",
    "logout": "POST only: logging out ends on the login page, swept signed out",
    "overview_buckets": "an HTML fragment the Overview swaps in; swept as part of the Overview",
    "accounts:user_deactivate": POST_ONLY,
    "accounts:user_activate": POST_ONLY,
    "accounts:user_unlock": POST_ONLY,
    "accounts:token_revoke": POST_ONLY,
    "accounts:user_reset_two_factor": POST_ONLY,
    "accounts:user_reset_password": "POST only, and it replaces a password; its answer (the password shown once) "
    "is swept in accounts/tests/test_browser_passwords.py",
    "two_factor_disable": POST_ONLY,
    "two_factor_confirm": "POST only, and it turns two-factor sign-in on; its recovery codes page is swept in "
    "accounts/tests/test_browser_two_factor.py",
    "login_code": "only a session that still owes its code opens it; swept in "
    "accounts/tests/test_browser_two_factor.py",
    "buckets:bucket_refresh": POST_ONLY,
    "buckets:bucket_expire": POST_ONLY,
    "buckets:bucket_expiry_remove": POST_ONLY,
    "buckets:object_download": DOWNLOAD,
    "encryption:key_alias_add": POST_ONLY,
    "encryption:key_alias_remove": POST_ONLY,
    "encryption:key_enable": POST_ONLY,
    "encryption:key_disable": POST_ONLY,
    "encryption:key_cancel_deletion": POST_ONLY,
    "encryption:key_rotate": POST_ONLY,
    "encryption:key_import": POST_ONLY,
    "encryption:byok_generate": POST_ONLY,
    "encryption:byok_public_key": DOWNLOAD,
    "encryption:cse_public_key": DOWNLOAD,
    "encryption:cse_transfer_status": "JSON the upload page polls, not a page",
    "audit:event_export": DOWNLOAD,
    "jobs:job_progress": "JSON the job page polls, not a page",
    "jobs:job_pause": POST_ONLY,
    "jobs:job_resume": POST_ONLY,
    "jobs:job_cancel": POST_ONLY,
    "jobs:job_retry": POST_ONLY,
    "jobs:job_run": POST_ONLY,
    "jobs:job_report": DOWNLOAD,
    "jobs:schedule_run_now": POST_ONLY,
    "jobs:sweep_start": POST_ONLY,
    "jobs:job_completion_report": DOWNLOAD,
}


def named_ui_routes() -> dict[str, str]:
    """Every named route of the URLconf outside the API, as {name: pattern}."""
    routes: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(part for part in (namespace, pattern.namespace or "") if part)
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                path = prefix + str(pattern.pattern)
                if not path.startswith("api/"):
                    routes[f"{namespace}:{pattern.name}" if namespace else pattern.name] = "/" + path

    walk(get_resolver().url_patterns, "", "")
    return routes


def test_every_named_route_is_swept_or_excused():
    routes = set(named_ui_routes())

    both = set(PAGES) & set(NOT_PAGES)
    new = routes - set(PAGES) - set(NOT_PAGES)
    gone = (set(PAGES) | set(NOT_PAGES)) - routes

    assert not both, f"swept and excused at once: {sorted(both)}"
    assert not new, f"routes neither swept nor excused: {sorted(new)}; add each to PAGES, or to NOT_PAGES with why"
    assert not gone, f"PAGES or NOT_PAGES name routes that no longer exist: {sorted(gone)}"


def test_routes_excused_as_post_only_refuse_get(client_as, admin):
    values = {"<int:pk>": "1", "<int:connection_id>": "1", "<str:region>": "cn-hangzhou", "<str:key_id>": "key-1"}
    client = client_as(admin)
    answers = {}
    for name, path in named_ui_routes().items():
        if NOT_PAGES.get(name) == POST_ONLY:
            for converter, value in values.items():
                path = path.replace(converter, value)
            answers[name] = client.get(path).status_code

    assert answers and set(answers.values()) == {405}, answers


# The sweep


def finished(job: Job) -> Job:
    """The job once the worker (the shared `worker` fixture) completed it."""
    job = wait_for(job)
    assert job.state == Job.COMPLETED, f"job {job.pk} ended {job.state}"
    return job


@pytest.fixture
def data(cloud_connection, worker) -> Data:
    connection = cloud_connection
    users = {
        role: create_user(actor=None, username=f"every-{role}", role=role, password=PASSWORD).user for role in SIGNED_IN
    }
    for user in users.values():
        issue_api_token(actor=user, user=user, label="every-page nightly report")
    key_id = named_key(connection, "alias/every-page")
    buckets = {
        "plain": new_bucket(connection, "every-plain"),
        "aes256": new_bucket(connection, "every-aes256", EncryptionRule("AES256")),
        "sm4": new_bucket(connection, "every-sm4", EncryptionRule("SM4")),
        "kms": new_bucket(connection, "every-kms", EncryptionRule("KMS", key_id, "SM4")),
    }
    oss = OssClient(connection)
    object_key = "docs/handbook.md"
    oss.put_object("every-plain", object_key, b"# Handbook\n", {"Content-Type": "text/markdown"})
    oss.put_object(
        "every-plain", "exports/2026-11.csv", b"id,name\n1,Li Wei\n", {"x-oss-server-side-encryption": "SM4"}
    )
    oss.put_object("every-kms", "reports/weekly.csv", b"week,orders\n47,1208\n", {"Content-Type": "text/csv"})
    refresh_buckets(connection)
    buckets = {name: type(bucket).objects.get(pk=bucket.pk) for name, bucket in buckets.items()}

    operator = users[OPERATOR]
    scan = services.create_job(
        actor=operator,
        connection=connection,
        bucket="every-plain",
        spec=services.Spec(kind=Job.SCAN, select=Job.SELECT_ALL),
    )
    target = services.Spec(target_mode=Job.TARGET_EXPLICIT, target_method=OSS, target_algorithm=AES256)
    dry_run = services.create_job(
        actor=operator, connection=connection, bucket="every-plain", spec=target, dry_run=True
    )
    scan, dry_run = finished(scan), finished(dry_run)
    job = finished(services.create_job(actor=operator, connection=connection, bucket="every-plain", spec=target))
    schedule = schedules.save_schedule(
        actor=operator,
        connection=connection,
        bucket="every-plain",
        name="every night",
        spec=target,
        crontab="0 2 * * *",
    )
    sweep = sweeps.start_sweep(
        actor=operator, buckets=[buckets["plain"], buckets["aes256"]], description="2 selected buckets"
    )
    for item in sweep.items.all():
        finished(item.job)
    master_key = master_keys.generate_rsa(actor=users[ADMIN], name="every-page-rsa")
    transfers = {
        role: CseTransfer.objects.create(
            bucket=buckets["plain"],
            bucket_name="every-plain",
            key=f"uploads/{role}.bin",
            master_key=master_key,
            size=2048,
            bytes_done=2048,
            state=CseTransfer.DONE,
            created_by=users[role],
        )
        for role in (OPERATOR, ADMIN)
    }
    return Data(
        connection=connection,
        region=connection.region,
        buckets=buckets,
        object_key=object_key,
        key_id=key_id,
        master_key=master_key,
        scan=scan,
        job=job,
        dry_run=dry_run,
        schedule=schedule,
        sweep=sweep,
        users=users,
        transfers=transfers,
    )


def may_open(role: str, page: Page) -> bool:
    if page.role == ANONYMOUS or role == ANONYMOUS:
        return page.role == role
    return SIGNED_IN.index(role) >= SIGNED_IN.index(page.role)


# Run in the page: form controls that stick out of the viewport, except inside an element that scrolls sideways
# itself (a table in its .table-wrap), where scrolling that element reaches them.
CONTROLS_OUTSIDE = """() => {
  const width = document.documentElement.clientWidth;
  const insideScroller = (element) => {
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
      const overflow = getComputedStyle(parent).overflowX;
      if (overflow === "auto" || overflow === "scroll") return true;
    }
    return false;
  };
  const name = (element) => {
    const text = (element.textContent || element.value || "").trim().slice(0, 30);
    if (element.id) return `#${element.id}`;
    return `${element.tagName.toLowerCase()}${element.name ? `[name=${element.name}]` : ""} "${text}"`;
  };
  return [...document.querySelectorAll("input:not([type=hidden]), select, textarea, button")]
    .filter((element) => {
      const box = element.getBoundingClientRect();
      return (box.width || box.height) && !insideScroller(element) && (box.left < -1 || box.right > width + 1);
    })
    .map((element) => `${name(element)} spans ${Math.round(element.getBoundingClientRect().left)}`
      + `..${Math.round(element.getBoundingClientRect().right)} px`);
}"""

# Run in the page: links of the main navigation a person cannot see or reach at this width.
NAVIGATION_OUT_OF_REACH = """() => {
  const navigation = document.querySelector('nav[aria-label="Main"]');
  if (!navigation) return ["there is no main navigation"];
  const width = document.documentElement.clientWidth;
  return [...navigation.querySelectorAll("a")]
    .filter((link) => {
      const box = link.getBoundingClientRect();
      return !box.width || getComputedStyle(link).visibility === "hidden" || box.left < 0 || box.right > width;
    })
    .map((link) => link.textContent.trim());
}"""

SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"

# Run in the page: the outermost elements that reach past the right edge, outside sideways scrollers (what to fix).
WIDE_ELEMENTS = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (element) => ["auto", "scroll"].includes(getComputedStyle(element).overflowX);
  const describe = (element) => element.tagName.toLowerCase() + (element.id ? `#${element.id}` : "")
    + [...element.classList].map((name) => `.${name}`).join("");
  const placed = (element) => ["absolute", "fixed"].includes(getComputedStyle(element).position);
  const found = [];
  // The innermost elements that reach too far: their content overflows, or they are too wide themselves. Inside a
  // scroller only what is placed absolutely can stretch the page (its containing block may be outside).
  const visit = (element, inScroller) => {
    const box = element.getBoundingClientRect();
    const right = Math.round(scrolls(element) ? box.right : Math.max(box.right, box.left + element.scrollWidth));
    const count = found.length;
    [...element.children].forEach((child) => visit(child, inScroller || scrolls(element)));
    if (found.length === count && right > width + 1 && (!inScroller || placed(element))) {
      found.push(`${describe(element)} to ${right} px`);
    }
  };
  [...document.body.children].forEach((child) => visit(child, false));
  return found.slice(0, 4);
}"""


def check_page(page, role: str, problems: list[str]) -> None:
    """Every check on the page shown now, at 1280 px then at 390 px; what fails is added to `problems`."""
    where = f"{role} {page.url.split('//', 1)[1].split('/', 1)[1]!r}"
    if "<" in page.title():
        problems.append(f"{where}: markup in the title: {page.title()!r}")
    blocking = [v for v in accessibility_violations(page) if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        problems.append(f"{where}: axe-core\n{describe_violations(blocking)}")
    if (overflow := page.evaluate(SIDEWAYS)) > 0:
        problems.append(f"{where}: scrolls sideways by {overflow} px at 1280 px: {page.evaluate(WIDE_ELEMENTS)}")
    page.set_viewport_size(NARROW)
    try:
        if (overflow := page.evaluate(SIDEWAYS)) > 0:
            problems.append(f"{where}: scrolls sideways by {overflow} px at 390 px: {page.evaluate(WIDE_ELEMENTS)}")
        if outside := page.evaluate(CONTROLS_OUTSIDE):
            problems.append(f"{where}: form controls outside the viewport at 390 px: {outside}")
        if role != ANONYMOUS and (unreachable := page.evaluate(NAVIGATION_OUT_OF_REACH)):
            problems.append(f"{where}: main navigation out of reach at 390 px: {unreachable}")
    finally:
        page.set_viewport_size(WIDE)


def report_policy_violation(message, role: str, page, problems: list[str]) -> None:
    """Chromium reports what the Content-Security-Policy blocked on the console: each is a page that lost a
    script or a style."""
    if "Content Security Policy" in message.text:
        problems.append(f"{role} {page.url}: {message.text}")


def sign_in(context, base_url: str, user) -> None:
    """A session for `user` as the login form would open it, without hashing the password again (the login form
    itself has its own browser tests)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


def walk(browser, base_url: str, role: str, data: Data, problems: list[str]) -> list[str]:
    """Open every page `role` may open in one browser context; returns what was opened."""
    context = browser.new_context(viewport=WIDE, base_url=base_url)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.on("console", lambda message: report_policy_violation(message, role, page, problems))
    opened = []
    try:
        if role != ANONYMOUS:
            sign_in(context, base_url, data.users[role])
        for name, swept in PAGES.items():
            if not may_open(role, swept):
                continue
            if swept.reach:
                swept.reach(page, data)
                opened.append(f"{name} (reached)")
                check_page(page, role, problems)
                continue
            for path in swept.paths(data, role):
                response = page.goto(path)
                if name == "overview":
                    page.wait_for_load_state("networkidle")  # the bucket card, refreshed after the page loaded
                if response.status != 200:
                    problems.append(f"{role} {path!r}: HTTP {response.status}")
                    continue
                opened.append(path)
                check_page(page, role, problems)
        if role == VIEWER:
            for path, status in (("/users/", 403), ("/connections/999999/", 404)):
                response = page.goto(path)
                assert response.status == status
                check_page(page, role, problems)
    finally:
        context.close()
    return opened


def test_every_page_for_every_role_is_accessible_and_fits_1280_and_390_px(browser, console_server, data):
    problems: list[str] = []
    opened = {role: walk(browser, console_server, role, data, problems) for role in (ANONYMOUS, *SIGNED_IN)}

    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
    assert len(opened[ADMIN]) > len(opened[OPERATOR]) > len(opened[VIEWER]) > len(opened[ANONYMOUS]) == 1
