"""Connections in the API: secrets go in (write-only) and never come out."""

from rest_framework import serializers

from buckets.models import Connection
from console import input_limits


class ConnectionSerializer(serializers.ModelSerializer):
    """A connection as the API shows it: no secret, only whether an STS token is set."""

    effective_kms_endpoint = serializers.CharField(
        read_only=True, help_text="The configured KMS endpoint, or the one derived from the OSS endpoint."
    )
    has_sts_token = serializers.SerializerMethodField()
    bucket_count = serializers.IntegerField(read_only=True, help_text="Buckets the console has seen through it.")

    class Meta:
        model = Connection
        fields = [
            "id",
            "name",
            "oss_endpoint",
            "region",
            "access_key_id",
            "kms_endpoint",
            "effective_kms_endpoint",
            "has_sts_token",
            "is_demo",
            "bucket_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_sts_token(self, connection) -> bool:
        return bool(connection.sealed_sts_token)


def _secret_field(help_text: str, *, max_length: int, required: bool = False) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length,
        write_only=True,
        required=required,
        allow_blank=not required,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=help_text,
    )


class _ConnectionInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    oss_endpoint = serializers.CharField(max_length=255, help_text="http(s)://host[:port]")
    region = serializers.CharField(max_length=64, help_text="Region id, e.g. cn-hangzhou.")
    access_key_id = serializers.CharField(max_length=128)
    kms_endpoint = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text="Blank: derived from the OSS endpoint."
    )


class ConnectionCreateSerializer(_ConnectionInput):
    access_key_secret = _secret_field(
        "Write-only: stored encrypted, never returned.", max_length=input_limits.ACCESS_KEY_SECRET, required=True
    )
    sts_token = _secret_field("Write-only, optional: for temporary credentials.", max_length=input_limits.STS_TOKEN)


class ConnectionUpdateSerializer(_ConnectionInput):
    """PUT sends every field but the secrets; PATCH only those it changes. Blank or absent secrets are kept.

    A new access_key_id needs its access_key_secret too.
    """

    access_key_secret = _secret_field(
        "Write-only. Blank or absent keeps the stored secret.", max_length=input_limits.ACCESS_KEY_SECRET
    )
    sts_token = _secret_field("Write-only. Blank or absent keeps the stored token.", max_length=input_limits.STS_TOKEN)
    clear_sts_token = serializers.BooleanField(
        required=False, default=False, write_only=True, help_text="Remove the stored STS token."
    )


class CheckResultSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="OSS ListBuckets or KMS ListKeys.")
    service = serializers.ChoiceField(choices=["oss", "kms"])
    ok = serializers.BooleanField()
    summary = serializers.CharField(help_text="What a passing check saw.")
    code = serializers.CharField(help_text="The cloud's error code when the check failed.")
    message = serializers.CharField(help_text="The cloud's error message when the check failed.")
    request_id = serializers.CharField(help_text="The OSS/KMS request id, when the cloud answered with one.")


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="True when every check passed.")
    checks = CheckResultSerializer(many=True)
