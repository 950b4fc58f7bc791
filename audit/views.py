from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse

from audit.export import event_rows, export_filename
from audit.filtersets import AuditEventFilter
from audit.models import AuditEvent
from console.csv_export import csv_download
from console.permissions import permission_required

PAGE_SIZE = 50
# The names the page offers to pick from; a longer tail is still found by typing part of a name.
KNOWN_NAMES = 500


def _filtered(request) -> AuditEventFilter:
    return AuditEventFilter(request.GET or None, queryset=AuditEvent.objects.all())


def _known(field: str) -> list[str]:
    names = AuditEvent.objects.exclude(**{field: ""}).order_by(field).values_list(field, flat=True).distinct()
    return list(names[:KNOWN_NAMES])


@permission_required("audit.view_auditevent")
def event_list(request):
    events = _filtered(request)
    page = Paginator(events.matching, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": events,
        "page": page,
        "query": query.urlencode(),
        "known_users": _known("actor_name"),
        "known_buckets": _known("bucket"),
        "known_connections": _known("connection_name"),
    }
    return render(request, "audit/event_list.html", context)


@permission_required("audit.view_auditevent")
def event_export(request):
    events = _filtered(request)
    if events.is_bound and not events.is_valid():
        # The page shows what is wrong with the filter; a CSV of everything would hide it.
        return redirect(f"{reverse('audit:event_list')}?{request.GET.urlencode()}")
    return csv_download(event_rows(events.matching), export_filename())
