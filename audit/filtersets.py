"""One filter for the audit log page, its CSV export and the API, so all three select the same events."""

import datetime

import django_filters
from django import forms

from audit import channel
from audit.models import AuditEvent
from console import input_limits


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO time with any offset Python accepts, turned into UTC: PostgreSQL refuses offsets beyond ±15:59."""

    def clean(self, value):
        moment = super().clean(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError("This time is outside the range of dates.") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        max_length=input_limits.NAME, field_name="actor_name", lookup_expr="iexact", label="User"
    )
    action = django_filters.CharFilter(
        max_length=input_limits.NAME, lookup_expr="startswith", label="Action starts with"
    )
    connection = django_filters.CharFilter(
        max_length=input_limits.NAME, field_name="connection_name", lookup_expr="iexact", label="Connection"
    )
    bucket = django_filters.CharFilter(max_length=input_limits.BUCKET, lookup_expr="iexact")
    object_key = django_filters.CharFilter(
        max_length=input_limits.OBJECT_KEY, lookup_expr="icontains", label="Object key contains"
    )
    target = django_filters.CharFilter(max_length=input_limits.SEARCH, lookup_expr="icontains", label="Target contains")
    outcome = django_filters.ChoiceFilter(choices=AuditEvent.OUTCOMES)
    channel = django_filters.ChoiceFilter(choices=channel.CHOICES)
    since = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte", label="From (ISO time)")
    until = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt", label="Until (ISO time)")

    class Meta:
        model = AuditEvent
        fields = []
