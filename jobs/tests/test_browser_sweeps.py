"""In a real browser: scan three buckets at once from the Buckets list and follow the sweep to a combined result
that matches what OSS holds; create a Weekly schedule from the presets, read it in words, Run it now; filter the
object browser by encryption."""

from collections import Counter

import pytest
from playwright.sync_api import expect

from accounts.services import create_user
from cloud.oss import OssClient
from cloud.sse import Sse
from console.testing.browser import assert_accessible, log_in
from console.testing.cloud import new_bucket
from console.testing.objects import put
from jobs.models import Job, Schedule, ScheduleRun, Sweep

PASSWORD = "Browser-Passw0rd-8"
pytestmark = pytest.mark.slow
STATES = [{}, {"x-oss-server-side-encryption": "AES256"}, {"x-oss-server-side-encryption": "SM4"}]


def stocked(connection, name: str, count: int):
    """A bucket of `count` objects cycling through unencrypted, OSS-managed AES256 and SM4 (shifted per bucket)."""
    bucket = new_bucket(connection, name)
    for index in range(count):
        put(bucket, f"data/{index:03d}.txt", b"x" * (index + 1), STATES[(index + len(name)) % len(STATES)])
    return bucket


def states_in_the_cloud(connection, bucket_names) -> Counter:
    """Objects per encryption label, read by listing and HEADing every object through oss2."""
    oss, found = OssClient(connection), Counter()
    for name in bucket_names:
        for entry in oss.list_objects(name, prefix="", token="", max_keys=1000, delimiter="").objects:
            found[Sse.of_headers(oss.head_object(name, entry.key).headers).label()] += 1
    return found


@pytest.fixture
def operator_page(page, console_server):
    create_user(actor=None, username="sara", role="operator", password=PASSWORD)
    log_in(page, console_server, "sara", PASSWORD)
    return page


def test_three_buckets_scanned_from_the_buckets_list_add_up_to_what_oss_holds(
    operator_page, console_server, cloud_connection, worker
):
    page = operator_page
    chosen = {"alpha": 7, "bravo": 12, "charlie": 4}
    for name, count in chosen.items():
        stocked(cloud_connection, name, count)
    stocked(cloud_connection, "delta", 3)  # listed, not chosen

    page.goto(f"{console_server}/buckets/")
    for name in chosen:
        page.get_by_label(f"Select {name} (local)").check()
    assert_accessible(page)
    page.get_by_role("button", name="Scan selected").click()

    expect(page.get_by_role("heading", name="Progress")).to_be_visible()
    expect(page.get_by_text("3 of 3 buckets finished")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("heading", name="Combined result", exact=True)).to_be_visible()
    assert_accessible(page)
    sweep = Sweep.objects.get()
    assert sorted(sweep.items.values_list("bucket", flat=True)) == sorted(chosen)
    expected = states_in_the_cloud(cloud_connection, chosen)
    shown = {
        row.get_attribute("data-state"): int(row.locator("[data-count]").inner_text())
        for row in page.locator("table.states tbody tr[data-state]").all()
    }
    assert shown == dict(expected) and sum(shown.values()) == 23
    compliant = sum(count for label, count in expected.items() if label != "None")
    expect(page.locator("[data-combined-compliant]")).to_have_text(str(compliant))
    for name, count in chosen.items():
        expect(page.locator(f'tr[data-bucket="{name}"] [data-objects]')).to_have_text(f"{count} of {count}")


def test_a_weekly_schedule_from_the_presets_reads_in_words_and_runs_now(
    operator_page, console_server, cloud_connection, worker
):
    page = operator_page
    stocked(cloud_connection, "weekly", 5)

    page.goto(f"{console_server}/jobs/schedules/new/")
    page.get_by_label("Name", exact=True).fill("Weekly scan")
    page.get_by_label("Compliance scan").check()
    expect(page.get_by_label("Algorithm to select by")).to_be_hidden()  # a scan selects nothing
    page.get_by_label("Weekly").check()
    expect(page.get_by_role("textbox", name="Crontab", include_hidden=True)).to_be_hidden()
    page.get_by_label("At", exact=True).fill("04:00")
    expect(page.locator("[data-described]")).to_have_text("Every Monday at 04:00 UTC")
    page.get_by_label("At", exact=True).fill("02:00")
    page.get_by_label("On", exact=True).select_option(label="Tuesday")
    expect(page.locator("[data-described]")).to_have_text("Every Tuesday at 02:00 UTC")
    page.get_by_label("On", exact=True).select_option(label="Monday")
    expect(page.get_by_label("Time zone")).to_have_value("UTC")
    expect(page.locator("[data-described]")).to_have_text("Every Monday at 02:00 UTC")  # said before it is saved
    page.get_by_label("Bucket", exact=True).select_option("weekly")
    page.get_by_label("The bucket default").check()
    assert_accessible(page)
    page.get_by_role("button", name="Create schedule").click()

    expect(page.get_by_role("cell", name="Every Monday at 02:00 UTC")).to_be_visible()
    schedule = Schedule.objects.get()
    beat = schedule.periodic_task.crontab
    assert schedule.crontab == "0 2 * * 1"
    assert f"{beat.minute} {beat.hour} {beat.day_of_month} {beat.month_of_year} {beat.day_of_week}" == "0 2 * * 1"

    page.get_by_role("link", name="Edit Weekly scan").click()
    expect(page.get_by_text("Runs: Every Monday at 02:00 UTC")).to_be_visible()
    page.get_by_role("button", name="Run now").click()
    expect(page.get_by_text("Schedule Weekly scan ran now")).to_be_visible()
    expect(page.get_by_text("Completed").first).to_be_visible(timeout=30_000)
    run = ScheduleRun.objects.get()
    assert run.outcome == ScheduleRun.STARTED and run.job.kind == Job.SCAN and run.job.schedule_id == schedule.pk


def test_the_object_browser_filters_its_page_by_encryption(operator_page, console_server, cloud_connection):
    page = operator_page
    bucket = stocked(cloud_connection, "browse", 6)

    page.goto(f"{console_server}/buckets/{bucket.pk}/objects/?prefix=data/")
    page.get_by_label("Encryption", exact=True).select_option(label="None")
    page.get_by_role("button", name="Filter this page").click()

    expect(page.get_by_text("Encryption None: 2 of the 6 objects of this page.")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    for index in range(2):
        expect(rows.nth(index)).to_contain_text("None")
    assert_accessible(page)
