"""Shapes of the sweeps API: which buckets to scan (input), and a sweep with each bucket's job and the combined
result (output, from jobs.selectors.sweep_result)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from buckets.models import Connection
from jobs.services.sweeps import MAX_BUCKETS


class SweepCreateSerializer(serializers.Serializer):
    connection = serializers.PrimaryKeyRelatedField(
        queryset=Connection.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The connection's id; omitted: every connection (then buckets must be omitted too).",
    )
    buckets = serializers.ListField(
        child=serializers.CharField(max_length=63),
        required=False,
        allow_empty=False,
        max_length=MAX_BUCKETS,
        help_text="Bucket names of the connection; omitted: every bucket of the connection (or of every one).",
    )

    def validate(self, data):
        if data.get("buckets") and data.get("connection") is None:
            raise serializers.ValidationError({"connection": "Name the connection the buckets belong to."})
        return data


class SweepBucketSerializer(serializers.Serializer):
    connection = serializers.IntegerField(source="item.connection_id")
    connection_name = serializers.CharField(source="item.connection.name")
    bucket = serializers.CharField(source="item.bucket")
    state = serializers.CharField(help_text="waiting, not-started, or the job's state.")
    state_label = serializers.CharField()
    job = serializers.IntegerField(source="item.job_id", allow_null=True)
    error = serializers.CharField(source="item.error", help_text="Why its job did not start.")
    objects_done = serializers.IntegerField()
    objects_total = serializers.IntegerField()
    compliant_objects = serializers.SerializerMethodField()
    compliant_percent = serializers.SerializerMethodField()

    def get_compliant_objects(self, row) -> int | None:
        return row.scan.compliant_objects if row.scan else None

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_compliant_percent(self, row):
        return _rounded(row.scan.compliant_percent) if row.scan else None


class SweepStateSerializer(serializers.Serializer):
    label = serializers.CharField()
    objects = serializers.IntegerField()
    bytes = serializers.IntegerField()


class SweepSerializer(serializers.Serializer):
    """A sweep read through jobs.selectors.sweep_result."""

    id = serializers.IntegerField(source="sweep.pk")
    kind = serializers.CharField(source="sweep.kind")
    description = serializers.CharField(source="sweep.description")
    schedule = serializers.IntegerField(source="sweep.schedule_id", allow_null=True)
    created_at = serializers.DateTimeField(source="sweep.created_at")
    created_by = serializers.SerializerMethodField()
    max_running = serializers.IntegerField(source="sweep.max_running")
    finished = serializers.BooleanField()
    tally = serializers.DictField(child=serializers.IntegerField(), help_text="Buckets waiting, active, finished.")
    objects = serializers.IntegerField(help_text="Objects scanned so far, every bucket together.")
    bytes = serializers.IntegerField()
    compliant_objects = serializers.IntegerField()
    compliant_percent = serializers.SerializerMethodField()
    states = serializers.SerializerMethodField(help_text="Objects and bytes per encryption state, every bucket.")
    buckets = SweepBucketSerializer(source="rows", many=True)

    def get_created_by(self, result) -> str | None:
        return result.sweep.created_by.username if result.sweep.created_by else None

    @extend_schema_field(serializers.FloatField(allow_null=True, help_text="Null while no object has been seen."))
    def get_compliant_percent(self, result):
        return _rounded(result.compliant_percent)

    @extend_schema_field(SweepStateSerializer(many=True))
    def get_states(self, result):
        return [{"label": label, "objects": objects, "bytes": size} for label, objects, size in result.states]


def _rounded(percent: float | None) -> float | None:
    return None if percent is None else round(percent, 2)
