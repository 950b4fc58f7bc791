"""Shapes of the schedules API: a job spec with a name and its timing. Inputs are checked for shape only; the
rules (the spec's and the timing's) are the services', so a refusal is audited whichever door it came through."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobs import selectors, timing
from jobs.api.serializers.jobs import SPEC_FIELDS, SpecInputSerializer
from jobs.models import Schedule, ScheduleRun

LAST_RUNS = 10


class ScheduleInputSerializer(SpecInputSerializer):
    """PUT and POST send every field (omitted ones take their defaults); PATCH only those it changes."""

    name = serializers.CharField(max_length=100)
    bucket = serializers.CharField(
        max_length=63, required=False, allow_blank=True, default="", help_text="With scope=bucket: its name."
    )
    scope = serializers.ChoiceField(
        choices=Schedule.SCOPES,
        default=Schedule.ONE_BUCKET,
        help_text="bucket: one bucket; connection: every bucket of the connection; pattern: the buckets whose "
        "names match bucket_pattern. The last two start a sweep at each run, over the buckets listed afresh.",
    )
    bucket_pattern = serializers.CharField(
        max_length=63, required=False, allow_blank=True, default="", help_text="With scope=pattern: a glob (logs-*)."
    )
    crontab = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="minute hour day-of-month month day-of-week, e.g. '0 2 * * 1', or @hourly, @daily, @weekly, "
        "@monthly (stored as their five fields); or give interval_minutes.",
    )
    timezone = serializers.CharField(
        max_length=63,
        required=False,
        allow_blank=True,
        default="",
        help_text="IANA name of the crontab's time zone (UTC, Europe/Berlin); blank: the console's TIME_ZONE.",
    )
    interval_minutes = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Every N minutes (1 to 525600); or give crontab."
    )
    enabled = serializers.BooleanField(default=True)


class ScheduleRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScheduleRun
        fields = ["id", "schedule", "outcome", "at", "job", "sweep", "reason"]
        read_only_fields = fields


class ScheduleSerializer(serializers.ModelSerializer):
    connection_name = serializers.CharField(source="connection.name")
    next_run = serializers.SerializerMethodField(help_text="When it runs next; null when disabled.")
    last_runs = serializers.SerializerMethodField(help_text=f"The last {LAST_RUNS} runs, newest first.")
    created_by = serializers.SerializerMethodField()
    timing_description = serializers.SerializerMethodField(help_text="'Every Monday at 02:00 UTC'.")

    class Meta:
        model = Schedule
        fields = [
            "id",
            "name",
            "enabled",
            "connection",
            "connection_name",
            "bucket",
            "scope",
            "bucket_pattern",
            *SPEC_FIELDS,
            "crontab",
            "timezone",
            "interval_minutes",
            "timing_description",
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

    def get_timing_description(self, schedule) -> str:
        return timing.describe(schedule.crontab, schedule.interval_minutes, schedule.timezone)

    def get_created_by(self, schedule) -> str | None:
        return schedule.created_by.username if schedule.created_by else None
