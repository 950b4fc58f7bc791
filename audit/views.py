from django.core.paginator import Paginator
from django.shortcuts import render

from audit.export import event_rows, export_filename
from audit.filtersets import AuditEventFilter
from audit.models import AuditEvent
from console.csv_export import csv_download
from console.permissions import permission_required

PAGE_SIZE = 50


def _filtered(request) -> AuditEventFilter:
    return AuditEventFilter(request.GET or None, queryset=AuditEvent.objects.all())


@permission_required("audit.view_auditevent")
def event_list(request):
    events = _filtered(request)
    page = Paginator(events.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/event_list.html", {"filter": events, "page": page, "query": query.urlencode()})


@permission_required("audit.view_auditevent")
def event_export(request):
    return csv_download(event_rows(_filtered(request).qs), export_filename())
