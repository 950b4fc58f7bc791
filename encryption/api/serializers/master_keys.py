"""Shapes of the client-side encryption master keys API. Private key fields are write-only."""

from rest_framework import serializers

from buckets.models import Connection
from cloud.cse.wrapping import RSA_KEY_SIZES
from encryption.models import MasterKey
from encryption.services import master_keys


class MasterKeySerializer(serializers.ModelSerializer):
    connection_name = serializers.CharField(source="connection.name", read_only=True, default="")
    created_by = serializers.CharField(source="created_by.get_username", read_only=True, default="")

    class Meta:
        model = MasterKey
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "matdesc",
            "bits",
            "fingerprint",
            "public_key_pem",
            "connection",
            "connection_name",
            "region",
            "cmk_id",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class MasterKeyCreateSerializer(serializers.Serializer):
    """Shapes only; the rules are encryption.masterkeys'. RSA: `bits` generates, `private_key_pem` imports."""

    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=[MasterKey.RSA, MasterKey.KMS])
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    matdesc = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, allow_null=True, default=None
    )
    bits = serializers.ChoiceField(choices=RSA_KEY_SIZES, required=False)
    private_key_pem = serializers.CharField(
        write_only=True, required=False, max_length=master_keys.MAX_PEM_CHARS, trim_whitespace=False
    )
    passphrase = serializers.CharField(
        write_only=True, required=False, allow_blank=True, default="", trim_whitespace=False, max_length=1024
    )
    connection = serializers.PrimaryKeyRelatedField(queryset=Connection.objects.all(), required=False)
    region = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    cmk_id = serializers.CharField(max_length=255, required=False)

    def validate(self, data):
        if data["kind"] == MasterKey.KMS:
            missing = [name for name in ("connection", "cmk_id") if name not in data]
            if missing:
                raise serializers.ValidationError({name: "Needed for a KMS key." for name in missing})
            if "bits" in data or "private_key_pem" in data:
                raise serializers.ValidationError("A KMS key takes no bits or private key.")
        elif "private_key_pem" in data and "bits" in data:
            raise serializers.ValidationError(
                "Give bits to generate a key pair or private_key_pem to import, not both."
            )
        return data
