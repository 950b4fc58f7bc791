"""Compliance pages: a scan's result (states chart, shares, non-matching and skipped objects, the bucket's trend)
and the dashboard of every bucket's latest scan."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import permission_required
from django.shortcuts import render

from buckets.models import Bucket
from jobs.engine.object_worker import ANY_ENCRYPTION
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services
from jobs.views.common import VIEW_JOB, actions, live_numbers, outcome_page

TREND_SCANS = 20


def scan_detail(request, job: Job):
    """Rendered by jobs:job_detail for scans."""
    progress = services.progress(job)
    summary = services.summarise_scan(job)
    context = {
        "job": job,
        "live": live_numbers(job, progress),
        "summary": summary,
        "trend": trend(job),
        "not_matching": outcome_page(request, job, (ObjectOutcome.NOT_MATCHING,), "page"),
        "skipped": outcome_page(request, job, (ObjectOutcome.SKIPPED,), "skipped_page"),
        "failed": outcome_page(request, job, (ObjectOutcome.FAILED,), "failed_page"),
        "reencrypt_query": reencrypt_query(job),
        **actions(job, progress),
    }
    return render(request, "jobs/scan_detail.html", context)


def trend(job: Job) -> list[services.ScanSummary]:
    """The bucket's finished scans up to this one, oldest first."""
    finished = (Job.COMPLETED, Job.COMPLETED_WITH_ERRORS)
    scans = [
        scan
        for scan in services.scans_of(job.connection, job.bucket, limit=TREND_SCANS * 2)
        if scan.state in finished and scan.created_at <= job.created_at
    ][:TREND_SCANS]
    return [services.summarise_scan(scan) for scan in reversed(scans)]


def reencrypt_query(job: Job) -> str:
    """The new-job form prefilled with the scan's bucket, prefixes and target: 'Re-encrypt what does not match'."""
    query = [("connection", job.connection_id), ("bucket", job.bucket), ("select", Job.SELECT_NOT_MATCHING)]
    query += [("prefix", prefix) for prefix in job.prefixes]
    if job.target_mode == Job.TARGET_EXPLICIT:
        query += [("target_mode", Job.TARGET_EXPLICIT), ("target_method", job.target_method)]
        query += [("target_algorithm", job.target_algorithm), ("target_key_id", job.target_key_id)]
    elif job.resolved_method == ANY_ENCRYPTION:
        # The bucket had no default: the re-encryption needs an explicit encryption, to be chosen in the form.
        query += [("target_mode", Job.TARGET_EXPLICIT)]
    return urlencode(query)


@permission_required(VIEW_JOB, raise_exception=True)
def compliance(request):
    """Every bucket's latest finished scan, least compliant first, then the buckets never scanned."""
    summaries = sorted(services.latest_scans(), key=lambda summary: (summary.compliant_percent, summary.job.bucket))
    scanned = {(summary.job.connection_id, summary.job.bucket) for summary in summaries}
    unscanned = [
        bucket
        for bucket in Bucket.objects.select_related("connection").order_by("name", "connection__name")
        if (bucket.connection_id, bucket.name) not in scanned
    ]
    return render(request, "jobs/compliance.html", {"summaries": summaries, "unscanned": unscanned})
