from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from audit.export import csv_lines
from audit.filtersets import AuditEventFilter
from audit.models import AuditEvent

PAGE_SIZE = 50


def _filtered(request) -> AuditEventFilter:
    return AuditEventFilter(request.GET or None, queryset=AuditEvent.objects.all())


@permission_required("audit.view_auditevent", raise_exception=True)
def event_list(request):
    events = _filtered(request)
    page = Paginator(events.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/event_list.html", {"filter": events, "page": page, "query": query.urlencode()})


@permission_required("audit.view_auditevent", raise_exception=True)
def event_export(request):
    response = StreamingHttpResponse(csv_lines(_filtered(request).qs), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M%S}.csv"'
    return response
