"""Shapes of the keys and RAM policy API. Input serializers check shapes only: the rules (alias names, material,
regions) are the services', so a refusal is audited whichever door it came through."""

from rest_framework import serializers

from encryption import byok, ram_policy
from encryption.services import keys as services

PURPOSES = sorted(value for value, _ in ram_policy.PURPOSE_CHOICES)


class ScopeSerializer(serializers.Serializer):
    """Where keys live: the query parameters of every keys call."""

    connection = serializers.IntegerField(help_text="The connection's id.")
    region = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=64, help_text="Blank: the connection's region."
    )


class KeyInfoSerializer(serializers.Serializer):
    """A KMS key as cloud.kms.KeyInfo describes it."""

    key_id = serializers.CharField()
    display_name = serializers.CharField(help_text="As the OSS console names a key: alias/<name>(<CMK ID>).")
    arn = serializers.CharField()
    aliases = serializers.ListField(child=serializers.CharField())
    state = serializers.CharField(help_text="Enabled, Disabled, PendingDeletion or PendingImport.")
    spec = serializers.CharField()
    usage = serializers.CharField()
    origin = serializers.CharField(help_text="Aliyun_KMS, or EXTERNAL for imported material (BYOK).")
    creator = serializers.CharField()
    description = serializers.CharField()
    created = serializers.CharField()
    deletion_date = serializers.CharField(help_text="Set while PendingDeletion.")
    material_expires = serializers.CharField(help_text="EXTERNAL keys: when KMS deletes the imported material.")
    protection_level = serializers.CharField()
    automatic_rotation = serializers.CharField()
    rotation_interval = serializers.CharField()
    last_rotation = serializers.CharField()
    is_default_oss_key = serializers.BooleanField(help_text="The key behind alias/acs/oss, which only OSS changes.")


class KeySerializer(KeyInfoSerializer):
    """A key (services.KeyRow) with the buckets, as the console last saw them, using it as their default key."""

    used_by = serializers.ListField(child=serializers.CharField())

    def to_representation(self, row):
        return KeyInfoSerializer(row.key, context=self.context).data | {"used_by": list(row.used_by)}


class KeyChangeSerializer(serializers.Serializer):
    """The key after a change (services.KeyChange) and the KMS request id of the change."""

    key = KeyInfoSerializer()
    request_id = serializers.CharField()


class KeyCreateSerializer(ScopeSerializer):
    spec = serializers.ChoiceField(choices=services.KEY_SPECS, default=services.KEY_SPECS[0])
    origin = serializers.ChoiceField(
        choices=services.ORIGINS,
        default=services.ORIGINS[0],
        help_text="EXTERNAL: created without material, PendingImport until you import it.",
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=services.MAX_DESCRIPTION
    )
    alias = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=261, help_text="For example alias/finance."
    )


class AliasSerializer(serializers.Serializer):
    alias = serializers.CharField(max_length=261, help_text="alias/ and 1-255 letters, digits, '_', '-', '/' or ':'.")


class ScheduleDeletionSerializer(serializers.Serializer):
    pending_days = serializers.IntegerField(
        min_value=services.PENDING_DAYS[0],
        max_value=services.PENDING_DAYS[1],
        help_text="Days before KMS deletes the key; the deletion can be cancelled until then.",
    )


class WrappingSerializer(serializers.Serializer):
    wrapping_algorithm = serializers.ChoiceField(
        choices=list(byok.WRAPPING_HASHES), default=byok.DEFAULT_WRAPPING_ALGORITHM
    )


class ImportParametersSerializer(serializers.Serializer):
    key_id = serializers.CharField()
    wrapping_algorithm = serializers.CharField()
    public_key = serializers.CharField(help_text="Base64 of the DER SubjectPublicKeyInfo, as KMS returns it.")
    public_key_pem = serializers.CharField(help_text="The same RSA_2048 wrapping key as PEM.")
    import_token = serializers.CharField(help_text="Send it back with the material wrapped for this public key.")
    token_expires = serializers.CharField()
    request_id = serializers.CharField()


class MaterialImportSerializer(serializers.Serializer):
    encrypted_key_material = serializers.CharField(
        max_length=4096,
        help_text="Base64 of the key material (32 bytes; 16 for SM4) wrapped with RSAES-OAEP under the public key.",
    )
    import_token = serializers.CharField(max_length=4096)
    expires_unix = serializers.IntegerField(
        min_value=0, default=0, help_text="When KMS deletes the material, in Unix seconds; 0: never."
    )


class RamPolicyQuerySerializer(serializers.Serializer):
    connection = serializers.IntegerField()
    bucket = serializers.CharField(max_length=63)
    method = serializers.CharField(max_length=8)
    algorithm = serializers.CharField(max_length=8)
    key_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=256)
    purposes = serializers.ListField(
        child=serializers.ChoiceField(choices=PURPOSES),
        required=False,
        allow_empty=False,
        default=[value for value, _ in ram_policy.PURPOSE_CHOICES],
    )


class RamPolicySerializer(serializers.Serializer):
    """services.RamPolicy: the document, the key ARN its KMS statement names, and why when that is not one key."""

    document = serializers.JSONField(help_text='The RAM policy: {"Version": "1", "Statement": [...]}.')
    annotations = serializers.ListField(
        child=serializers.JSONField(),
        help_text="Beside each statement of the document, in order: its resource and why each action is there "
        '({"resource": ..., "actions": [{"action": ..., "why": ...}]}); RAM policy JSON has no comments.',
    )
    key_arn = serializers.CharField(help_text="Blank without SSE-KMS.")
    notes = serializers.ListField(child=serializers.CharField())
