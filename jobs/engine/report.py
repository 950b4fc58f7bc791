"""The completion report: one CSV row per object a job visited, written to the cloud page by page.

Each page, when it is recorded, writes its rows as one gzip member to `<prefix>/job-<id>/part-<page>.csv.gz` in
the report bucket (same connection); a page re-run after a worker's death writes the same name again, with every
row (the rows of objects done before the death come from the page's Redis hash). At the job's end a
`manifest.json` lists the parts, their row counts and checksums, the header and the job's counts. Concatenated
gzip members are one valid gzip file, so the report is the header member followed by the parts, in page order.

The objects are written without encryption headers: the report bucket's default encryption applies.
Nothing here holds more than one page of rows.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Iterator

from django.utils import timezone

from cloud.errors import CloudError, Conflict
from cloud.oss import OssClient
from console.csv_export import csv_lines, spreadsheet_unsafe
from jobs.engine.object_worker import call_with_retries
from jobs.models import Job, JobPage, ObjectOutcome

COLUMNS = (
    "key",
    "size",
    "outcome",
    "reason",
    "code",
    "encryption_before",
    "encryption_after",
    "method_before",
    "algorithm_before",
    "key_id_before",
    "method_after",
    "algorithm_after",
    "key_id_after",
    "request_id",
    "at",
)
MANIFEST = "manifest.json"
FORMAT = "oss-console-completion-report/1"


def folder(job: Job) -> str:
    """`<prefix>/job-<id>/`, the report's objects' common prefix."""
    prefix = job.report_prefix.strip("/")
    return f"{prefix}/job-{job.pk}/" if prefix else f"job-{job.pk}/"


def part_key(job: Job, number: int) -> str:
    return f"{folder(job)}part-{number:06d}.csv.gz"


def row(key: str, result: dict) -> list:
    before, after = result.get("before") or ("", "", ""), result.get("after") or ("", "", "")
    return [
        key,
        result["size"],
        result["outcome"],
        result["reason"],
        result["code"],
        result["state"],
        result.get("after_state", ""),
        *before,
        *after,
        result["request_id"],
        result.get("at", ""),
    ]


def gzipped_csv(rows: Iterable[list]) -> bytes:
    """The rows as one gzip member (the formula guard of every console CSV applied)."""
    text = "".join(csv_lines(rows)).encode()
    return gzip.compress(text, mtime=0)


def header_member() -> bytes:
    return gzipped_csv([list(COLUMNS)])


def write_part(page: JobPage, results: dict[str, dict]) -> dict:
    """Write the page's rows; returns what JobPage.report_part keeps ({} without a report location). A failed
    upload is noted on the job (the job itself goes on: the objects are what it is for)."""
    job = page.job
    if not job.report_bucket or not results:
        return {}
    data = gzipped_csv(row(key, result) for key, result in sorted(results.items()))
    key = part_key(job, page.number)
    try:
        _put(job, key, data, "application/gzip")
    except CloudError as error:
        _note_error(job, f"Part {page.number} of the report was not written: {error.message}")
        return {"key": key, "rows": len(results), "error": error.message}
    return {"key": key, "rows": len(results), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def write_manifest(job: Job, counts: dict[str, int]) -> None:
    """The report's table of contents, written once the job has ended."""
    if not job.report_bucket:
        return
    parts = [{"page": number, **part} for number, part in recorded_parts(job)]
    manifest = {
        "format": FORMAT,
        "job": job.pk,
        "kind": job.kind,
        "dry_run": job.dry_run,
        "bucket": job.bucket,
        "prefixes": job.prefixes,
        "target": job.resolved_label,
        "check_after_copy": job.check_after_copy,
        "state": job.state,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "counts": counts,
        "header": list(COLUMNS),
        "compression": "gzip, one member per part; the header is not repeated in the parts",
        "rows": sum(part["rows"] for part in parts),
        "parts": parts,
        "complete": not job.report_error and all("error" not in part for part in parts),
    }
    try:
        _put(job, folder(job) + MANIFEST, json.dumps(manifest, indent=1).encode(), "application/json")
    except CloudError as error:
        _note_error(job, f"The manifest of the report was not written: {error.message}")
        return
    job.report_written_at = timezone.now()
    Job.objects.filter(pk=job.pk).update(report_written_at=job.report_written_at)


def unwritten_manifests(ended_before) -> Iterator[Job]:
    """Ended jobs whose manifest is missing because the worker that ended them died before writing it."""
    return Job.objects.filter(
        state__in=Job.FINISHED_STATES, finished_at__lt=ended_before, report_written_at=None, report_error=""
    ).exclude(report_bucket="")


def _put(job: Job, key: str, data: bytes, content_type: str) -> None:
    oss = OssClient(job.connection)
    call_with_retries(job, oss.put_object, job.report_bucket, key, data, {"Content-Type": content_type})


def _note_error(job: Job, message: str) -> None:
    job.report_error = message
    Job.objects.filter(pk=job.pk, report_error="").update(report_error=message[:2000])


def recorded_parts(job: Job) -> Iterator[tuple[int, dict]]:
    """The pages' parts written so far, in page order (pages without objects have none)."""
    pages = job.pages.exclude(report_part={}).order_by("number").values_list("number", "report_part")
    yield from pages.iterator(chunk_size=1000)


def download(job: Job) -> Iterator[bytes]:
    """The report as one gzip file: the header member, then each written part as stored, chunk by chunk."""
    yield header_member()
    oss = OssClient(job.connection)
    for _, part in recorded_parts(job):
        if "error" not in part:
            yield from oss.open_object(job.report_bucket, part["key"])


def manifest(job: Job) -> dict:
    """The manifest as stored in the cloud (CloudError when it is not there, e.g. the job has not ended)."""
    oss = OssClient(job.connection)
    return json.loads(b"".join(oss.open_object(job.report_bucket, folder(job) + MANIFEST)))


def rows_from_cloud(job: Job) -> Iterator[dict]:
    """The report's rows as the cloud holds them, part by part as the manifest lists them (one part in memory)."""
    oss = OssClient(job.connection)
    header = manifest(job)
    columns = header["header"]
    for part in header["parts"]:
        if "error" in part:
            raise Conflict(f"Part {part['page']} of the completion report of job {job.pk} was never written.")
        text = gzip.decompress(b"".join(oss.open_object(job.report_bucket, part["key"]))).decode()
        for cells in csv.reader(io.StringIO(text)):
            yield dict(zip(columns, (spreadsheet_unsafe(cell) for cell in cells), strict=True))


def failed_keys(job: Job) -> Iterator[str]:
    for cells in rows_from_cloud(job):
        if cells["outcome"] == ObjectOutcome.FAILED:
            yield cells["key"]
