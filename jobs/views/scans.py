"""Compliance pages: a scan's result (states chart, shares, non-matching and skipped objects, the bucket's trend)
and the dashboard of every bucket's latest scan."""

from __future__ import annotations

from django.shortcuts import render

from console.permissions import permission_required
from jobs import selectors
from jobs.models import Job, ObjectOutcome
from jobs.views.common import VIEW_JOB, actions, live_numbers, outcome_page, report_context

TREND_SCANS = 20


def scan_detail(request, job: Job):
    """Rendered by jobs:job_detail for scans."""
    progress = selectors.progress(job)
    context = {
        "job": job,
        "live": live_numbers(job, progress),
        "summary": selectors.summarise_scan(job),
        "trend": selectors.scan_trend(job, TREND_SCANS),
        "not_matching": outcome_page(request, job, (ObjectOutcome.NOT_MATCHING,), "page"),
        "skipped": outcome_page(request, job, (ObjectOutcome.SKIPPED,), "skipped_page"),
        "failed": outcome_page(request, job, (ObjectOutcome.FAILED,), "failed_page"),
        **report_context(job, progress),
        **actions(job, progress),
    }
    return render(request, "jobs/scan_detail.html", context)


@permission_required(VIEW_JOB)
def compliance(request):
    """Every bucket's latest finished scan, least compliant first, then the buckets never scanned."""
    summaries = selectors.latest_scans()
    scanned = {(summary.job.connection_id, summary.job.bucket) for summary in summaries}
    context = {"summaries": summaries, "unscanned": selectors.unscanned_buckets(scanned)}
    return render(request, "jobs/compliance.html", context)
