from rest_framework import serializers

from audit.export import COLUMNS
from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="actor_name")
    connection = serializers.CharField(source="connection_name")
    time = serializers.DateTimeField(source="created_at")

    class Meta:
        model = AuditEvent
        fields = ["id", *COLUMNS]
        read_only_fields = fields
