"""Schedules people can read: Daily/Weekly/Monthly presets with a time and a time zone, @weekly and its kin, the
timing in words in the form and the list, Run now through beat's own code path; and KMS keys to select objects
by are checked to exist, whichever door names them."""

import re

import pytest
from django_celery_beat.models import PeriodicTask

from console.testing.cloud import new_bucket
from console.testing.jobs import named_key, schedule_form
from jobs.models import Job, Schedule, ScheduleRun

SCHEDULES = "/api/v1/schedules/"
JOBS = "/api/v1/jobs/"


@pytest.fixture
def ledger(cloud_connection):
    return new_bucket(cloud_connection, "ledger")


def weekly_form(bucket, **changes):
    form = schedule_form(bucket, name="Weekly ledger", schedule_kind="scan", target_mode="bucket-default")
    return form | {"frequency": "weekly", "at_time": "02:00", "weekday": "1", "crontab": "", **changes}


def html(response) -> str:
    return response.content.decode()


def test_a_weekly_preset_is_stored_as_its_crontab_in_its_time_zone_and_read_as_a_sentence(client_as, operator, ledger):
    client = client_as(operator)

    response = client.post("/jobs/schedules/new/", weekly_form(ledger))

    assert response.status_code == 302
    schedule = Schedule.objects.get()
    beat = PeriodicTask.objects.get(pk=schedule.periodic_task_id).crontab
    assert (schedule.crontab, schedule.timezone) == ("0 2 * * 1", "UTC")
    assert f"{beat.minute} {beat.hour} {beat.day_of_month} {beat.month_of_year} {beat.day_of_week}" == "0 2 * * 1"
    assert str(beat.timezone) == "UTC"
    assert "Every Monday at 02:00 UTC" in html(client.get("/jobs/schedules/"))
    edit = html(client.get(f"/jobs/schedules/{schedule.pk}/"))
    assert "Runs: <strong data-described>Every Monday at 02:00 UTC</strong>" in edit
    assert re.search(r'<input type="radio" name="frequency" value="weekly"[^>]* checked', edit)
    assert 'value="02:00"' in edit


def test_monthly_in_another_time_zone_and_crontab_aliases(client_as, operator, ledger):
    client = client_as(operator)

    monthly = client.post(
        "/jobs/schedules/new/",
        weekly_form(ledger, frequency="monthly", month_day="15", at_time="06:30", timezone="Asia/Shanghai"),
    )
    alias = client.post(
        "/jobs/schedules/new/", weekly_form(ledger, name="Alias", frequency="crontab", crontab="@weekly")
    )

    assert monthly.status_code == alias.status_code == 302
    saved = {schedule.name: schedule for schedule in Schedule.objects.all()}
    assert (saved["Weekly ledger"].crontab, saved["Weekly ledger"].timezone) == ("30 6 15 * *", "Asia/Shanghai")
    assert str(saved["Weekly ledger"].periodic_task.crontab.timezone) == "Asia/Shanghai"
    assert saved["Alias"].crontab == "0 0 * * 0"
    listing = html(client.get("/jobs/schedules/"))
    assert "On day 15 of every month at 06:30 Asia/Shanghai" in listing and "Every Sunday at 00:00 UTC" in listing


def test_a_preset_without_its_time_and_an_unknown_time_zone_are_refused(client_as, operator, ledger):
    refused = html(
        client_as(operator).post("/jobs/schedules/new/", weekly_form(ledger, at_time="", timezone="Mars/Olympus"))
    )

    assert "Give the time of day the schedule runs at." in refused
    assert "Select a valid choice. Mars/Olympus is not one of the available choices." in refused
    assert not Schedule.objects.exists()


def test_the_form_describes_the_timing_entered_before_it_is_saved(client_as, operator, ledger):
    query = weekly_form(ledger, weekday="5", at_time="23:15") | {"use_connection": "timing"}

    described = html(client_as(operator).get("/jobs/schedules/new/", query))

    assert "Runs: <strong data-described>Every Friday at 23:15 UTC</strong>" in described


def test_fields_of_other_kinds_are_marked_for_the_page_script_and_ignored_without_it(client_as, operator, ledger):
    page = html(client_as(operator).get("/jobs/schedules/new/"))
    saved = client_as(operator).post(
        "/jobs/schedules/new/", weekly_form(ledger, select="key", select_key_id="ignored", interval_minutes="5")
    )

    assert '<fieldset class="group" data-for-kinds="reencrypt">' in page and 'data-for-kinds="rewrap"' in page
    assert "Only the fields of the chosen kind are used" in page
    assert saved.status_code == 302
    schedule = Schedule.objects.get()
    assert (schedule.select, schedule.select_key_id, schedule.interval_minutes) == (Job.SELECT_ALL, "", None)


def test_run_now_fires_the_schedule_as_beat_does_and_records_the_run(client_as, operator, viewer, ledger):
    client_as(operator).post("/jobs/schedules/new/", weekly_form(ledger))
    schedule = Schedule.objects.get()

    page = html(client_as(operator).get(f"/jobs/schedules/{schedule.pk}/"))
    refused = client_as(viewer).post(f"/jobs/schedules/{schedule.pk}/run/")
    response = client_as(operator).post(f"/jobs/schedules/{schedule.pk}/run/")

    assert f'action="/jobs/schedules/{schedule.pk}/run/"' in page and "Run now" in page
    assert refused.status_code == 403
    run = ScheduleRun.objects.get()
    assert run.outcome == ScheduleRun.STARTED and run.job.schedule_id == schedule.pk and run.job.kind == Job.SCAN
    assert response.url == f"/jobs/{run.job_id}/"
    assert f"job #{run.job_id}" in html(client_as(operator).get(f"/jobs/schedules/{schedule.pk}/"))


def test_the_api_takes_a_time_zone_and_aliases_and_describes_the_timing(api_as, operator, ledger):
    payload = {
        "connection": ledger.connection_id,
        "bucket": "ledger",
        "name": "api weekly",
        "kind": "scan",
        "select": "all",
        "crontab": "@daily",
        "timezone": "Europe/Berlin",
    }
    client = api_as(operator)

    created = client.post(SCHEDULES, payload, format="json")
    refused = client.post(SCHEDULES, {**payload, "name": "bad", "timezone": "Mars/Olympus"}, format="json")
    ran = client.post(f"{SCHEDULES}{created.json()['id']}/run-now/")

    assert created.status_code == 201, created.json()
    assert created.json()["crontab"] == "0 0 * * *"
    assert created.json()["timing_description"] == "Every day at 00:00 Europe/Berlin"
    assert refused.status_code == 400 and "Unknown time zone 'Mars/Olympus'" in refused.json()["detail"]
    assert ran.status_code == 201 and ran.json()["outcome"] == "started" and ran.json()["job"]


def test_a_key_to_select_by_must_exist_and_may_be_named_by_alias(api_as, operator, ledger, monkeypatch):
    from jobs import tasks

    monkeypatch.setattr(tasks.run_page_task, "delay", lambda *args: None)
    monkeypatch.setattr(tasks.count_objects_task, "delay", lambda *args: None)
    key_id = named_key(ledger.connection, "alias/ledger")
    payload = {"connection": ledger.connection_id, "bucket": "ledger", "select": "key", "dry_run": True}
    payload |= {"target_mode": "explicit", "target_method": "oss", "target_algorithm": "AES256"}
    client = api_as(operator)

    unknown = client.post(JOBS, {**payload, "select_key_id": "no-such-key"}, format="json")
    by_alias = client.post(JOBS, {**payload, "select_key_id": "alias/ledger"}, format="json")

    assert unknown.status_code == 400
    assert unknown.json()["detail"].startswith("KMS key no-such-key is not a key of the bucket's region")
    assert by_alias.status_code == 201, by_alias.json()
    assert Job.objects.get().select_key_id == key_id
