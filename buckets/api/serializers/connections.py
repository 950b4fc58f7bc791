"""Connections in the API: secrets go in (write-only) and never come out."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from buckets.models import Connection
from buckets.services import connection_advice
from console import input_limits


class CheckResultSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="OSS ListBuckets or KMS ListKeys.")
    service = serializers.ChoiceField(choices=["oss", "kms"])
    ok = serializers.BooleanField()
    summary = serializers.CharField(help_text="What a passing check saw.")
    code = serializers.CharField(help_text="The cloud's error code when the check failed.")
    advice = serializers.CharField(
        help_text="When the check failed: what the code means and what to do, in plain words (never the cloud's "
        "raw signature details)."
    )
    ram_policy_url = serializers.SerializerMethodField(
        help_text="When the credentials lack permissions: the RAM policy helper page for this connection."
    )
    request_id = serializers.CharField(help_text="The OSS/KMS request id, when the cloud answered with one.")

    def get_ram_policy_url(self, check) -> str:
        needs_permissions = check["needs_permissions"] if isinstance(check, dict) else check.needs_permissions
        connection = self.context.get("connection")
        return connection_advice.ram_policy_url(connection) if needs_permissions and connection else ""


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="True when every check passed.")
    checks = CheckResultSerializer(many=True)


class ConnectionTestFailedSerializer(serializers.Serializer):
    """A create or update refused because the connection's test failed; nothing was saved."""

    detail = serializers.CharField(help_text="Which checks failed and the advice for each.")
    test = ConnectionTestSerializer()


class LastTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField(source="last_test_ok", help_text="True when every check passed.")
    tested_at = serializers.DateTimeField(source="last_tested_at")
    checks = CheckResultSerializer(source="last_test_checks", many=True)


class ConnectionSerializer(serializers.ModelSerializer):
    """A connection as the API shows it: no secret, only whether an STS token is set."""

    effective_kms_endpoint = serializers.CharField(
        read_only=True, help_text="The configured KMS endpoint, or the one derived from the OSS endpoint."
    )
    has_sts_token = serializers.SerializerMethodField()
    last_test = serializers.SerializerMethodField(
        help_text="The last test (on save or POST .../test/): when, whether it passed, each check; null if never."
    )
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
            "last_test",
            "bucket_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_sts_token(self, connection) -> bool:
        return bool(connection.sealed_sts_token)

    @extend_schema_field(LastTestSerializer(allow_null=True))
    def get_last_test(self, connection):
        if connection.last_tested_at is None:
            return None
        return LastTestSerializer(connection, context={"connection": connection}).data


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
    oss_endpoint = serializers.CharField(
        max_length=255, help_text="http(s)://host[:port], or a host alone as Alibaba Cloud lists it (https:// then)."
    )
    region = serializers.CharField(max_length=64, help_text="Region id, e.g. cn-hangzhou.")
    access_key_id = serializers.CharField(max_length=128)
    kms_endpoint = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text="Blank: derived from the OSS endpoint."
    )
    save_anyway = serializers.BooleanField(
        required=False,
        default=False,
        write_only=True,
        help_text="Saving tests the connection first (OSS ListBuckets, KMS ListKeys) and answers 400 with the "
        "advice when a check fails; true saves it anyway, with the failed test recorded.",
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
