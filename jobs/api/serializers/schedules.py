"""Shapes of the schedules API: a job spec with a name and its timing. Inputs are checked for shape only; the
rules (the spec's and the timing's) are the services', so a refusal is audited whichever door it came through."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobs import selectors
from jobs.api.serializers.jobs import SPEC_FIELDS, SpecInputSerializer
from jobs.models import Schedule, ScheduleRun

LAST_RUNS = 10


class ScheduleInputSerializer(SpecInputSerializer):
    """PUT and POST send every field (omitted ones take their defaults); PATCH only those it changes."""

    name = serializers.CharField(max_length=100)
    crontab = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="minute hour day-of-month month day-of-week, e.g. '0 2 * * *'; or give interval_minutes.",
    )
    interval_minutes = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Every N minutes (1 to 525600); or give crontab."
    )
    enabled = serializers.BooleanField(default=True)


class ScheduleRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScheduleRun
        fields = ["id", "schedule", "outcome", "at", "job", "reason"]
        read_only_fields = fields


class ScheduleSerializer(serializers.ModelSerializer):
    connection_name = serializers.CharField(source="connection.name")
    next_run = serializers.SerializerMethodField(help_text="When it runs next; null when disabled.")
    last_runs = serializers.SerializerMethodField(help_text=f"The last {LAST_RUNS} runs, newest first.")
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = Schedule
        fields = [
            "id",
            "name",
            "enabled",
            "connection",
            "connection_name",
            "bucket",
            *SPEC_FIELDS,
            "crontab",
            "interval_minutes",
            "next_run",
            "last_runs",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_run(self, schedule):
        when = selectors.next_run(schedule)
        return serializers.DateTimeField().to_representation(when) if when else None

    @extend_schema_field(ScheduleRunSerializer(many=True))
    def get_last_runs(self, schedule):
        """From a schedule of selectors.schedules_listed(LAST_RUNS): its runs come along, not a query per row."""
        return ScheduleRunSerializer(schedule.recent_runs, many=True).data

    def get_created_by(self, schedule) -> str | None:
        return schedule.created_by.username if schedule.created_by else None
