"""The audit log as CSV rows (console.csv_export streams them), the same from the page and the API."""

import json

from django.utils import timezone

# The API's fields in the same order, so the CSV and the JSON read alike.
COLUMNS = [
    "time",
    "user",
    "channel",
    "action",
    "action_label",
    "outcome",
    "connection",
    "bucket",
    "object_key",
    "target",
    "change",
    "before",
    "after",
    "request_id",
    "error",
]


def _row(event) -> list:
    return [
        event.created_at.isoformat(),
        event.actor_name,
        event.channel,
        event.action,
        event.action_label,
        event.outcome,
        event.connection_name,
        event.bucket,
        event.object_key,
        event.target,
        event.change,
        json.dumps(event.before, sort_keys=True) if event.before is not None else "",
        json.dumps(event.after, sort_keys=True) if event.after is not None else "",
        event.request_id,
        event.error,
    ]


def event_rows(events):
    """The header, then one row per event of the queryset, read in chunks."""
    yield COLUMNS
    for event in events.iterator(chunk_size=500):
        yield _row(event)


def export_filename() -> str:
    return f"audit-{timezone.now():%Y%m%d-%H%M%S}.csv"
