from django.http import StreamingHttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action

from audit.api import schema
from audit.api.serializers import AuditEventSerializer
from audit.export import csv_lines
from audit.filtersets import AuditEventFilter
from audit.models import AuditEvent


@extend_schema_view(
    list=extend_schema(examples=[schema.EVENT_EXAMPLE]),
    retrieve=extend_schema(examples=[schema.EVENT_EXAMPLE]),
)
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log: every change through UI, API, command or task; read-only, newest first."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = AuditEventFilter

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request):
        """The filtered events as CSV."""
        events = self.filter_queryset(self.get_queryset())
        response = StreamingHttpResponse(csv_lines(events), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M%S}.csv"'
        return response
