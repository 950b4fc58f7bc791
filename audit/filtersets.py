"""One filter for the audit log page, its CSV export and the API, so all three select the same events.

Names are matched as case-insensitive parts ("ada" finds ada-admin; the page offers the known ones to pick), the
action is chosen from the labelled list (an area's "any" choice is its code prefix, e.g. `key.`).
"""

import datetime

import django_filters
from django import forms

from audit import channel
from audit.descriptions import action_choices
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


class ActionFilter(django_filters.ChoiceFilter):
    """One action by its code, or every action of an area by the area's prefix (ending in ".")."""

    def filter(self, queryset, value):
        if not value:
            return queryset
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        max_length=input_limits.NAME,
        field_name="actor_name",
        lookup_expr="icontains",
        label="User",
        widget=forms.TextInput(attrs={"list": "known-users", "autocomplete": "off"}),
    )
    action = ActionFilter(choices=action_choices, label="Action")
    connection = django_filters.CharFilter(
        max_length=input_limits.NAME,
        field_name="connection_name",
        lookup_expr="icontains",
        label="Connection",
        widget=forms.TextInput(attrs={"list": "known-connections", "autocomplete": "off"}),
    )
    bucket = django_filters.CharFilter(
        max_length=input_limits.BUCKET,
        lookup_expr="icontains",
        widget=forms.TextInput(attrs={"list": "known-buckets", "autocomplete": "off"}),
    )
    object_key = django_filters.CharFilter(
        max_length=input_limits.OBJECT_KEY, lookup_expr="icontains", label="Object key contains"
    )
    target = django_filters.CharFilter(max_length=input_limits.SEARCH, lookup_expr="icontains", label="Target contains")
    outcome = django_filters.ChoiceFilter(choices=AuditEvent.OUTCOMES)
    channel = django_filters.ChoiceFilter(choices=channel.CHOICES)
    since = UtcDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        label="From",
        help_text="An ISO time such as 2026-12-03T15:04 (in the console's zone) or 2026-12-03T15:04Z.",
    )
    until = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt", label="Until", help_text="An ISO time.")

    class Meta:
        model = AuditEvent
        fields = []

    @property
    def matching(self):
        """The events the filter selects; none while any of its values is invalid (its errors say which)."""
        return self.queryset.none() if self.is_bound and not self.is_valid() else self.qs
