from rest_framework import serializers

from audit.export import COLUMNS
from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="actor_name")
    connection = serializers.CharField(source="connection_name")
    time = serializers.DateTimeField(source="created_at")
    action_label = serializers.CharField(help_text="The action in words, as the audit log page shows it.")
    change = serializers.CharField(
        help_text="The change in one line, e.g. 'Default encryption of bucket logs: None → OSS-managed SM4'."
    )

    class Meta:
        model = AuditEvent
        fields = ["id", *COLUMNS]
        read_only_fields = fields
