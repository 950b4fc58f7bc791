from django.contrib.auth.decorators import login_not_required
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.services import role_of
from audit.models import AuditEvent
from buckets.models import Bucket
from console import health
from jobs.services import latest_scans

RECENT_EVENTS = 8
COMPLIANCE_ROWS = 10


@login_not_required
@never_cache
@require_GET
def healthz(request):
    report = health.check_all()
    return JsonResponse(report, status=200 if health.is_healthy(report) else 503)


def overview(request):
    report = health.check_all()
    context = {"health": sorted(report.items()), "healthy": health.is_healthy(report), "role": role_of(request.user)}
    if request.user.has_perm("buckets.view_bucket"):
        context["encryption_states"] = _bucket_encryption_states()
    if request.user.has_perm("jobs.view_job"):
        # Least compliant first: what needs attention leads.
        scans = sorted(latest_scans(), key=lambda summary: (summary.compliant_percent, summary.job.bucket))
        context["compliance"], context["more_compliance"] = scans[:COMPLIANCE_ROWS], len(scans) > COMPLIANCE_ROWS
    if request.user.has_perm("audit.view_auditevent"):
        context["recent_events"] = AuditEvent.objects.all()[:RECENT_EVENTS]
    return render(request, "console/overview.html", context)


def _bucket_encryption_states() -> list[dict]:
    """Buckets per default-encryption label, as the console last saw them, unencrypted first."""
    rows = Bucket.objects.values("sse_method", "sse_label").annotate(buckets=Count("id"))
    return sorted(rows, key=lambda row: (row["sse_method"] != Bucket.NONE, row["sse_label"]))
