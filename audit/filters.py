"""One filter for the audit log page, its CSV export and the API, so all three select the same events."""

import django_filters

from audit import channel
from audit.models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_name", lookup_expr="iexact", label="User")
    action = django_filters.CharFilter(lookup_expr="startswith", label="Action starts with")
    connection = django_filters.CharFilter(field_name="connection_name", lookup_expr="iexact", label="Connection")
    bucket = django_filters.CharFilter(lookup_expr="iexact")
    object_key = django_filters.CharFilter(lookup_expr="icontains", label="Object key contains")
    target = django_filters.CharFilter(lookup_expr="icontains", label="Target contains")
    outcome = django_filters.ChoiceFilter(choices=AuditEvent.OUTCOMES)
    channel = django_filters.ChoiceFilter(choices=channel.CHOICES)
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label="From (ISO time)")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt", label="Until (ISO time)")

    class Meta:
        model = AuditEvent
        fields = []
