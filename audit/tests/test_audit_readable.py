"""The audit log reads as sentences: each change in one line, actions by label, times with their zone; filters
forgive case and partial names, and a filter it cannot read shows no events rather than all of them."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from audit.descriptions import action_label
from audit.models import AuditEvent
from audit.services import record
from buckets.models import Bucket
from buckets.services.buckets import set_default_encryption
from cloud.kms import KmsClient
from cloud.oss import OssClient
from cloud.sse import Sse
from console.moments import moment

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_logs(cloud_connection):
    OssClient(cloud_connection).create_bucket("demo-logs")
    return Bucket.objects.create(
        connection=cloud_connection,
        name="demo-logs",
        region="cn-hangzhou",
        sse_label="None",
        refreshed_at=timezone.now(),
    )


def rows(page) -> str:
    """The table body of the log page: the action chooser above it names every action too."""
    return page.content.decode().split("<tbody>")[1].split("</tbody>")[0]


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


# -- One line per change -----------------------------------------------------------------------------------


def test_a_bucket_encryption_change_reads_as_one_line_with_the_kms_key_by_alias(
    client_as, viewer, operator, demo_logs, cloud_connection
):
    kms = KmsClient(cloud_connection)
    key, _ = kms.create_key(description="logs")
    kms.create_alias(key.key_id, "alias/logs")

    set_default_encryption(demo_logs, Sse("oss", "SM4"), operator)
    set_default_encryption(demo_logs, Sse("kms", "AES256", key.key_id), operator)

    first, second = AuditEvent.objects.filter(action="bucket.encryption.put").order_by("id")
    assert first.change == "Default encryption of bucket demo-logs: None → OSS-managed SM4"
    assert second.change == (
        f"Default encryption of bucket demo-logs: OSS-managed SM4 → KMS AES256 alias/logs({key.key_id})"
    )
    table = rows(client_as(viewer).get("/audit/"))
    assert "Default encryption of bucket demo-logs: None → OSS-managed SM4" in table
    assert "Bucket default encryption set" in table
    assert "<summary>Details</summary>" in table and "&quot;method&quot;: &quot;oss&quot;" in table  # raw JSON kept


@pytest.mark.parametrize(
    "event, line",
    [
        (
            {"action": "user.role", "target": "bob", "before": {"role": "Viewer"}, "after": {"role": "Operator"}},
            "Role of user bob: Viewer → Operator",
        ),
        (
            {"action": "job.pause", "target": "job:3", "before": {"state": "running"}, "after": {"state": "paused"}},
            "State of job #3: running → paused",
        ),
        (
            {
                "action": "key.disable",
                "target": "key-1",
                "before": {"state": "Enabled", "aliases": ["alias/app"]},
                "after": {"state": "Disabled", "aliases": ["alias/app"]},
            },
            "State of key alias/app(key-1): Enabled → Disabled",
        ),
        (
            {
                "action": "object.encryption.change",
                "bucket": "demo-logs",
                "object_key": "a.txt",
                "before": {"sse": {"method": "none", "algorithm": "", "key_id": ""}},
                "after": {"sse": {"method": "oss", "algorithm": "AES256", "key_id": ""}},
            },
            "Encryption of object a.txt in bucket demo-logs: None → OSS-managed AES256",
        ),
        (
            {"action": "user.create", "target": "carol", "after": {"role": "Viewer", "email": ""}},
            "User carol: role Viewer, email none",
        ),
        ({"action": "token.revoke", "target": "bob", "before": {"prefix": "abc"}}, "User bob, before: prefix abc"),
        ({"action": "key.rotate", "target": "key-9"}, ""),
    ],
)
def test_each_kind_of_change_reads_as_one_line(event, line):
    assert record(**event).change == line


def test_actions_have_labels_and_an_unknown_code_still_reads_as_words():
    assert action_label("bucket.encryption.put") == "Bucket default encryption set"
    assert action_label("user.password_reset") == "Password reset by an Admin"
    assert action_label("widget.frobnicate_all") == "Widget frobnicate all"


def test_times_are_written_in_the_console_zone_with_its_name(settings, client_as, viewer):
    moment_utc = datetime(2026, 12, 3, 7, 4, 5, tzinfo=UTC)
    assert moment(moment_utc) == "2026-12-03 07:04:05 UTC"
    record("demo.seed", target="then")
    assert " UTC</time>" in rows(client_as(viewer).get("/audit/"))

    settings.TIME_ZONE = "Asia/Shanghai"

    assert moment(moment_utc) == "2026-12-03 15:04:05 CST"


# -- Filters --------------------------------------------------------------------------------------------


@pytest.fixture
def three_events(admin, operator):
    record("bucket.encryption.put", actor=admin, bucket="demo-logs")
    record("key.rotate", actor=operator, target="key-9")
    record("user.role", actor=admin, target="bob", before={"role": "Viewer"}, after={"role": "Operator"})


def test_user_and_bucket_filters_match_part_of_a_name_whatever_its_case(client_as, viewer, three_events):
    by_user = rows(client_as(viewer).get("/audit/", {"actor": "ADA"}))
    by_bucket = rows(client_as(viewer).get("/audit/", {"bucket": "LOGS"}))

    assert "Role changed" in by_user and "Bucket default encryption set" in by_user and "CMK rotated" not in by_user
    assert "Bucket default encryption set" in by_bucket and "Role changed" not in by_bucket


def test_the_page_offers_the_known_users_and_buckets_to_pick(client_as, viewer, admin, operator, three_events):
    html = client_as(viewer).get("/audit/").content.decode()

    assert 'list="known-users"' in html and 'list="known-buckets"' in html
    assert f'<option value="{admin.username}">' in html and f'<option value="{operator.username}">' in html
    assert '<datalist id="known-buckets"><option value="demo-logs"></datalist>' in html


def test_actions_are_chosen_by_label_one_or_a_whole_area(client_as, api_as, viewer, three_events):
    html = client_as(viewer).get("/audit/", {"action": "key.rotate"}).content.decode()
    area = api_as(viewer).get("/api/v1/audit-events/", {"action": "user."}).json()

    assert '<option value="key.rotate" selected>CMK rotated</option>' in html
    assert '<option value="user.">Any users action</option>' in html
    assert "CMK rotated" in rows_of(html) and "Role changed" not in rows_of(html)
    labels = {event["action_label"] for event in area["results"]}
    assert "Role changed" in labels and "User created" in labels and "CMK rotated" not in labels


def rows_of(html: str) -> str:
    return html.split("<tbody>")[1].split("</tbody>")[0]


@pytest.mark.parametrize(
    "query, error",
    [
        ({"since": "yesterday"}, "Enter a valid date/time."),
        ({"action": "nothing.such"}, "Select a valid choice."),
    ],
)
def test_an_invalid_filter_shows_its_error_and_no_events(client_as, viewer, three_events, query, error):
    page = client_as(viewer).get("/audit/", query)

    html = page.content.decode()
    assert page.status_code == 200 and error in html
    assert "No events shown while the filter has an error." in rows(page)
    assert "Bucket default encryption set" not in rows(page)


def test_the_export_of_an_invalid_filter_leads_back_to_the_page_with_its_error(client_as, viewer, three_events):
    answer = client_as(viewer).get("/audit/export.csv", {"since": "yesterday"})

    assert answer.status_code == 302 and answer["Location"] == "/audit/?since=yesterday"


# -- CSV and API ------------------------------------------------------------------------------------------


def test_the_csv_export_and_the_api_carry_the_labels_and_the_line(client_as, api_as, viewer, three_events):
    exported = csv_rows(client_as(viewer).get("/audit/export.csv", {"action": "user.role"}))
    listed = api_as(viewer).get("/api/v1/audit-events/", {"action": "user.role"}).json()["results"]

    assert [(row["action"], row["action_label"], row["change"]) for row in exported] == [
        ("user.role", "Role changed", "Role of user bob: Viewer → Operator")
    ]
    assert [(event["action_label"], event["change"]) for event in listed] == [
        ("Role changed", "Role of user bob: Viewer → Operator")
    ]
    assert listed[0]["before"] == {"role": "Viewer"}  # the raw record stays
