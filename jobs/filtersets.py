"""The filters of job lists, shared by the jobs page and the API, and of a job's kept outcomes."""

import django_filters
from django import forms

from buckets.models import Connection
from console import input_limits
from jobs.models import Job, ObjectOutcome, Schedule


class EitherOrAny(forms.NullBooleanSelect):
    """A yes/no filter that reads as its choices ("Any", then what yes and no mean), not "Unknown/Yes/No"."""

    def __init__(self, yes: str, no: str):
        super().__init__()
        self.choices = [("unknown", "Any"), ("true", yes), ("false", no)]


class JobFilterSet(django_filters.FilterSet):
    """The bucket by its exact name, so a bucket page can link to its jobs; the page offers the buckets jobs ran on."""

    state = django_filters.ChoiceFilter(choices=Job.STATES, empty_label="Any state")
    kind = django_filters.ChoiceFilter(choices=Job.KINDS, empty_label="Any kind", help_text="scan, reencrypt or rewrap")
    active = django_filters.BooleanFilter(
        method="filter_active",
        label="Running",
        widget=EitherOrAny("Active (pending, running, paused, cancelling)", "Ended"),
        help_text="Pending, running, paused or cancelling.",
    )
    connection = django_filters.ModelChoiceFilter(queryset=Connection.objects.all(), empty_label="All connections")
    bucket = django_filters.CharFilter(
        max_length=input_limits.BUCKET,
        label="Bucket",
        widget=forms.TextInput(attrs={"list": "job-buckets", "autocomplete": "off"}),
    )
    dry_run = django_filters.BooleanFilter(label="Dry run", widget=EitherOrAny("Dry runs", "Real runs"))
    schedule = django_filters.ModelChoiceFilter(queryset=Schedule.objects.all(), empty_label="Any schedule")

    class Meta:
        model = Job
        fields = ["state", "kind", "active", "connection", "bucket", "dry_run", "schedule"]

    def filter_active(self, queryset, name, value):
        return queryset.filter(state__in=Job.ACTIVE_STATES) if value else queryset.exclude(state__in=Job.ACTIVE_STATES)

    @staticmethod
    def bucket_names() -> list[str]:
        """The buckets jobs ran on, offered as the bucket filter's suggestions."""
        return list(Job.objects.order_by("bucket").values_list("bucket", flat=True).distinct())


class OutcomeFilterSet(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(choices=[(name, name) for name in ObjectOutcome.KEPT])

    class Meta:
        model = ObjectOutcome
        fields = ["outcome"]
