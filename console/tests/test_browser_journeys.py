"""The three journeys a team runs, end to end in a real browser, each checked where it lands (localcloud through
oss2, the console's database): an Admin's first day, an Operator's compliance sweep, a Viewer's audit."""

import csv
import gzip
import io
import json
import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.services import create_user
from buckets.models import Bucket
from buckets.services import connection_advice as advice
from buckets.services.buckets import set_default_encryption
from cloud.oss import EncryptionRule, OssClient
from cloud.sse import Sse, parse
from console.testing.browser import log_in
from console.testing.cloud import new_bucket
from console.testing.jobs import fill, wait_for
from console.testing.waits import wait_until
from jobs.models import Job, Sweep
from jobs.services import jobs as job_services
from localcloud.accesskeys import create_access_key, set_policy

PASSWORD = "Journeys-Passw0rd-2026"
WRONG_SECRET = "Not-The-Secret-Of-This-Key-7"


def labelled(page, label: str):
    """The field labelled `label`, required or "(optional)"."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \(optional\))?$"))


def add_connection(page, base_url: str, name: str, access_key_id: str, secret: str, endpoint: str) -> None:
    page.goto(f"{base_url}/connections/new/")
    labelled(page, "Name").fill(name)
    labelled(page, "OSS endpoint").fill(endpoint)
    labelled(page, "Region").fill(settings.LOCALCLOUD_REGION)
    labelled(page, "AccessKey ID").fill(access_key_id)
    labelled(page, "AccessKey secret").fill(secret)
    page.get_by_role("button", name="Add", exact=True).click()


def downloaded_rows(page, link_name: str) -> list[dict]:
    with page.expect_download() as download:
        page.get_by_role("link", name=link_name).click()
    text = gzip.decompress(download.value.path().read_bytes()).decode()
    return list(csv.DictReader(io.StringIO(text)))


def encryption_in_the_cloud(connection, bucket: str) -> dict[str, str]:
    """Every object's encryption label, as oss2 lists and HEADs it."""
    oss = OssClient(connection)
    keys = [entry.key for entry in oss.list_objects(bucket, prefix="", token="", max_keys=1000, delimiter="").objects]
    return {key: Sse.of_headers(oss.head_object(bucket, key).headers).label() for key in keys}


def test_day_one_an_admin_connects_creates_a_bucket_proves_a_ram_policy_and_adds_an_operator(
    page, console_server, localcloud
):
    create_user(actor=None, username="ada", role="admin", password=PASSWORD)
    owner_key, owner_secret = create_access_key("the account owner")
    log_in(page, console_server, "ada", PASSWORD)

    add_connection(page, console_server, "prod", owner_key, WRONG_SECRET, localcloud)
    expect(page.get_by_text(advice.WRONG_SECRET).first).to_be_visible()
    labelled(page, "AccessKey secret").fill(owner_secret)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("heading", name="Test result: all checks passed")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Buckets").click()
    page.get_by_role("link", name="Create bucket").click()
    labelled(page, "Bucket name").fill("day-one")
    page.get_by_label("KMS", exact=True).check()
    page.get_by_label("SM4").check()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("Bucket day-one created on prod.")).to_be_visible()
    oss = OssClient(Bucket.objects.get(name="day-one").connection)
    rule = oss.get_encryption("day-one")
    assert (rule.algorithm, rule.kms_data_encryption) == ("KMS", "SM4")

    page.goto(f"{console_server}/keys/ram-policy/")
    page.get_by_label("Bucket", exact=True).select_option("day-one")
    for purpose in ("Set bucket encryption", "Upload objects", "Download objects"):
        page.get_by_label(purpose).uncheck()
    page.get_by_label("Everything this console does").check()
    page.get_by_label("KMS", exact=True).check()
    page.get_by_role("button", name="Show policy").click()
    policy = json.loads(page.get_by_label("Policy JSON").input_value())
    expect(page.get_by_text("The bucket list reads the connection's buckets").first).to_be_visible()

    # What the Admin does next in RAM, localcloud does here: a user whose key holds exactly that policy.
    limited_key, limited_secret = create_access_key("console user")
    set_policy(limited_key, policy)
    add_connection(page, console_server, "prod as console user", limited_key, limited_secret, localcloud)
    expect(page.get_by_role("heading", name="Test result: all checks passed")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Create user").click()
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Operator").check()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("they must choose their own at their first sign-in")).to_be_visible()


@pytest.mark.slow
def test_a_compliance_sweep_finds_the_gap_closes_it_with_evidence_and_the_record_stays_true(
    page, console_server, cloud_connection, worker
):
    for name in ("sweep-a", "sweep-b"):
        fill(new_bucket(cloud_connection, name, EncryptionRule("SM4")), 10)
    new_bucket(cloud_connection, "evidence")
    create_user(actor=None, username="otto", role="operator", password=PASSWORD)
    log_in(page, console_server, "otto", PASSWORD)

    page.goto(f"{console_server}/buckets/")
    page.get_by_role("button", name="Scan all buckets of every connection").click()
    expect(page.get_by_text("3 of 3 buckets finished")).to_be_visible(timeout=60_000)
    sweep = Sweep.objects.get()
    scan_of_a = Job.objects.get(kind=Job.SCAN, bucket="sweep-a")

    page.goto(f"{console_server}/buckets/{Bucket.objects.get(name='sweep-a').pk}/")
    page.get_by_role("link", name="Re-encrypt existing objects").click()
    expect(page.get_by_label("Verify when it ends: scan the objects it worked on")).to_be_checked()
    labelled(page, "Report bucket").select_option("evidence")
    labelled(page, "Report prefix").fill("audits/2026")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Completed: 100.0% done")).to_be_visible(timeout=60_000)
    job = Job.objects.get(kind=Job.REENCRYPT)

    rows = downloaded_rows(page, "Download per-object report (CSV, gzip)")
    in_the_cloud = encryption_in_the_cloud(cloud_connection, "sweep-a")
    assert {row["key"] for row in rows} == set(in_the_cloud) and len(rows) == 10
    assert set(in_the_cloud.values()) == {"OSS-managed SM4"}
    assert {row["encryption_after"] for row in rows} == {"OSS-managed SM4"}
    changed = [row for row in rows if row["outcome"] == "reencrypted"]
    assert changed and all(row["request_id"] and row["encryption_before"] != "OSS-managed SM4" for row in changed)
    evidence = OssClient(cloud_connection).list_objects("evidence", "audits/2026/", "", 1000, delimiter="")
    assert f"audits/2026/job-{job.pk}/manifest.json" in {entry.key for entry in evidence.objects}

    verification = wait_for(wait_until(lambda: Job.objects.filter(verifies=job).first(), message="verification"))
    page.goto(f"{console_server}/jobs/{scan_of_a.pk}/")
    expect(page.get_by_text(f"job #{job.pk} re-encrypted {len(changed)} objects since")).to_be_visible()
    page.goto(f"{console_server}/jobs/compliance/")
    record = page.get_by_role("row", name=re.compile("^sweep-a"))
    expect(record).to_contain_text("100.0%")
    expect(record).to_contain_text(f"Scan #{verification.pk}")
    page.goto(f"{console_server}/jobs/sweeps/{sweep.pk}/")
    expect(page.get_by_role("heading", name="Combined result", exact=True)).to_be_visible()


def test_an_audit_reads_who_changed_what_proves_it_with_the_report_and_is_refused_a_change(
    page, console_server, cloud_connection, queued
):
    ledger = new_bucket(cloud_connection, "ledger-2026")
    fill(ledger, 6)
    evidence = new_bucket(cloud_connection, "evidence")
    admin = create_user(actor=None, username="ada", role="admin", password=PASSWORD).user
    set_default_encryption(ledger, parse("oss", "SM4"), admin)
    job = job_services.create_job(
        actor=admin,
        connection=cloud_connection,
        bucket=ledger.name,
        spec=job_services.Spec(report_bucket=evidence.name, report_prefix="audit"),
    )
    queued()
    create_user(actor=None, username="vera", role="viewer", password=PASSWORD)
    log_in(page, console_server, "vera", PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    labelled(page, "Bucket contains").fill("LEDG")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Default encryption of bucket ledger-2026: None → OSS-managed SM4")).to_be_visible()
    expect(page.get_by_role("cell", name="Re-encryption job started")).to_be_visible()

    labelled(page, "From").fill("yesterday")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Default encryption of bucket ledger-2026")).to_have_count(0)
    expect(page.locator(".error, [role=alert]").first).to_be_visible()

    page.goto(f"{console_server}/jobs/{job.pk}/")
    rows = downloaded_rows(page, "Download per-object report (CSV, gzip)")
    in_the_cloud = encryption_in_the_cloud(cloud_connection, ledger.name)
    assert {row["key"]: row["encryption_after"] for row in rows} == in_the_cloud
    assert set(in_the_cloud.values()) == {"OSS-managed SM4"}

    page.goto(f"{console_server}/buckets/{ledger.pk}/encryption/")
    expect(page.get_by_text("needs the Operator role; you are a Viewer")).to_be_visible()
    assert OssClient(cloud_connection).get_encryption(ledger.name).algorithm == "SM4"
