"""Every jobs form and transition in a real browser, each checked where it lands: object headers in localcloud
through the console's OSS client, jobs and their counts in the database, schedules in the Schedule model and its
django-celery-beat entry. Every distinct jobs page passes axe-core.

No timed assertions: a job is made slow with a low OSS request rate, and the tests wait for states and compare
counts with what the objects show."""

import re

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from playwright.sync_api import expect

from accounts.services import create_user
from buckets.models import Bucket, Connection
from cloud.kms import KmsClient
from cloud.oss import OssClient
from console.testing.browser import assert_accessible, log_in
from console.testing.cloud import named_key, new_bucket
from console.testing.jobs import fill, settled
from console.testing.waits import wait_until
from encryption.services import master_keys
from jobs import selectors
from jobs.models import Job, Schedule

PASSWORD = "Browser-Passw0rd-12"
SSE = "x-oss-server-side-encryption"
pytestmark = pytest.mark.slow


def operator_logs_in(page, console_server, name: str = "oona") -> None:
    create_user(actor=None, username=name, role="operator", password=PASSWORD)
    log_in(page, console_server, name, PASSWORD)


def archive_connection(cloud_connection) -> Connection:
    """A second connection, which localcloud refuses (unknown access key): the console keeps the one bucket it last
    saw there, `archive-only`."""
    archive = Connection(name="archive", oss_endpoint=cloud_connection.oss_endpoint, region="cn-hangzhou")
    archive.set_credentials("LTAI-not-a-key", "not-a-secret")
    archive.save()
    Bucket.objects.create(connection=archive, name="archive-only", region="cn-hangzhou", refreshed_at=timezone.now())
    return archive


def heads(connection, bucket: str, keys) -> dict[str, tuple[str, str, str]]:
    """Each object's ETag, SSE method and KMS key id, as OSS answers a HEAD."""
    oss = OssClient(connection)
    found = {}
    for key in keys:
        head = oss.head_object(bucket, key)
        found[key] = (head.etag, head.header(SSE), head.header("x-oss-server-side-encryption-key-id"))
    return found


def count(page, outcome: str):
    return page.locator(f'[data-progress-count="{outcome}"]')


def summary_has_focus(page) -> bool:
    return page.evaluate("document.activeElement.hasAttribute('data-error-summary')")


def test_a_job_on_objects_under_a_disabled_key_is_chosen_from_the_selects_dry_run_run_and_retried(
    page, console_server, cloud_connection, worker
):
    new_bucket(cloud_connection, "ledger")
    retired = named_key(cloud_connection, "alias/ledger-2024")
    oss = OssClient(cloud_connection)
    keys = [f"books/entry-{index}.csv" for index in range(6)]
    under_retired = keys[::2]
    for key in keys:
        kms = {SSE: "KMS", "x-oss-server-side-encryption-key-id": retired} if key in under_retired else {}
        oss.put_object("ledger", key, f"{key}\n".encode(), kms)
    KmsClient(cloud_connection).disable_key(retired)
    archive_connection(cloud_connection)
    before = heads(cloud_connection, "ledger", keys)
    operator_logs_in(page, console_server)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    assert_accessible(page)
    page.get_by_role("link", name="New re-encryption job").click()
    page.get_by_label("Prefixes").fill("books/")
    # Another connection: the form comes back with its buckets, and what was typed.
    page.get_by_label("Connection").select_option(label="archive")
    expect(page.get_by_label("Bucket", exact=True).locator("option")).to_have_text(
        ["Choose a bucket", "archive-only (cn-hangzhou, default: None)"]
    )
    expect(page.get_by_label("Prefixes")).to_have_value("books/")
    expect(page.get_by_label("Connection")).to_be_focused()
    page.get_by_label("Connection").select_option(label="local")
    expect(page.get_by_label("Bucket", exact=True).locator("option", has_text="ledger")).to_have_count(1)
    expect(page.get_by_label("Prefixes")).to_have_value("books/")

    page.get_by_label("Bucket", exact=True).select_option("ledger")
    page.get_by_label("Objects under a given KMS key").check()
    page.get_by_label("CMK to select by").select_option(label=f"alias/ledger-2024({retired}), disabled")
    page.get_by_label("An explicit encryption").check()
    page.get_by_label("OSS-managed").check()
    page.get_by_label("SM4", exact=True).check()
    assert_accessible(page)
    page.get_by_role("button", name="Dry run").click()

    # The dry run: a plan, live counts of what a real run would do, and nothing written.
    expect(page.get_by_text("Completed: 100.0% done")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Plan", exact=True)).to_be_visible()
    planned = Job.objects.get(dry_run=True)
    assert (planned.connection, planned.bucket, planned.select_key_id) == (cloud_connection, "ledger", retired)
    assert selectors.progress(planned).counts()["planned"] == 3
    expect(count(page, "planned")).to_have_text("3")
    expect(count(page, "filtered")).to_have_text("3")
    assert heads(cloud_connection, "ledger", keys) == before
    assert_accessible(page)

    # For real: the objects under the disabled key cannot be read, so they fail and stay as they were.
    page.get_by_role("button", name="Run it for real").click()
    expect(page.get_by_text("Completed with errors: 100.0% done")).to_be_visible(timeout=30_000)
    real = Job.objects.get(dry_run=False, kind=Job.REENCRYPT)
    assert real.state == Job.COMPLETED_WITH_ERRORS and selectors.progress(real).counts()["failed"] == 3
    expect(count(page, "failed")).to_have_text("3")
    expect(count(page, "reencrypted")).to_have_text("0")
    expect(page.get_by_role("cell", name="forbidden by kms").first).to_be_visible()
    assert heads(cloud_connection, "ledger", keys) == before
    assert_accessible(page)

    # The key is usable again: "Retry failed objects" re-encrypts exactly those three.
    KmsClient(cloud_connection).enable_key(retired)
    page.get_by_role("button", name="Retry failed objects").click()
    expect(page.get_by_text(f"the failed objects of job #{real.pk} (3 objects)")).to_be_visible()
    expect(page.get_by_text("Completed: 100.0% done")).to_be_visible(timeout=30_000)
    retry = Job.objects.get(retry_of=real)
    assert retry.state == Job.COMPLETED and selectors.progress(retry).counts()["reencrypted"] == 3
    expect(count(page, "reencrypted")).to_have_text("3")
    after = heads(cloud_connection, "ledger", keys)
    assert {key: after[key][1:] for key in under_retired} == dict.fromkeys(under_retired, ("SM4", ""))
    assert {key: after[key] for key in keys if key not in under_retired} == {
        key: before[key] for key in keys if key not in under_retired
    }


def test_a_scan_then_a_slow_job_from_its_result_is_paused_resumed_and_cancelled(
    page, console_server, cloud_connection, worker
):
    bucket = new_bucket(cloud_connection, "census")
    keys = fill(bucket, 20, prefix="people/")  # 4 each: none, AES256, SM4, KMS, KMS SM4
    operator_logs_in(page, console_server)

    page.goto(f"{console_server}/jobs/")
    page.get_by_role("link", name="New scan").click()
    page.get_by_label("Bucket", exact=True).select_option("census")
    assert_accessible(page)
    page.get_by_role("button", name="Start scan").click()
    expect(page.get_by_role("heading", name="Result", exact=True)).to_be_visible(timeout=30_000)
    scan = Job.objects.get(kind=Job.SCAN)
    summary = selectors.summarise_scan(scan)
    unencrypted = [key for key, (_, method, _) in heads(cloud_connection, "census", keys).items() if not method]
    assert (summary.objects, summary.not_matching) == (20, len(unencrypted)) == (20, 4)
    expect(page.get_by_text("80.0%").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Compliance of every bucket").click()
    expect(page.get_by_role("link", name=f"Scan #{scan.pk}")).to_be_visible()
    assert_accessible(page)
    page.go_back()

    # The scan's link prefills the job form; the job is slowed down to one OSS request a second.
    page.get_by_role("link", name="Re-encrypt what does not match").click()
    expect(page.get_by_label("Bucket", exact=True)).to_have_value("census")
    expect(page.get_by_label("An explicit encryption")).to_be_checked()
    page.get_by_label("OSS-managed").check()
    page.get_by_label("AES256", exact=True).check()
    page.get_by_text("Limits:").click()
    page.get_by_label("Concurrency").fill("1")
    page.get_by_label("OSS requests per second").fill("1")
    page.get_by_role("button", name="Start").click()

    expect(page.get_by_role("heading", name=re.compile("Re-encryption job"))).to_be_visible()
    job = Job.objects.get(kind=Job.REENCRYPT)
    assert (job.bucket, job.requests_per_second, job.resolved_label) == ("census", 1, "OSS-managed AES256")
    assert_accessible(page)
    expect(count(page, "reencrypted")).not_to_have_text("0", timeout=30_000)  # the page follows the job live

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text(f"Job #{job.pk} paused: Running → Paused.")).to_be_visible()
    assert Job.objects.get(pk=job.pk).state == Job.PAUSED
    wait_until(lambda: settled(job), message=f"job {job.pk} to settle after the pause")
    done = selectors.progress(job).counts()["reencrypted"]
    aes256 = [method for _, method, _ in heads(cloud_connection, "census", keys).values()].count("AES256")
    assert aes256 == 4 + done  # 4 were AES256 already
    page.reload()
    expect(count(page, "reencrypted")).to_have_text(str(done))

    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text(f"Job #{job.pk} resumed: Paused → Running.")).to_be_visible()
    assert Job.objects.get(pk=job.pk).state == Job.RUNNING

    page.get_by_role("button", name="Cancel job").click()
    expect(page.get_by_text(re.compile(rf"Job #{job.pk} cancelled: Running → Cancell"))).to_be_visible()
    expect(page.locator("h1 .badge")).to_have_text("Cancelled", timeout=30_000)
    job = Job.objects.get(pk=job.pk)
    done = selectors.progress(job).counts()["reencrypted"]
    aes256 = [method for _, method, _ in heads(cloud_connection, "census", keys).values()].count("AES256")
    assert job.state == Job.CANCELLED and aes256 == 4 + done and done < 16  # the rest was left as it was
    expect(count(page, "reencrypted")).to_have_text(str(done))
    assert_accessible(page)


def test_schedules_are_created_edited_and_deleted_and_refused_forms_create_nothing(
    page, console_server, cloud_connection, admin
):
    new_bucket(cloud_connection, "nightly")
    archive_connection(cloud_connection)
    master_keys.generate_rsa(actor=admin, name="forms 2025", matdesc={"year": "2025"})
    operator_logs_in(page, console_server)

    # Refused job forms: the summary takes the focus and nothing is created.
    page.goto(f"{console_server}/jobs/new/?connection={cloud_connection.pk}&bucket=nightly")
    page.get_by_label("Minimum size (bytes)").fill("500")
    page.get_by_label("Maximum size (bytes)").fill("100")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("[data-error-summary]")).to_contain_text("The minimum size is above the maximum size")
    assert summary_has_focus(page)
    assert_accessible(page)
    # A page that still offers a bucket of another connection (or a forged post): refused by the server.
    page.get_by_label("Bucket", exact=True).evaluate(
        "select => { select.add(new Option('archive-only', 'archive-only')); select.value = 'archive-only'; }"
    )
    page.get_by_label("Maximum size (bytes)").fill("")
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator("[data-error-summary]")).to_contain_text("Connection local has no bucket 'archive-only'")
    assert summary_has_focus(page)
    assert not Job.objects.exists()

    page.goto(f"{console_server}/jobs/rewrap/?connection={cloud_connection.pk}&bucket=nightly")
    page.get_by_label("From master key").select_option(label="forms 2025")
    page.get_by_label("To master key").select_option(label="forms 2025")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("[data-error-summary]")).to_contain_text(
        "The master keys to rewrap from and to are the same key."
    )
    assert summary_has_focus(page)
    assert_accessible(page)
    assert not Job.objects.exists()

    # A schedule on a crontab, created from the list.
    page.goto(f"{console_server}/jobs/schedules/")
    assert_accessible(page)
    page.get_by_role("link", name="New schedule").click()
    page.get_by_label("Name", exact=True).fill("Nightly scan")
    page.get_by_label("Compliance scan").check()
    page.get_by_label("Connection").select_option(label="local")  # the first one, archive, is offered first
    page.get_by_label("Bucket", exact=True).select_option("nightly")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Nightly scan")
    page.get_by_label("Crontab (experts)").check()
    page.get_by_role("textbox", name="Crontab").fill("30 3 * * *")
    assert_accessible(page)
    page.get_by_role("button", name="Create schedule").click()
    expect(page.get_by_text("Schedule Nightly scan created")).to_be_visible()
    schedule = Schedule.objects.get()
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert (schedule.kind, schedule.bucket, schedule.crontab, schedule.enabled) == (
        Job.SCAN,
        "nightly",
        "30 3 * * *",
        True,
    )
    assert (task.crontab.minute, task.crontab.hour, task.interval, task.enabled) == ("30", "3", None, True)

    # Neither a crontab nor an interval: refused, nothing changed. The saved crontab is shown as the Daily preset.
    page.get_by_role("link", name="Edit Nightly scan").click()
    expect(page.get_by_label("Daily")).to_be_checked()
    expect(page.get_by_label("At", exact=True)).to_have_value("03:30")
    page.get_by_label("Crontab (experts)").check()
    page.get_by_role("textbox", name="Crontab").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("[data-error-summary]")).to_contain_text("Give either a crontab or an interval")
    assert summary_has_focus(page)
    assert_accessible(page)
    assert Schedule.objects.get().crontab == "30 3 * * *"

    # Every 90 minutes, disabled.
    page.get_by_label("Every … minutes").check()
    page.get_by_label("Minutes between runs").fill("90")
    page.get_by_label("Enabled").uncheck()
    page.get_by_role("button", name="Save").click()
    changed = "timing: every day at 03:30 UTC → every 90 minutes; state: enabled → disabled"
    expect(page.get_by_text(changed)).to_be_visible()
    schedule.refresh_from_db()
    task.refresh_from_db()
    assert (schedule.crontab, schedule.interval_minutes, schedule.enabled) == ("", 90, False)
    assert (task.crontab, task.interval.every, task.interval.period, task.enabled) == (None, 90, "minutes", False)

    # Enabled again.
    page.get_by_role("link", name="Edit Nightly scan").click()
    page.get_by_label("Enabled").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Schedule Nightly scan saved: state: disabled → enabled.")).to_be_visible()
    task.refresh_from_db()
    assert Schedule.objects.get().enabled and task.enabled

    # Deleted: the schedule and its beat entry are gone.
    page.get_by_role("link", name="Delete Nightly scan").click()
    assert_accessible(page)
    page.get_by_role("button", name="Delete schedule").click()
    expect(page.get_by_text("Schedule Nightly scan deleted")).to_be_visible()
    assert not Schedule.objects.exists() and not PeriodicTask.objects.filter(pk=task.pk).exists()
