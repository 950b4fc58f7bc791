"""Audit events as CSV, streamed so a long log never sits in memory."""

import csv
import json

COLUMNS = [
    "time",
    "user",
    "channel",
    "action",
    "outcome",
    "connection",
    "bucket",
    "object_key",
    "target",
    "request_id",
    "before",
    "after",
    "error",
]


class _Echo:
    def write(self, value):
        return value


def _row(event) -> list:
    return [
        event.created_at.isoformat(),
        event.actor_name,
        event.channel,
        event.action,
        event.outcome,
        event.connection_name,
        event.bucket,
        event.object_key,
        event.target,
        event.request_id,
        json.dumps(event.before, sort_keys=True) if event.before is not None else "",
        json.dumps(event.after, sort_keys=True) if event.after is not None else "",
        event.error,
    ]


def csv_lines(events):
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for event in events.iterator(chunk_size=500):
        yield writer.writerow(_row(event))
