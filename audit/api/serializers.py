from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="actor_name")
    connection = serializers.CharField(source="connection_name")
    time = serializers.DateTimeField(source="created_at")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "time",
            "user",
            "channel",
            "action",
            "outcome",
            "connection",
            "bucket",
            "object_key",
            "target",
            "before",
            "after",
            "request_id",
            "error",
        ]
        read_only_fields = fields
