"""`manage.py reencrypt`: the same service as the pages and the API, with --wait following the job to its end."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from buckets.models import Connection
from console.testing.cloud import new_bucket
from console.testing.jobs import fill
from jobs.management.commands.reencrypt import Command
from jobs.models import Job


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("reencrypt", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def fast_polling(monkeypatch):
    monkeypatch.setattr(Command, "poll_seconds", 0.1)


def test_a_job_is_started_and_its_id_and_page_printed(cloud_connection):
    new_bucket(cloud_connection, "ledger")

    out, _ = run(
        "ledger",
        "--method",
        "oss",
        "--target-algorithm",
        "SM4",
        "--prefix",
        "data/",
        "--rps",
        "50",
        "--check-after-copy",
        "full",
    )

    job = Job.objects.get()
    assert job.kind == Job.REENCRYPT and job.target_mode == Job.TARGET_EXPLICIT and job.created_by is None
    assert job.check_after_copy == Job.CHECK_FULL
    assert job.prefixes == ["data/"] and job.requests_per_second == 50 and job.resolved_algorithm == "SM4"
    assert f"job id: {job.pk}" in out
    assert f"/jobs/{job.pk}/" in out
    assert AuditEvent.objects.filter(action="job.start", target=f"job:{job.pk}").exists()


def test_the_completion_report_location_is_taken_and_checked_like_everywhere(cloud_connection):
    new_bucket(cloud_connection, "ledger")
    new_bucket(cloud_connection, "evidence")

    with pytest.raises(CommandError, match="among the objects this job works on"):
        run("ledger", "--scan", "--report-bucket", "ledger")
    run("ledger", "--scan", "--report-bucket", "evidence", "--report-prefix", "audit/")

    job = Job.objects.get()
    assert (job.report_bucket, job.report_prefix) == ("evidence", "audit")


def test_an_unknown_bucket_is_a_command_error(cloud_connection):
    with pytest.raises(CommandError, match="has no bucket 'no-such-bucket'"):
        run("no-such-bucket", "--scan")


def test_a_refused_spec_is_a_command_error_with_the_services_message(cloud_connection):
    new_bucket(cloud_connection, "ledger")

    with pytest.raises(CommandError, match="concurrency must be a whole number from 1 to 64"):
        run("ledger", "--method", "oss", "--target-algorithm", "AES256", "--concurrency", "0")
    with pytest.raises(CommandError, match="no default encryption"):
        run("ledger")
    assert not Job.objects.exists()


def test_the_connection_must_be_named_when_there_are_several(db):
    with pytest.raises(CommandError, match="no connection yet"):
        run("ledger")
    for name in ("hangzhou", "shanghai"):
        connection = Connection(name=name, oss_endpoint="https://oss.example.com", region="cn-hangzhou")
        connection.set_credentials(f"LTAI{name}", "secret")
        connection.save()
    with pytest.raises(CommandError, match=r"several connections.*--connection \(hangzhou, shanghai\)"):
        run("ledger")
    with pytest.raises(CommandError, match="no connection named 'beijing'"):
        run("ledger", "--connection", "beijing")


@pytest.mark.parametrize("state", [Job.CANCELLED, Job.COMPLETED_WITH_ERRORS, Job.FAILED])
def test_waiting_on_a_job_that_did_not_complete_exits_1(db, state):
    connection = Connection(name="offline", oss_endpoint="https://oss.example.com", region="cn-hangzhou")
    connection.set_credentials("LTAIoffline", "secret")
    connection.save()
    job = Job.objects.create(connection=connection, bucket="ledger", state=state, copy_threshold=1 << 30)
    out = io.StringIO()
    command = Command(stdout=out, stderr=io.StringIO())
    command.as_json = False

    with pytest.raises(CommandError) as ended:
        command.wait(job)

    assert ended.value.returncode == 1
    assert f"Job {job.pk} ended {job.get_state_display().lower()}" in str(ended.value)
    assert f"Job {job.pk} {job.get_state_display().lower()} in " in out.getvalue()


def test_a_run_waited_for_ends_with_its_requests_per_object_and_how_copies_were_checked(
    cloud_connection, worker, fast_polling
):
    fill(new_bucket(cloud_connection, "ledger"), 5)

    out, _ = run("ledger", "--method", "oss", "--target-algorithm", "SM4", "--check-after-copy", "full", "--wait")

    assert "  re-encrypted: 4" in out and " per object; check after each copy: full" in out


@pytest.mark.slow
def test_a_dry_run_waited_for_prints_its_plan_as_json(cloud_connection, worker, fast_polling):
    fill(new_bucket(cloud_connection, "planned"), 10)

    out, err = run("planned", "--method", "oss", "--target-algorithm", "SM4", "--dry-run", "--wait", "--json")

    job = json.loads(out)
    assert job["state"] == "completed" and job["dry_run"] is True
    assert job["plan"]["objects"] == 8 and job["plan"]["compliant"] == 2
    assert job["progress"]["objects_done"] == 10
    assert job["url"].endswith(f"/jobs/{job['id']}/")
    assert "%" in err  # progress lines go to stderr, so stdout stays one JSON document


@pytest.mark.slow
def test_a_scan_waited_for_prints_progress_and_the_compliance_summary(cloud_connection, worker, fast_polling):
    fill(new_bucket(cloud_connection, "scanned"), 5)

    out, _ = run("scanned", "--scan", "--method", "oss", "--target-algorithm", "AES256", "--wait")

    assert "100.0%  5/5 objects" in out
    assert "completed in" in out
    assert "Compliant with OSS" in out and "1 of 5 objects (20.0%)" in out


def test_a_rewrap_is_started_by_master_key_names(cloud_connection, admin):
    from encryption.services import master_keys

    new_bucket(cloud_connection, "vault")
    old = master_keys.generate_rsa(actor=admin, name="cli old", matdesc={"k": "cli-old"})
    new = master_keys.generate_rsa(actor=admin, name="cli new", matdesc={"k": "cli-new"})

    out, _ = run("vault", "--rewrap-from", "cli old", "--rewrap-to", "cli new", "--prefix", "contracts/")

    job = Job.objects.get()
    assert (job.kind, job.rewrap_from_id, job.rewrap_to_id, job.prefixes) == (
        Job.REWRAP,
        old.pk,
        new.pk,
        ["contracts/"],
    )
    assert "Client-side master key cli new" in out
    with pytest.raises(CommandError, match="no client-side master key named 'nope'"):
        run("vault", "--rewrap-from", "nope", "--rewrap-to", "cli new")
