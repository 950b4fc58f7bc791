"""Job, scan, compliance and schedule pages: roles, forms, plan, progress, report, charts, links.

Jobs here run in-process: the tasks the services enqueue are kept by the `queued` fixture and worked through with
the same functions a worker calls (jobs.engine.page_worker.run_page, services.count_objects).
One slow test runs a real worker.
"""

import csv
import io
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from buckets.models import Bucket, Connection
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule
from console.testing.cloud import new_bucket
from console.testing.jobs import fill, job_form, named_key, schedule_form
from console.testing.waits import wait_until
from jobs.models import Job, ObjectOutcome, Schedule
from jobs.services import jobs as services
from jobs.services import schedules

OBJECTS = 10  # fill() cycles through 5 states: 2 objects each (none, AES256, SM4, KMS, KMS SM4)


@pytest.fixture
def mixed(cloud_connection, queued):
    """A bucket without default encryption holding objects in every state."""
    bucket = new_bucket(cloud_connection, "mixed")
    fill(bucket, OBJECTS)
    return bucket


def start(bucket, actor, dry_run=False, **spec):
    spec = {"target_mode": Job.TARGET_EXPLICIT, "target_method": "oss", "target_algorithm": "SM4", **spec}
    return services.create_job(
        actor=actor, connection=bucket.connection, bucket=bucket.name, spec=services.Spec(**spec), dry_run=dry_run
    )


def scan(bucket, actor, drain):
    job = services.create_job(
        actor=actor, connection=bucket.connection, bucket=bucket.name, spec=services.Spec(kind=Job.SCAN)
    )
    drain()
    return Job.objects.get(pk=job.pk)


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# Roles


def test_viewers_read_the_pages_and_only_operators_get_the_buttons(client_as, viewer, operator, mixed):
    job = start(mixed, operator)

    page = html(client_as(viewer).get("/jobs/"))
    assert f'href="/jobs/{job.pk}/"' in page and "mixed" in page and "OSS-managed SM4" in page
    assert "New re-encryption job" not in page and "New scan" not in page
    detail = html(client_as(viewer).get(f"/jobs/{job.pk}/"))
    assert "Download report (CSV)" in detail and ">Pause<" not in detail and "Cancel job" not in detail
    assert html(client_as(viewer).get("/jobs/schedules/")) and html(client_as(viewer).get("/jobs/compliance/"))

    page = html(client_as(operator).get("/jobs/"))
    assert "New re-encryption job" in page and "New scan" in page
    detail = html(client_as(operator).get(f"/jobs/{job.pk}/"))
    assert ">Pause<" in detail and "Cancel job" in detail


def test_viewers_cannot_start_steer_or_schedule(client_as, viewer, operator, mixed):
    job = start(mixed, operator)
    schedule = schedules.save_schedule(
        actor=operator,
        connection=mixed.connection,
        bucket="mixed",
        name="nightly",
        spec=services.Spec(kind=Job.SCAN),
        crontab="0 2 * * *",
    )
    client = client_as(viewer)

    edit = f"/jobs/schedules/{schedule.pk}/"
    for url in ("/jobs/new/", "/jobs/scan/", "/jobs/schedules/new/", edit, f"{edit}delete/"):
        assert client.get(url).status_code == 403, url
    for url in ("/jobs/new/", "/jobs/scan/", "/jobs/schedules/new/"):
        assert client.post(url, job_form(mixed)).status_code == 403, url
    for action in ("pause", "resume", "cancel", "retry", "run"):
        assert client.post(f"/jobs/{job.pk}/{action}/").status_code == 403, action
    assert client.post(f"/jobs/schedules/{schedule.pk}/", schedule_form(mixed)).status_code == 403
    assert client.post(f"/jobs/schedules/{schedule.pk}/delete/").status_code == 403
    assert Job.objects.count() == 1 and Job.objects.get().state == Job.RUNNING
    assert Schedule.objects.filter(pk=schedule.pk).exists()


@pytest.mark.django_db
def test_users_without_a_role_and_anonymous_ones_see_nothing(client, client_as, outsider):
    assert client.get("/jobs/").status_code == 302
    assert client.get("/jobs/1/progress/").status_code == 302
    outsider_client = client_as(outsider)
    for url in ("/jobs/", "/jobs/compliance/", "/jobs/schedules/", "/jobs/new/"):
        assert outsider_client.get(url).status_code == 403, url


@pytest.mark.django_db
def test_unknown_jobs_and_schedules_are_404(client_as, operator):
    client = client_as(operator)
    assert client.get("/jobs/999/").status_code == 404
    assert client.get("/jobs/999/progress/").status_code == 404
    assert client.get("/jobs/999/report.csv").status_code == 404
    assert client.post("/jobs/999/pause/").status_code == 404
    assert client.get("/jobs/schedules/999/").status_code == 404


# The new-job form


def test_the_form_is_prefilled_from_a_bucket_link(client_as, operator, mixed):
    page = html(client_as(operator).get(f"/jobs/new/?connection={mixed.connection_id}&bucket=mixed&prefix=data/"))

    assert '<option value="mixed" selected data-region="cn-hangzhou">mixed (cn-hangzhou, default: None)' in page
    assert f'<option value="{mixed.connection_id}" selected>' in page
    assert "data/</textarea>" in page
    assert 'name="run" value="dry-run"' in page and 'name="run" value="start"' in page
    assert 'name="target-method"' in page and 'name="use_connection"' in page


@pytest.fixture
def archive(cloud_connection):
    """A second connection the test's localcloud refuses (unknown access key), so its snapshot keeps the one bucket
    the console last saw there: `archive-only`."""
    other = Connection(name="archive", oss_endpoint=cloud_connection.oss_endpoint, region="cn-hangzhou")
    other.set_credentials("LTAI-not-a-key", "not-a-secret")
    other.save()
    Bucket.objects.create(connection=other, name="archive-only", region="cn-hangzhou", refreshed_at=timezone.now())
    return other


def options(page: str, name: str) -> list[str]:
    """The values a select of the page offers."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select)


def test_the_forms_offer_the_buckets_and_keys_of_the_connection_shown(client_as, operator, mixed, archive):
    key_id = named_key(mixed.connection)
    retired = named_key(mixed.connection, "alias/retired")
    KmsClient(mixed.connection).disable_key(retired)
    elsewhere = KmsClient(mixed.connection, "cn-shanghai").create_key(description="another region")[0].key_id
    default_key = KmsClient(mixed.connection).default_oss_key().key_id  # fill() put objects under it
    client = client_as(operator)

    page = html(client.get(f"/jobs/new/?connection={mixed.connection_id}&bucket=mixed"))
    assert options(page, "bucket") == ["", "mixed"]
    assert options(page, "select_key_id") == ["", default_key, key_id, retired]
    assert f">alias/acs/oss({default_key})</option>" in page and f">alias/retired({retired}), disabled</option>" in page
    assert elsewhere not in page

    for url in ("/jobs/scan/", "/jobs/schedules/new/", "/jobs/rewrap/"):
        assert options(html(client.get(f"{url}?connection={archive.pk}")), "bucket") == ["", "archive-only"], url
    page = html(client.get(f"/jobs/new/?connection={archive.pk}&bucket=mixed&select=key&select_key_id={key_id}"))
    assert options(page, "bucket") == ["", "archive-only"] and options(page, "select_key_id") == [""]
    assert "The buckets of archive could not be listed again" in page
    assert "Connection archive has no bucket <code>mixed</code>" in page
    assert f"<code>{key_id}</code> is not a CMK of archive in cn-hangzhou" in page


def test_a_bucket_or_key_not_of_the_posted_connection_is_refused(client_as, operator, admin, mixed, archive):
    from encryption.services import master_keys

    other_region = KmsClient(mixed.connection, "cn-shanghai").create_key(description="another region")[0].key_id
    old = master_keys.generate_rsa(actor=admin, name="refusal old", matdesc={"k": "r-old"})
    new = master_keys.generate_rsa(actor=admin, name="refusal new", matdesc={"k": "r-new"})
    client = client_as(operator)
    not_local = "Connection local has no bucket &#x27;archive-only&#x27;"
    not_archive = "Connection archive has no bucket &#x27;mixed&#x27;"
    rewrap = {"prefixes": "", "rewrap_from": old.pk, "rewrap_to": new.pk, **job_form(mixed)}

    for url, form in (
        ("/jobs/new/", job_form(mixed)),
        ("/jobs/scan/", job_form(mixed)),
        ("/jobs/schedules/new/", schedule_form(mixed)),
        ("/jobs/rewrap/", rewrap),
    ):
        assert not_local in html(client.post(url, {**form, "bucket": "archive-only"})), url
        assert not_archive in html(client.post(url, {**form, "connection": archive.pk})), url
    for url, form in (("/jobs/new/", job_form(mixed)), ("/jobs/schedules/new/", schedule_form(mixed))):
        page = html(client.post(url, {**form, "select": "key", "select_key_id": other_region}))
        assert f"&#x27;{other_region}&#x27; is not a CMK of connection local in cn-hangzhou" in page, url
        assert "data-error-summary" in page

    assert not Job.objects.exists() and not Schedule.objects.exists()


def test_use_this_connection_shows_the_form_for_it_with_what_was_entered(client_as, operator, mixed, archive):
    schedule = schedules.save_schedule(
        actor=operator,
        connection=mixed.connection,
        bucket="mixed",
        name="nightly",
        spec=services.Spec(kind=Job.SCAN),
        crontab="0 2 * * *",
    )
    client = client_as(operator)
    sent_back = schedule_form(mixed, connection=archive.pk, name="Kept name", crontab="5 4 * * *", prefixes="a/\nb/")
    sent_back |= {"csrfmiddlewaretoken": "x", "use_connection": "connection", "target-algorithm": "AES256"}
    del sent_back["enabled"]  # unchecked: not sent

    for url in ("/jobs/schedules/new/", f"/jobs/schedules/{schedule.pk}/"):
        response = client.get(url, sent_back)
        assert response.status_code == 302 and "csrfmiddlewaretoken" not in response.url
        page = html(client.get(response.url))
        assert options(page, "bucket") == ["", "archive-only"], url
        assert f'<option value="{archive.pk}" selected>archive</option>' in page
        assert 'value="Kept name"' in page and 'value="5 4 * * *"' in page and "a/\nb/</textarea>" in page
        assert 'id="id_enabled">' in page  # not checked
        assert 'value="unencrypted" id="id_select_1" required checked' in page
        assert 'value="AES256" id="id_target-algorithm_0" checked' in page
    schedule.refresh_from_db()
    assert (schedule.connection, schedule.name) == (mixed.connection, "nightly")


def test_an_operator_starts_a_job_and_lands_on_its_page(client_as, operator, mixed):
    key_id = named_key(mixed.connection)
    client = client_as(operator)

    form = job_form(
        mixed,
        prefixes="data/\nlogs/\n",
        min_size="10",
        **{"target-method": "kms", "target-algorithm": "AES256", "target-key_id": key_id},
    )
    response = client.post("/jobs/new/", form)

    job = Job.objects.get()
    assert response.status_code == 302 and response.url == f"/jobs/{job.pk}/"
    assert (job.kind, job.dry_run, job.created_by) == (Job.REENCRYPT, False, operator)
    assert job.prefixes == ["data/", "logs/"] and job.min_size == 10 and job.max_size is None
    assert (job.target_method, job.target_algorithm, job.target_key_id) == ("kms", "AES256", key_id)
    assert job.resolved_label == f"KMS AES256 alias/jobs({key_id})"
    assert (job.concurrency, job.requests_per_second, job.kms_per_second) == (4, 0, 0)
    page = html(client.get(response.url))
    assert f"Job #{job.pk} started on mixed" in page


def test_the_bucket_default_as_target_ignores_the_encryption_fields(client_as, operator, cloud_connection, queued):
    bucket = new_bucket(cloud_connection, "defaulted", EncryptionRule("SM4"))
    form = job_form(bucket, target_mode="bucket-default", select="unencrypted", **{"target-method": ""})

    response = client_as(operator).post("/jobs/new/", form)

    job = Job.objects.get()
    assert response.status_code == 302
    assert (job.target_mode, job.target_method, job.select) == ("bucket-default", "", "unencrypted")
    assert job.resolved_label == "OSS-managed SM4"


BAD_INPUT = [
    ({"min_size": "500", "max_size": "100"}, "The minimum size is above the maximum size"),
    (
        {"target-method": "kms", "target-key_id": "no-such-key"},
        "The key no-such-key is not one of the keys offered now",
    ),
    ({"target_mode": "bucket-default"}, "has no default encryption"),
    ({"bucket": "missing"}, "has no bucket &#x27;missing&#x27;"),
    ({"select": "key"}, "Name the KMS key whose objects to select."),
    ({"select": "algorithm"}, "Choose the algorithm whose objects to select"),
    ({"concurrency": "0"}, "Ensure this value is greater than or equal to 1."),
    ({"prefixes": "/rooted"}, "cannot start an object key"),
]


def test_bad_input_is_explained_kept_and_creates_nothing(client_as, operator, mixed):
    client = client_as(operator)
    for changes, message in BAD_INPUT:
        form = job_form(mixed, **{"prefixes": "keep/me/", "max_size": "100", **changes})

        page = html(client.post("/jobs/new/", form))

        assert message in page, changes
        assert f"{form['prefixes']}</textarea>" in page and 'name="max_size" value="100"' in page, changes
    assert not Job.objects.exists()


def test_a_dry_run_shows_the_plan_and_runs_for_real(client_as, operator, mixed, queued):
    client = client_as(operator)
    response = client.post("/jobs/new/", job_form(mixed, run="dry-run", check_after_copy="full"))
    planned = Job.objects.get()
    assert planned.dry_run and response.url == f"/jobs/{planned.pk}/"
    queued()

    page = html(client.get(response.url))
    assert f"Dry run #{planned.pk}" in page and "Plan" in page
    assert "<dt>To re-encrypt</dt><dd><strong>8</strong> objects" in page
    assert "<dt>Already compliant</dt><dd>2 objects</dd>" in page
    assert "<dt>OSS requests</dt><dd>about 36</dd>" in page  # 10 HEADs and ACL reads, a copy and a HEAD per rewrite
    assert "<dt>Check after each copy</dt><dd>By a second HEAD" in page
    assert "Run it for real" in page

    response = client.post(f"/jobs/{planned.pk}/run/")

    real = Job.objects.exclude(pk=planned.pk).get()
    assert response.url == f"/jobs/{real.pk}/"
    assert not real.dry_run and services.Spec.of(real) == services.Spec.of(planned)
    page = html(client.get(response.url))
    assert (
        f"started from dry run #{planned.pk}" in page and "<dt>Check after each copy</dt><dd>By a second HEAD" in page
    )
    assert '<span data-progress="requests_per_object">0.0</span> per object' in page  # nothing done yet


# Following a job


def test_a_running_jobs_page_polls_its_progress_and_refreshes_without_javascript(client_as, viewer, operator, ledger):
    job = start(ledger, operator)

    running = html(client_as(viewer).get(f"/jobs/{job.pk}/"))

    assert f'data-job-progress data-url="/jobs/{job.pk}/progress/"' in running
    assert 'role="status" aria-live="polite"' in running and "js/job-progress.js" in running
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in running


def test_a_finished_jobs_page_and_its_progress_json_tell_the_same(client_as, viewer, operator, mixed, queued):
    job = start(mixed, operator)
    client = client_as(viewer)
    queued()

    response = client.get(f"/jobs/{job.pk}/progress/")
    data = json.loads(response.content)
    assert response["Content-Type"] == "application/json" and "no-cache" in response["Cache-Control"]
    assert data["state"] == "completed" and data["finished"] is True and data["state_label"] == "Completed"
    assert (data["objects_done"], data["objects_total"], data["total_known"]) == (OBJECTS, OBJECTS, True)
    assert data["percent"] == 100.0 and data["errors"] == 0 and data["bytes_done"] == data["bytes_total"] > 0
    assert data["counts"]["reencrypted"] == 8 and data["counts"]["compliant"] == 2
    assert [(row["label"], row["count"]) for row in data["outcomes"]] == [
        ("Re-encrypted", 8),
        ("Already compliant", 2),
        ("Outside the filter", 0),
        ("Skipped", 0),
        ("Failed", 0),
    ]
    assert {"rate", "eta", "eta_seconds", "elapsed", "bytes_done_label"} <= data.keys()
    finished = html(client.get(f"/jobs/{job.pk}/"))
    assert '<span data-progress="objects_done">10</span> of <span data-progress="objects_total">10</span>' in finished
    assert "http-equiv" not in finished and "100.0% done" in finished
    assert '<dt>Re-encrypted</dt>\n    <dd><span data-progress-count="reencrypted">8</span>' in finished
    assert '<dt>Already compliant</dt>\n    <dd><span data-progress-count="compliant">2</span>' in finished


def test_a_dry_run_counts_what_a_real_run_would_do_and_skips_by_reason(client_as, viewer, operator, mixed, queued):
    from cloud.oss import OssClient

    OssClient(mixed.connection).put_object("mixed", "data/cold.csv", b"cold", {"x-oss-storage-class": "Archive"})
    job = start(mixed, operator, dry_run=True, select="unencrypted")
    queued()

    data = json.loads(client_as(viewer).get(f"/jobs/{job.pk}/progress/").content)
    assert [(row["label"], row["count"]) for row in data["outcomes"]] == [
        ("Would be re-encrypted", 2),
        ("Already compliant", 0),
        ("Outside the filter", 8),
        ("Skipped", 1),
        ("Failed", 0),
    ]
    assert data["skipped_reasons"] == [{"reason": "Archive object not restored", "count": 1}]
    page = html(client_as(viewer).get(f"/jobs/{job.pk}/"))
    assert "What a real run would do" in page and "<li>1 × Archive object not restored</li>" in page


@pytest.fixture
def ledger(cloud_connection, queued):
    """An empty bucket: enough for jobs and schedules whose objects are never worked on."""
    return new_bucket(cloud_connection, "ledger")


def test_pausing_a_job_says_what_workers_do_and_offers_resume(client_as, operator, ledger):
    job = start(ledger, operator)

    response = client_as(operator).post(f"/jobs/{job.pk}/pause/", follow=True)

    assert messages_of(response) == [
        f"Job #{job.pk} paused: Running → Paused. Workers stop after the object they are on."
    ]
    page = html(response)
    assert ">Resume<" in page and ">Pause<" not in page and Job.objects.get().state == Job.PAUSED


def test_resuming_a_paused_job_runs_it_again(client_as, operator, ledger):
    job = start(ledger, operator)
    services.pause_job(job, operator)

    response = client_as(operator).post(f"/jobs/{job.pk}/resume/", follow=True)

    assert messages_of(response) == [f"Job #{job.pk} resumed: Paused → Running."]
    assert Job.objects.get().state == Job.RUNNING


def test_cancelling_a_job_says_that_objects_already_done_stay_done(client_as, operator, ledger):
    job = start(ledger, operator)

    response = client_as(operator).post(f"/jobs/{job.pk}/cancel/", follow=True)

    state = Job.objects.get().get_state_display()
    assert messages_of(response) == [f"Job #{job.pk} cancelled: Running → {state}. Objects already done stay done."]
    assert state in ("Cancelling", "Cancelled")


def test_a_state_change_the_job_does_not_allow_is_refused_with_a_message(client_as, operator, ledger):
    job = start(ledger, operator)
    services.cancel_job(job, operator)

    refused = client_as(operator).post(f"/jobs/{job.pk}/resume/", follow=True)

    assert refused.status_code == 200
    assert "it cannot be resumed now" in " ".join(messages_of(refused))


@pytest.fixture
def failed_job(operator, mixed, queued) -> Job:
    """A job to a KMS key disabled before it ran: completed with errors, every KMS write failed."""
    key_id = named_key(mixed.connection)
    job = start(mixed, operator, target_method="kms", target_algorithm="AES256", target_key_id=key_id)
    KmsClient(mixed.connection).disable_key(key_id)
    queued()
    job.refresh_from_db()
    assert job.state == Job.COMPLETED_WITH_ERRORS
    return job


def test_failed_objects_are_listed_with_their_reason_and_request_id(client_as, operator, failed_job):
    page = html(client_as(operator).get(f"/jobs/{failed_job.pk}/?outcome=failed"))

    failed = failed_job.outcomes.filter(outcome=ObjectOutcome.FAILED).first()
    assert f"<code>{failed.key}</code>" in page and failed.reason in page
    assert failed.request_id and f"<code>{failed.request_id}</code>" in page
    assert "Retry failed objects" in page


def test_the_report_is_a_csv_of_every_outcome_named_after_the_job(client_as, operator, failed_job):
    report = client_as(operator).get(f"/jobs/{failed_job.pk}/report.csv")

    assert report.status_code == 200 and report["Content-Type"] == "text/csv; charset=utf-8"
    assert report["Content-Disposition"] == f'attachment; filename="reencrypt-{failed_job.pk}-mixed.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows[0] == ["key", "size", "outcome", "encryption_before", "reason", "code", "request_id", "at"]
    failed = failed_job.outcomes.filter(outcome=ObjectOutcome.FAILED).first()
    assert [failed.key, str(failed.size), "failed"] == rows[1][:3]


def test_retrying_failures_starts_a_follow_up_job_linked_both_ways(client_as, operator, mixed, queued, failed_job):
    client = client_as(operator)
    KmsClient(mixed.connection).enable_key(failed_job.target_key_id)

    response = client.post(f"/jobs/{failed_job.pk}/retry/")

    follow_up = Job.objects.get(retry_of=failed_job)
    assert response.url == f"/jobs/{follow_up.pk}/"
    queued()
    page = html(client.get(response.url))
    assert f'the failed objects of <a href="/jobs/{failed_job.pk}/">job #{failed_job.pk}</a>' in page
    assert Job.objects.get(pk=follow_up.pk).state == Job.COMPLETED
    assert f'<a href="/jobs/{follow_up.pk}/">#{follow_up.pk}</a>' in html(client.get(f"/jobs/{failed_job.pk}/"))


def test_the_list_filters_by_state_kind_and_bucket(client_as, viewer, operator, mixed, queued):
    done = start(mixed, operator)
    scanned = scan(new_bucket(mixed.connection, "other"), operator, queued)
    running = start(mixed, operator)
    client = client_as(viewer)

    def listed(query):
        page = html(client.get(f"/jobs/?{query}"))
        return {job.pk for job in (done, running, scanned) if f'href="/jobs/{job.pk}/"' in page}

    assert listed("") == {done.pk, running.pk, scanned.pk}
    assert listed("state=completed") == {done.pk, scanned.pk}
    assert listed("kind=scan") == {scanned.pk}
    assert listed("bucket=mixed") == {done.pk, running.pk}
    assert listed(f"connection={mixed.connection_id}&bucket=never-ran") == set()
    assert "Select a valid choice. bogus is not one of the available choices." in html(
        client.get("/jobs/?state=bogus&page=abc")
    )


# Scans and compliance


def test_a_scan_shows_states_as_a_chart_and_what_does_not_match(client_as, operator, mixed, queued):
    client = client_as(operator)
    response = client.post("/jobs/scan/", job_form(mixed, target_mode="bucket-default"))
    first = Job.objects.get()
    assert first.kind == Job.SCAN and response.url == f"/jobs/{first.pk}/"
    queued()
    second = scan(mixed, operator, queued)

    page = html(client.get(f"/jobs/{second.pk}/"))
    assert "Any server-side encryption (the bucket has no default)" in page
    assert '<svg class="stacked-bar"' in page and 'role="img"' in page
    for state in ("None", "OSS-managed AES256", "OSS-managed SM4"):
        assert f'<tr data-state="{state}">' in page
    assert '<span class="big">80.0%</span> of objects compliant' in page
    assert page.count("<code>data/object-000") >= 2  # the two unencrypted objects do not match
    assert page.count("<rect x=") >= 2 and f"Scan #{first.pk}," in page  # the trend has both scans
    assert "Re-encrypt what does not match" in page
    assert f"/jobs/new/?connection={mixed.connection_id}&amp;bucket=mixed&amp;select=not-matching" in page

    report = client.get(f"/jobs/{second.pk}/report.csv")
    assert "data/object-0000.csv" in b"".join(report.streaming_content).decode()


def test_compliance_shows_each_buckets_latest_scan_and_on_the_overview(
    client_as, viewer, operator, outsider, mixed, queued
):
    scanned = scan(mixed, operator, queued)
    new_bucket(mixed.connection, "never")
    client = client_as(viewer)

    page = html(client.get("/jobs/compliance/"))
    assert f'href="/buckets/{mixed.pk}/">mixed</a>' in page and "80.0%" in page
    assert f'href="/jobs/{scanned.pk}/">Scan #{scanned.pk}</a>' in page and '<svg class="stacked-bar"' in page
    assert "Never scanned" in page and ">never</a>" in page and "Scan never" not in page

    overview = html(client.get("/"))
    assert "Object encryption compliance" in overview and "80.0%" in overview
    assert "Scan never" in html(client_as(operator).get("/jobs/compliance/"))
    assert "Object encryption compliance" not in html(client_as(outsider).get("/"))


# Buckets link to jobs


def test_the_bucket_page_links_to_scans_and_jobs(client_as, viewer, operator, mixed, queued):
    query = f"connection={mixed.connection_id}&amp;bucket=mixed"

    page = html(client_as(operator).get(f"/buckets/{mixed.pk}/"))
    assert f'href="/jobs/scan/?{query}">Scan this bucket</a>' in page
    assert f'href="/jobs/new/?{query}">Re-encrypt existing objects</a>' in page
    assert "No finished scan of this bucket yet" in page

    scanned = scan(mixed, operator, queued)
    page = html(client_as(viewer).get(f"/buckets/{mixed.pk}/"))
    assert "Scan this bucket" not in page and "Re-encrypt existing objects" not in page
    assert f'href="/jobs/{scanned.pk}/">scan #{scanned.pk}</a>' in page and "<strong>80.0%</strong>" in page


def test_saving_a_default_offers_to_re_encrypt_existing_objects(client_as, operator, mixed):
    response = client_as(operator).post(
        f"/buckets/{mixed.pk}/encryption/", {"method": "oss", "algorithm": "AES256", "key_id": ""}
    )
    assert f'href="/jobs/new/?connection={mixed.connection_id}&amp;bucket=mixed">Re-encrypt existing objects' in html(
        response
    )


# Schedules


def test_an_operator_creates_a_schedule_from_the_form_and_is_told_what_it_will_do(client_as, operator, ledger):
    response = client_as(operator).post("/jobs/schedules/new/", schedule_form(ledger), follow=True)

    assert response.redirect_chain == [("/jobs/schedules/", 302)]
    assert messages_of(response) == [
        "Schedule Nightly logs created: Re-encrypt unencrypted objects under logs/ to OSS-managed SM4, "
        "every day at 02:00 UTC, enabled."
    ]
    schedule = Schedule.objects.get()
    assert (schedule.crontab, schedule.select, schedule.prefixes, schedule.enabled) == (
        "0 2 * * *",
        "unencrypted",
        ["logs/"],
        True,
    )
    assert schedule.periodic_task.crontab.hour == "2"


@pytest.fixture
def nightly(client_as, operator, ledger) -> Schedule:
    """The Nightly logs schedule, created through the form by an operator (who read the message it left)."""
    client_as(operator).post("/jobs/schedules/new/", schedule_form(ledger), follow=True)
    return Schedule.objects.get()


def test_viewers_see_each_schedules_timing_and_work_but_no_edit_link(client_as, viewer, nightly):
    listing = html(client_as(viewer).get("/jobs/schedules/"))

    assert "Nightly logs" in listing and "Every day at 02:00 UTC" in listing
    assert "Re-encrypt unencrypted objects under logs/ to OSS-managed SM4" in listing
    assert "Not run yet." in listing and "Edit" not in listing


def test_the_edit_form_shows_the_schedule(client_as, operator, nightly):
    assert 'value="Nightly logs"' in html(client_as(operator).get(f"/jobs/schedules/{nightly.pk}/"))


def test_an_invalid_crontab_is_refused_showing_what_was_typed(client_as, operator, ledger, nightly):
    refused = html(
        client_as(operator).post(f"/jobs/schedules/{nightly.pk}/", schedule_form(ledger, crontab="61 2 * * *"))
    )

    assert "Crontab &#x27;61 2 * * *&#x27; is not valid" in refused and 'value="61 2 * * *"' in refused
    assert Schedule.objects.get().crontab == "0 2 * * *"


def test_the_crontab_frequency_without_a_crontab_is_refused(client_as, operator, ledger, nightly):
    neither = html(
        client_as(operator).post(
            f"/jobs/schedules/{nightly.pk}/", schedule_form(ledger, crontab="", interval_minutes="60")
        )
    )

    assert "Give either a crontab or an interval in minutes, not both and not neither." in neither
    assert Schedule.objects.get().crontab == "0 2 * * *"


def test_saving_an_edited_schedule_tells_each_change_and_the_list_shows_the_new_timing(
    client_as, operator, ledger, nightly
):
    client = client_as(operator)

    response = client.post(
        f"/jobs/schedules/{nightly.pk}/",
        schedule_form(ledger, frequency="interval", crontab="0 3 * * *", interval_minutes="60", enabled=""),
        follow=True,
    )

    assert response.redirect_chain == [("/jobs/schedules/", 302)]
    assert messages_of(response) == [
        "Schedule Nightly logs saved: timing: every day at 02:00 UTC → every hour; state: enabled → disabled."
    ]
    nightly.refresh_from_db()
    assert (nightly.crontab, nightly.interval_minutes, nightly.enabled) == ("", 60, False)
    assert "Every hour" in html(client.get("/jobs/schedules/"))


def test_the_schedule_list_links_the_job_a_run_started(client_as, operator, nightly):
    run = schedules.run_schedule(nightly.pk)

    assert f'href="/jobs/{run.job_id}/">#{run.job_id}</a>' in html(client_as(operator).get("/jobs/schedules/"))


def test_deleting_a_schedule_asks_first_and_keeps_the_jobs_it_started(client_as, operator, nightly):
    client = client_as(operator)
    run = schedules.run_schedule(nightly.pk)

    assert "Delete schedule Nightly logs?" in html(client.get(f"/jobs/schedules/{nightly.pk}/delete/"))
    response = client.post(f"/jobs/schedules/{nightly.pk}/delete/", follow=True)

    assert "Schedule Nightly logs deleted" in " ".join(messages_of(response))
    assert not Schedule.objects.exists() and Job.objects.filter(pk=run.job_id).exists()


def test_a_scan_schedule_needs_no_selection(client_as, operator, mixed):
    response = client_as(operator).post(
        "/jobs/schedules/new/",
        schedule_form(mixed, schedule_kind="scan", select="key", target_mode="bucket-default", prefixes=""),
    )
    assert response.status_code == 302
    schedule = Schedule.objects.get()
    assert (schedule.kind, schedule.select, schedule.select_key_id) == (Job.SCAN, Job.SELECT_ALL, "")


# With a real worker


@pytest.mark.slow
def test_a_job_started_from_the_form_is_followed_to_the_end(client_as, operator, cloud_connection, worker):
    bucket = new_bucket(cloud_connection, "live")
    fill(bucket, OBJECTS)
    Bucket.objects.filter(pk=bucket.pk).update(region="cn-hangzhou")
    client = client_as(operator)

    response = client.post("/jobs/new/", job_form(bucket))
    url = reverse("jobs:job_progress", args=[int(response.url.strip("/").split("/")[-1])])
    seen = []

    def finished() -> dict | None:
        seen.append(json.loads(client.get(url).content))
        return seen[-1] if seen[-1]["finished"] else None

    data = wait_until(finished, message="the job's progress to say finished", observe=lambda: seen[-1])

    assert data["state"] == "completed" and data["objects_done"] == OBJECTS and data["counts"]["reencrypted"] == 8


def test_a_master_key_rotation_is_scheduled_from_the_schedule_form(client_as, admin, operator, mixed):
    from encryption.services import master_keys

    old = master_keys.generate_rsa(actor=admin, name="sched old", matdesc={"k": "s-old"})
    new = master_keys.generate_rsa(actor=admin, name="sched new", matdesc={"k": "s-new"})
    client = client_as(operator)
    form = schedule_form(mixed, name="Rotate contracts", schedule_kind="rewrap", prefixes="contracts/")

    missing = client.post("/jobs/schedules/new/", form)
    created = client.post("/jobs/schedules/new/", {**form, "rewrap_from": old.pk, "rewrap_to": new.pk})

    assert "needs the master key" in html(missing)
    assert created.status_code == 302
    schedule = Schedule.objects.get(name="Rotate contracts")
    assert (schedule.kind, schedule.rewrap_from_id, schedule.rewrap_to_id, schedule.prefixes) == (
        Job.REWRAP,
        old.pk,
        new.pk,
        ["contracts/"],
    )
    assert f'value="{old.pk}" selected' in html(client.get(f"/jobs/schedules/{schedule.pk}/"))
