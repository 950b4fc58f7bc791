"""The audit log: written by every change, readable by every role, never editable."""

import csv
import io

import pytest

from audit import channel
from audit.models import AppendOnly, AuditEvent
from audit.services import record, recording
from cloud.errors import CloudError, ServiceError

pytestmark = pytest.mark.django_db


def test_a_change_records_who_what_before_after_and_request_id(admin):
    with recording("bucket.encryption.put", actor=admin, bucket="logs", before={"method": "none"}) as pending:
        pending.after = {"method": "kms"}
        pending.request_id = "REQ-1"
    event = AuditEvent.objects.get(action="bucket.encryption.put")
    assert (event.actor, event.actor_name, event.action, event.bucket) == (
        admin,
        admin.username,
        "bucket.encryption.put",
        "logs",
    )
    assert (event.before, event.after, event.request_id, event.outcome) == (
        {"method": "none"},
        {"method": "kms"},
        "REQ-1",
        "success",
    )


def test_a_cloud_refusal_is_recorded_as_a_failure_with_its_request_id_and_raised(admin):
    with pytest.raises(CloudError):
        with recording("key.disable", actor=admin, target="key-1"):
            raise CloudError("kms", "Forbidden.KeyNotFound", "no such key", "REQ-2", 404)
    event = AuditEvent.objects.get(action="key.disable")
    assert (event.outcome, event.request_id, event.target) == ("failure", "REQ-2", "key-1")
    assert "Forbidden.KeyNotFound" in event.error


def test_a_refused_rule_is_recorded_too(admin):
    with pytest.raises(ServiceError):
        with recording("bucket.encryption.put", actor=admin, bucket="logs"):
            raise ServiceError("KMS encryption is not available in region x.")
    assert (
        AuditEvent.objects.get(action="bucket.encryption.put").error == "KMS encryption is not available in region x."
    )


def test_the_channel_says_how_the_change_came_in(admin):
    with channel.entered_through(channel.COMMAND):
        record("user.create", actor=None, target="x")
    assert AuditEvent.objects.get(target="x").channel == "command"


def test_events_cannot_be_changed_or_deleted(admin):
    event = record("user.create", actor=admin, target="x")
    event.action = "forged"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()


def test_user_changes_are_audited_through_the_page_with_the_ui_channel(client_as, admin, viewer):
    client_as(admin).post(f"/users/{viewer.pk}/role/", {"role": "operator"})
    event = AuditEvent.objects.filter(action="user.role").get()
    assert (event.channel, event.target, event.before, event.after) == (
        "ui",
        viewer.username,
        {"role": "Viewer"},
        {"role": "Operator"},
    )


def test_user_changes_through_the_api_say_api(api_as, admin, viewer):
    api_as(admin).post(f"/api/v1/users/{viewer.pk}/deactivate/")
    assert AuditEvent.objects.filter(action="user.deactivate").get().channel == "api"


def test_every_role_reads_and_filters_the_log(client_as, viewer, operator, admin):
    record("bucket.encryption.put", actor=admin, bucket="logs")
    record("key.disable", actor=admin, target="key-1", outcome="failure", error="refused")
    for user in (viewer, operator, admin):
        page = client_as(user).get("/audit/?outcome=failure")
        assert page.status_code == 200
        assert "CMK disabled" in _rows(page) and "Bucket default encryption set" not in _rows(page)


def _rows(page) -> str:
    """The table body of the log page: the filter's choices above it name every action too."""
    return page.content.decode().split("<tbody>")[1].split("</tbody>")[0]


def test_users_without_a_role_cannot_read_it(client_as, api_as, outsider):
    assert client_as(outsider).get("/audit/").status_code == 403
    assert api_as(outsider).get("/api/v1/audit-events/").status_code == 403


def test_csv_export_follows_the_filter(client_as, viewer, admin):
    record("bucket.encryption.put", actor=admin, bucket="logs", after={"method": "kms"}, request_id="R1")
    record("bucket.encryption.put", actor=admin, bucket="other")
    response = client_as(viewer).get("/audit/export.csv?bucket=logs")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Type"] == "text/csv; charset=utf-8" and len(rows) == 1
    assert (rows[0]["bucket"], rows[0]["request_id"], rows[0]["after"]) == ("logs", "R1", '{"method": "kms"}')


def test_the_api_filters_events_by_action_prefix(api_as, viewer, admin):
    record("bucket.encryption.put", actor=admin, bucket="logs")
    record("key.rotate", actor=admin, target="key-9")

    body = api_as(viewer).get("/api/v1/audit-events/?action=key.").json()

    assert body["count"] == 1 and body["results"][0]["target"] == "key-9"


@pytest.mark.parametrize("method, on_one", [("put", True), ("patch", True), ("delete", True), ("post", False)])
def test_the_api_refuses_every_write_even_to_an_admin(api_as, admin, method, on_one):
    event = record("key.rotate", actor=admin, target="key-9")
    url = f"/api/v1/audit-events/{event.pk}/" if on_one else "/api/v1/audit-events/"

    assert getattr(api_as(admin), method)(url, {}).status_code in (403, 405)
    assert AuditEvent.objects.filter(pk=event.pk, action="key.rotate", target="key-9").exists()


def test_the_api_exports_the_filtered_events(api_as, viewer, admin):
    record("bucket.encryption.put", actor=admin, bucket="logs")
    record("key.rotate", actor=admin, target="key-9")

    export = api_as(viewer).get("/api/v1/audit-events/export/?target=key-9")

    body = b"".join(export.streaming_content)
    assert b"key-9" in body and b"logs" not in body


def test_times_with_offsets_beyond_postgresql_range_are_read_as_utc(api_as, viewer):
    from audit.services import record

    record("demo.seed", target="then")

    found = api_as(viewer).get("/api/v1/audit-events/", {"since": "1372-08-08T09:54:34.44+20:36", "target": "then"})
    out_of_range = api_as(viewer).get("/api/v1/audit-events/", {"until": "0001-01-01T00:00:00+10:00"})

    assert found.status_code == 200 and found.json()["count"] == 1
    assert out_of_range.status_code == 400
