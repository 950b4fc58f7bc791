from django.contrib.auth.decorators import login_not_required
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.permissions import refusal
from accounts.services import role_of
from audit.models import AuditEvent
from buckets.models import Bucket, Connection
from buckets.services.buckets import needs_refresh, refresh_stale
from cloud import sse
from console import health
from console.permissions import MissingPermissions, permission_required
from jobs.selectors import latest_scans

RECENT_EVENTS = 8
COMPLIANCE_ROWS = 10


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Every part's state; anonymous callers (load balancers, probes) learn only ok or failing per part,
    since the details name hosts, ports and errors. Signed-in callers also learn which beat fires the schedules."""
    report = health.check_all()
    status = 200 if health.is_healthy(report) else 503
    if request.user.is_authenticated:
        report["beat_lock"] = health.beat_lock_holder() if report["redis"] == "ok" else "error: redis unreachable"
    else:
        report = {part: "ok" if state == "ok" else "failing" for part, state in report.items()}
    return JsonResponse(report, status=status)


def overview(request):
    """Answers from the database and Redis alone; a bucket snapshot older than its max age is refreshed by the
    page after it loaded (overview_buckets), so the cloud never holds up the landing page."""
    report = health.check_all()
    context = {"health": sorted(report.items()), "healthy": health.is_healthy(report), "role": role_of(request.user)}
    if request.user.has_perm("buckets.view_bucket"):
        context["encryption_states"] = _bucket_encryption_states()
        context["refresh_buckets"] = needs_refresh(Connection.objects.all())
    if request.user.has_perm("jobs.view_job"):
        scans = latest_scans()
        context["compliance"], context["more_compliance"] = scans[:COMPLIANCE_ROWS], len(scans) > COMPLIANCE_ROWS
    if request.user.has_perm("audit.view_auditevent"):
        context["recent_events"] = AuditEvent.objects.all()[:RECENT_EVENTS]
    return render(request, "console/overview.html", context)


@never_cache
@require_GET
@permission_required("buckets.view_bucket")
def overview_buckets(request):
    """The Overview's bucket card after reading every stale connection from the cloud; the page swaps it in."""
    outcomes = refresh_stale(Connection.objects.all())
    context = {
        "encryption_states": _bucket_encryption_states(),
        "failed_refreshes": [outcome for outcome in outcomes if outcome.error],
    }
    return render(request, "console/overview_buckets.html", context)


def _bucket_encryption_states() -> list[dict]:
    """Buckets per default-encryption label, as the console last saw them, unencrypted first."""
    rows = Bucket.objects.values("sse_method", "sse_label").annotate(buckets=Count("id"))
    return sorted(rows, key=lambda row: (row["sse_method"] != sse.NONE, row["sse_label"]))


def permission_denied(request, exception):
    """The 403 page inside the layout, naming the role the page needs and the user's own."""
    reason = ""
    if isinstance(exception, MissingPermissions) and request.user.is_authenticated:
        reason = refusal(request.user, exception.permissions)
    return render(request, "403.html", {"reason": reason}, status=403)
