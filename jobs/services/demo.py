"""The demo's first scan: `make up` seeds a versioned bucket with unencrypted older versions (console.demo), and a
scan of it once the first worker is ready lets the first visit's Overview show that exposed history."""

from __future__ import annotations

from buckets.models import Connection
from console.demo import FIRST_SCAN_BUCKET
from jobs.models import Job
from jobs.services import jobs as services


def start_first_scan() -> Job | None:
    """A scan of the demo's versioned bucket, once; None when there is no demo connection or it was scanned."""
    connection = Connection.objects.filter(is_demo=True).first()
    if connection is None:
        return None
    if Job.objects.filter(connection=connection, bucket=FIRST_SCAN_BUCKET, kind=Job.SCAN).exists():
        return None
    return services.create_job(
        actor=None, connection=connection, bucket=FIRST_SCAN_BUCKET, spec=services.Spec(kind=Job.SCAN)
    )
