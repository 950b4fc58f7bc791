"""Exposed history in a real browser (issue 18): a scan of a versioned bucket shows its unencrypted older versions,
a dry run plans deleting them, a wrong bucket name typed deletes nothing, the right one does, and a scan afterwards
shows no exposed history; each step checked in the cloud through the console's client."""

import pytest
from playwright.sync_api import expect

from accounts.services import create_user
from cloud.oss import EncryptionRule, OssClient
from console.testing.browser import log_in
from console.testing.cloud import versioned_bucket
from jobs.models import Job

PASSWORD = "Browser-Passw0rd-8"
pytestmark = pytest.mark.slow


def versions(connection, bucket: str) -> list[tuple[str, bool, str]]:
    """(key, current, server-side encryption) of every version, as the cloud has them."""
    oss = OssClient(connection)
    return sorted(
        (v.key, v.is_latest, oss.head_object(bucket, v.key, v.version_id).header("x-oss-server-side-encryption"))
        for v in oss.list_object_versions(bucket).versions
    )


def test_an_operator_finds_exposed_history_plans_its_deletion_confirms_it_and_rescans_clean(
    page, console_server, cloud_connection, worker
):
    bucket = versioned_bucket(cloud_connection, "history")
    oss = OssClient(cloud_connection)
    for key in ("ledger/2023.csv", "ledger/2024.csv"):
        for generation in range(3):
            oss.put_object("history", key, f"{key} {generation}".encode(), {})
    oss.put_encryption("history", EncryptionRule("SM4"))
    create_user(actor=None, username="olivia", role="operator", password=PASSWORD)
    log_in(page, console_server, "olivia", PASSWORD)

    page.goto(f"{console_server}/buckets/{bucket.pk}/")
    page.get_by_role("link", name="Scan this bucket").first.click()
    page.get_by_role("button", name="Start scan").click()
    expect(page.get_by_text("Completed").first).to_be_visible(timeout=30_000)
    history = page.get_by_role("region", name="Older versions (noncurrent)")
    expect(history).to_contain_text("4 noncurrent versions")
    expect(history).to_contain_text("none as targeted")
    page.get_by_role("link", name="Compliance of every bucket").click()
    expect(page.get_by_role("row", name="history")).to_contain_text("Exposed history:")

    page.goto(f"{console_server}/jobs/{Job.objects.get(kind=Job.SCAN).pk}/")
    page.get_by_role("link", name="Re-encrypt what does not match").click()
    page.get_by_label("Then delete its older versions that are not as targeted").check()
    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_role("heading", name="Plan")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Older versions to delete")).to_be_visible()
    expect(page.get_by_role("button", name="Run it for real")).to_be_visible(timeout=30_000)
    plan = Job.objects.get(kind=Job.REENCRYPT, dry_run=True)
    assert len(versions(cloud_connection, "history")) == 6  # the dry run deleted nothing

    page.get_by_label("type the bucket's name").fill("histor")
    page.get_by_role("button", name="Run it for real").click()
    expect(page.get_by_text("type the bucket's name, history, to confirm")).to_be_visible()
    assert not Job.objects.filter(kind=Job.REENCRYPT, dry_run=False).exists()
    assert len(versions(cloud_connection, "history")) == 6

    page.get_by_label("type the bucket's name").fill("history")
    page.get_by_role("button", name="Run it for real").click()
    expect(page.get_by_text("Completed: 100.0% done")).to_be_visible(timeout=60_000)
    job = Job.objects.get(kind=Job.REENCRYPT, dry_run=False)
    assert job.purge_history and job.state == Job.COMPLETED and plan.pk != job.pk
    assert versions(cloud_connection, "history") == [
        ("ledger/2023.csv", True, "SM4"),
        ("ledger/2024.csv", True, "SM4"),
    ]

    page.goto(f"{console_server}/buckets/{bucket.pk}/")
    page.get_by_role("link", name="Scan this bucket").first.click()
    page.get_by_role("button", name="Start scan").click()
    expect(page.get_by_text("Completed").first).to_be_visible(timeout=30_000)
    expect(page.get_by_role("region", name="Older versions (noncurrent)")).to_contain_text("No noncurrent versions")
    page.get_by_role("link", name="Compliance of every bucket").click()
    record = page.get_by_role("row", name="history")
    expect(record).to_contain_text("100.0%")
    expect(record).not_to_contain_text("Exposed history")
