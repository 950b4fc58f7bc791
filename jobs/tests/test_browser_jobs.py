"""The issue's user journey in a real browser: scan a bucket, see what is unencrypted, dry-run, run to 100%
compliance while the progress bar moves, download the report, and schedule the same nightly."""

import pytest
from playwright.sync_api import expect

from accounts.services import create_user
from cloud.oss import EncryptionRule, OssClient
from console.testing.browser import log_in
from console.testing.cloud import new_bucket
from console.testing.jobs import fill, wait_for
from console.testing.waits import wait_until
from jobs.models import Job, Schedule

PASSWORD = "Browser-Passw0rd-8"
pytestmark = pytest.mark.slow


def test_an_operator_scans_dry_runs_runs_to_full_compliance_downloads_the_report_and_schedules_it(
    page, console_server, cloud_connection, worker
):
    bucket = new_bucket(cloud_connection, "journey")
    fill(bucket, 40, prefix="logs/")
    OssClient(cloud_connection).put_encryption("journey", EncryptionRule("SM4"))
    create_user(actor=None, username="olivia", role="operator", password=PASSWORD)
    log_in(page, console_server, "olivia", PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Buckets").click()
    page.get_by_role("link", name="journey").click()
    page.get_by_role("link", name="Scan this bucket").click()
    page.get_by_role("button", name="Start scan").click()
    expect(page.get_by_text("Completed").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("of objects compliant").first).to_be_visible()
    scan = Job.objects.get(kind=Job.SCAN)
    assert scan.state == Job.COMPLETED

    page.get_by_role("link", name="Re-encrypt what does not match").click()
    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_role("heading", name="Plan")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Run it for real")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Run it for real").click()
    expect(page.get_by_role("progressbar")).to_be_visible()
    expect(page.get_by_text("Completed: 100.0% done")).to_be_visible(timeout=60_000)
    job = Job.objects.filter(kind=Job.REENCRYPT, dry_run=False).get()
    assert job.state == Job.COMPLETED
    verification = wait_for(
        wait_until(lambda: Job.objects.filter(verifies=job).first(), message="the verification scan")
    )
    page.goto(f"{console_server}/jobs/{scan.pk}/")
    expect(page.get_by_text(f"job #{job.pk} re-encrypted 32 objects since")).to_be_visible()
    page.get_by_role("link", name="Compliance of every bucket").click()
    record = page.get_by_role("row", name="journey")
    expect(record).to_contain_text("100.0%")
    expect(record).to_contain_text(f"Scan #{verification.pk}")
    expect(record).not_to_contain_text("outdated")
    page.goto(f"{console_server}/jobs/{job.pk}/")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download report (CSV)").click()
    report = download.value.path().read_text()
    assert report.startswith("key,size,outcome")
    assert next(line for line in report.splitlines() if line.startswith("(total reencrypted)")).endswith(
        "32 objects,,,"
    )  # 8 of the 40 were SM4 already

    page.get_by_role("link", name="Schedule it").click()
    page.get_by_label("Name").fill("journey every night")
    page.get_by_label("Daily").check()
    page.get_by_label("At", exact=True).fill("02:00")
    page.get_by_role("button", name="Create schedule").click()
    expect(page.get_by_text("journey every night").first).to_be_visible()
    schedule = Schedule.objects.get(name="journey every night")
    assert (schedule.bucket, schedule.crontab, schedule.periodic_task.enabled) == ("journey", "0 2 * * *", True)

    oss = OssClient(cloud_connection)
    heads = [oss.head_object("journey", f"logs/object-{index:04d}.csv") for index in range(40)]
    assert {head.header("x-oss-server-side-encryption") for head in heads} == {"SM4"}
