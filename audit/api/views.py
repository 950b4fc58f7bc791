from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action

from audit.api import schema
from audit.api.serializers import AuditEventSerializer
from audit.export import event_rows, export_filename
from audit.filtersets import AuditEventFilter
from audit.models import AuditEvent
from console.csv_export import csv_download


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
    action_permissions = {
        "list": ["audit.view_auditevent"],
        "retrieve": ["audit.view_auditevent"],
        "export": ["audit.view_auditevent"],
    }

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request):
        """The filtered events as CSV."""
        events = self.filter_queryset(self.get_queryset())
        return csv_download(event_rows(events), export_filename())
