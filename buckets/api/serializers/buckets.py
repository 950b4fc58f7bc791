"""Shapes of the bucket API: the snapshot, live details, creation, and default encryption before -> after."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from buckets.models import Bucket, Connection
from buckets.services import buckets as services
from buckets.services import lifecycle
from cloud import regions, sse
from cloud.errors import ServiceError
from console import input_limits


class DefaultEncryptionInputSerializer(serializers.Serializer):
    """A default-encryption setting as a client sends it; cloud.sse.parse checks its shape."""

    method = serializers.CharField(max_length=input_limits.WORD, help_text="none, oss (OSS-managed) or kms.")
    algorithm = serializers.CharField(
        max_length=input_limits.WORD,
        required=False,
        allow_blank=True,
        default="",
        help_text="AES256 or SM4; empty with method none.",
    )
    key_id = serializers.CharField(
        max_length=input_limits.KMS_KEY,
        required=False,
        allow_blank=True,
        default="",
        help_text="KMS only: a CMK id, alias or ARN of the bucket's region; empty = the default key alias/acs/oss.",
    )


class DefaultEncryptionSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=sse.METHOD_CHOICES)
    algorithm = serializers.CharField(help_text="AES256 or SM4; empty with no encryption.")
    key_id = serializers.CharField(help_text="KMS only; empty = the default key alias/acs/oss.")
    label = serializers.CharField(help_text="As the console shows it, e.g. `KMS SM4 alias/name(CMK ID)`.")


class SnapshotEncryptionSerializer(serializers.Serializer):
    method = serializers.CharField(source="sse_method")
    algorithm = serializers.CharField(source="sse_algorithm")
    key_id = serializers.CharField(source="sse_key_id")
    label = serializers.CharField(source="sse_label")
    state = serializers.SerializerMethodField(help_text="none, oss-aes256, oss-sm4, kms-default or kms-named.")

    def get_state(self, bucket) -> str:
        return services.state_of(bucket)


class BucketSerializer(serializers.ModelSerializer):
    connection_name = serializers.CharField(source="connection.name")
    region_name = serializers.SerializerMethodField()
    encryption = SnapshotEncryptionSerializer(source="*")

    class Meta:
        model = Bucket
        fields = [
            "id",
            "connection",
            "connection_name",
            "name",
            "region",
            "region_name",
            "location",
            "created",
            "storage_class",
            "encryption",
            "refreshed_at",
        ]
        read_only_fields = fields

    def get_region_name(self, bucket) -> str:
        return regions.region_name(bucket.region)


class BucketKeySerializer(serializers.Serializer):
    key_id = serializers.CharField()
    display_name = serializers.CharField(help_text="`alias/<name>(<CMK ID>)`.")
    state = serializers.CharField()
    spec = serializers.CharField()
    origin = serializers.CharField()
    arn = serializers.CharField()


class BucketDetailSerializer(serializers.Serializer):
    """The snapshot, updated from GetBucketInfo, with what only a live read knows."""

    bucket = BucketSerializer()
    acl = serializers.CharField()
    versioning = serializers.CharField()
    kms_key = BucketKeySerializer(allow_null=True, help_text="The CMK new objects are encrypted with, under KMS.")
    problems = serializers.ListField(child=serializers.CharField(), help_text="What OSS or KMS could not tell.")


class BucketCreateSerializer(serializers.Serializer):
    connection = serializers.PrimaryKeyRelatedField(queryset=Connection.objects.all())
    name = serializers.CharField(max_length=63)
    storage_class = serializers.ChoiceField(choices=services.STORAGE_CLASSES, default="Standard")
    acl = serializers.ChoiceField(choices=services.ACLS, default="private")
    encryption = DefaultEncryptionInputSerializer(required=False, help_text="Default encryption to set after creation.")

    def validate_name(self, name):
        try:
            services.check_bucket_name(name)
        except ServiceError as refusal:
            raise serializers.ValidationError(refusal.message) from None
        return name


def _setting(setting, label: str) -> dict:
    return setting.as_dict() | {"label": label}


class DefaultEncryptionChangeSerializer(serializers.Serializer):
    bucket = serializers.IntegerField(source="bucket.pk")
    before = serializers.SerializerMethodField()
    after = serializers.SerializerMethodField()
    request_id = serializers.CharField(help_text="The OSS request id of PutBucketEncryption/DeleteBucketEncryption.")
    note = serializers.SerializerMethodField()

    @extend_schema_field(DefaultEncryptionSerializer)
    def get_before(self, change):
        return _setting(change.before, change.before_label)

    @extend_schema_field(DefaultEncryptionSerializer)
    def get_after(self, change):
        return _setting(change.after, change.after_label)

    def get_note(self, change) -> str:
        return services.NEW_OBJECTS_ONLY


class CreatedBucketSerializer(serializers.Serializer):
    bucket = BucketSerializer()
    request_id = serializers.CharField(help_text="The OSS request id of PutBucket.")
    encryption_requested = serializers.SerializerMethodField()
    encryption = DefaultEncryptionChangeSerializer(
        allow_null=True, help_text="The default encryption set after creation."
    )
    encryption_error = serializers.SerializerMethodField(
        help_text="Set when the bucket was created but its encryption was NOT set: the reason."
    )

    @extend_schema_field(DefaultEncryptionSerializer)
    def get_encryption_requested(self, created):
        return _setting(created.requested, created.requested.label())

    def get_encryption_error(self, created) -> str | None:
        return created.encryption_error or None


class BucketEncryptionSerializer(serializers.ModelSerializer):
    encryption = SnapshotEncryptionSerializer(source="*")

    class Meta:
        model = Bucket
        fields = ["id", "name", "region", "encryption"]
        read_only_fields = fields


class LifecycleRuleSerializer(serializers.Serializer):
    """A lifecycle rule as OSS holds it, with what it does in words."""

    id = serializers.CharField(source="rule_id")
    prefix = serializers.CharField(help_text="Empty: the whole bucket.")
    status = serializers.CharField(help_text="Enabled or Disabled.")
    scope = serializers.ListField(child=serializers.CharField(), help_text="What the rule applies to, in words.")
    actions = serializers.ListField(child=serializers.CharField(), help_text="What the rule does, in words.")
    noncurrent_days = serializers.IntegerField(
        allow_null=True, help_text="Days after which it deletes noncurrent versions (NoncurrentVersionExpiration)."
    )
    set_by_console = serializers.SerializerMethodField(
        help_text=f"Whether this is the console's rule, {lifecycle.CONSOLE_RULE_ID}."
    )

    def get_set_by_console(self, rule) -> bool:
        return rule.rule_id == lifecycle.CONSOLE_RULE_ID


class LifecycleSerializer(serializers.Serializer):
    rules = LifecycleRuleSerializer(many=True)


class ExpiryPlanSerializer(serializers.Serializer):
    """The dry run: nothing was written."""

    bucket = serializers.IntegerField(source="bucket.pk")
    days = serializers.IntegerField()
    versioning = serializers.CharField(help_text="Enabled or Suspended.")
    noncurrent_versions = serializers.IntegerField(help_text="Noncurrent versions the bucket keeps today.")
    noncurrent_bytes = serializers.IntegerField()
    due_versions = serializers.IntegerField(
        help_text="Of them, those noncurrent for `days` days already: the rule expires them at OSS's next run."
    )
    due_bytes = serializers.IntegerField()
    kept_rules = LifecycleRuleSerializer(many=True, help_text="The bucket's other rules, written back unchanged.")
    replaced_rule = LifecycleRuleSerializer(allow_null=True, help_text="The console's rule the new one replaces.")


class ExpireInputSerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=lifecycle.MIN_DAYS,
        max_value=lifecycle.MAX_DAYS,
        help_text="Days after a version became noncurrent before OSS deletes it.",
    )
    confirmation = serializers.CharField(max_length=input_limits.BUCKET, help_text="The bucket's name, to confirm.")


class LifecycleChangeSerializer(serializers.Serializer):
    bucket = serializers.IntegerField(source="bucket.pk")
    rules = LifecycleRuleSerializer(many=True, help_text="The bucket's rules after the change, read back from OSS.")
    request_id = serializers.CharField(help_text="The OSS request id of PutBucketLifecycle/DeleteBucketLifecycle.")
    plan = ExpiryPlanSerializer(allow_null=True, help_text="The figures the rule was set with (expire only).")
