"""Shapes of the object API: query parameters and bodies in, listings, details and results out.

Inputs are checked for shape only (with the same checks as the forms); the rules needing OSS or KMS are the
services'.
"""

from django.urls import reverse
from rest_framework import serializers

from buckets.services import objects as services
from cloud import sse
from cloud.errors import ServiceError
from console import input_limits
from encryption.models import MasterKey

BUCKET_DEFAULT = "default"


def _shape(check, value):
    try:
        check(value)
    except ServiceError as error:
        raise serializers.ValidationError(error.message) from None
    return value


def _setting(data: dict) -> sse.Sse:
    try:
        return sse.parse(data["method"], data.get("algorithm", ""), data.get("key_id", ""))
    except ServiceError as error:
        raise serializers.ValidationError({"method": error.message}) from None


# Inputs


class ObjectListQuerySerializer(serializers.Serializer):
    prefix = serializers.CharField(
        max_length=input_limits.OBJECT_KEY, required=False, default="", allow_blank=True, trim_whitespace=False
    )
    token = serializers.CharField(
        max_length=input_limits.CONTINUATION_TOKEN,
        required=False,
        default="",
        allow_blank=True,
        help_text="next_token of the previous page.",
    )
    max_keys = serializers.IntegerField(required=False, default=services.PAGE_SIZE, min_value=1, max_value=1000)


class ObjectKeySerializer(serializers.Serializer):
    key = serializers.CharField(
        max_length=input_limits.OBJECT_KEY, trim_whitespace=False, help_text="The full object key, slashes included."
    )

    def validate_key(self, key):
        return _shape(services.check_object_key, key)


class ObjectUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    key = serializers.CharField(
        max_length=input_limits.OBJECT_KEY, trim_whitespace=False, help_text="The full object key, slashes included."
    )
    method = serializers.ChoiceField(
        choices=[BUCKET_DEFAULT, sse.OSS, sse.KMS],
        default=BUCKET_DEFAULT,
        help_text='"default": no encryption headers, so the bucket default applies; "oss" or "kms" set the '
        "object's own encryption, which wins over the bucket default.",
    )
    algorithm = serializers.ChoiceField(choices=[sse.AES256, sse.SM4], required=False, allow_blank=True)
    key_id = serializers.CharField(
        max_length=input_limits.KMS_KEY,
        required=False,
        allow_blank=True,
        help_text="KMS only: a CMK id, alias or ARN; blank: alias/acs/oss.",
    )
    content_type = serializers.CharField(
        max_length=input_limits.CONTENT_TYPE, required=False, default="", allow_blank=True
    )
    metadata = serializers.ListField(
        child=serializers.CharField(max_length=input_limits.METADATA),
        required=False,
        default=list,
        help_text="User metadata as name=value items.",
    )
    overwrite = serializers.BooleanField(required=False, default=False)
    cse_master_key = serializers.PrimaryKeyRelatedField(
        queryset=MasterKey.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of a CSE master key: the console encrypts the file with it before the upload (client-side "
        "encryption); the server-side encryption chosen still applies on top.",
    )

    def validate_key(self, key):
        return _shape(services.check_object_key, key)

    def validate_content_type(self, content_type):
        return _shape(services.check_content_type, content_type.strip())

    def validate_metadata(self, lines):
        try:
            return services.parse_metadata(lines)
        except ServiceError as error:
            raise serializers.ValidationError(error.message) from None

    def validate(self, data):
        if data["method"] == BUCKET_DEFAULT:
            if data.get("algorithm") or data.get("key_id"):
                raise serializers.ValidationError({"method": "The bucket default takes no algorithm and no key."})
            data["sse"] = None
        else:
            data["sse"] = _setting({**data, "algorithm": data.get("algorithm") or sse.AES256})
        return data


class ObjectContentQuerySerializer(ObjectKeySerializer):
    decrypt = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: the plaintext of a client-side encrypted object, decrypted with the console's master key "
        "its envelope names; false: the stored bytes.",
    )
    range = serializers.CharField(
        max_length=input_limits.RANGE,
        required=False,
        default="",
        allow_blank=True,
        help_text="With decrypt only: bytes=a-b, bytes=a- or bytes=-n.",
    )

    def validate(self, data):
        if data["range"] and not data["decrypt"]:
            raise serializers.ValidationError({"range": "A range is only served with decrypt=true."})
        return data


class EncryptionChangeRequestSerializer(serializers.Serializer):
    key = serializers.CharField(
        max_length=input_limits.OBJECT_KEY, trim_whitespace=False, help_text="The full object key, slashes included."
    )
    method = serializers.ChoiceField(
        choices=[sse.NONE, sse.OSS, sse.KMS],
        help_text='"none" is refused while the bucket has a default: OSS would encrypt the copy with it.',
    )
    algorithm = serializers.ChoiceField(choices=[sse.AES256, sse.SM4], required=False, allow_blank=True)
    key_id = serializers.CharField(
        max_length=input_limits.KMS_KEY, required=False, allow_blank=True, help_text="KMS only; blank: alias/acs/oss."
    )
    expected_etag = serializers.CharField(
        max_length=input_limits.ETAG,
        required=False,
        default="",
        allow_blank=True,
        help_text="The ETag the caller saw; if the object is no longer that version, nothing is done (409).",
    )

    def validate_key(self, key):
        return _shape(services.check_object_key, key)

    def validate(self, data):
        algorithm = data.get("algorithm") or ("" if data["method"] == sse.NONE else sse.AES256)
        data["sse"] = _setting({**data, "algorithm": algorithm})
        return data


# Outputs


class EncryptionSerializer(serializers.Serializer):
    method = serializers.CharField(source="sse.method", help_text="none, oss or kms")
    algorithm = serializers.CharField(source="sse.algorithm", help_text="AES256 or SM4; blank with none")
    key_id = serializers.CharField(source="sse.key_id", help_text="KMS only: the CMK id")
    key_name = serializers.CharField(help_text="KMS only: alias/<name>(<CMK ID>)")
    label = serializers.CharField(help_text="As the console shows it, e.g. KMS SM4 alias/app(1234…)")


class ClientSideEncryptionSerializer(serializers.Serializer):
    wrap_algorithm = serializers.CharField()
    wrap_label = serializers.CharField()
    content_cipher = serializers.CharField()
    cipher_label = serializers.CharField()
    matdesc = serializers.JSONField(allow_null=True)
    unencrypted_length = serializers.IntegerField(allow_null=True)
    unencrypted_md5 = serializers.CharField()
    data_size = serializers.IntegerField(allow_null=True)
    part_size = serializers.IntegerField(allow_null=True)
    older_names = serializers.BooleanField(help_text="Recognised by the older x-oss-meta-oss-crypto-* names.")


class ObjectRowSerializer(serializers.Serializer):
    key = serializers.CharField(source="entry.key")
    size = serializers.IntegerField(source="entry.size")
    etag = serializers.CharField(source="entry.etag")
    last_modified = serializers.DateTimeField(source="entry.last_modified", allow_null=True)
    storage_class = serializers.CharField(source="entry.storage_class")
    object_type = serializers.CharField(source="entry.object_type")
    encryption = EncryptionSerializer(allow_null=True, help_text="Null when the object's HEAD failed (see error).")
    client_side_encryption = ClientSideEncryptionSerializer(source="client_side", allow_null=True)
    error = serializers.CharField(help_text="Why the encryption is unknown, if it is.")


class ObjectListSerializer(serializers.Serializer):
    prefix = serializers.CharField()
    token = serializers.CharField()
    folders = serializers.ListField(child=serializers.CharField(), help_text="Sub-folder prefixes, ending in /.")
    objects = ObjectRowSerializer(many=True)
    next_token = serializers.CharField(help_text="Pass as token for the next page; blank on the last page.")


class ObjectDetailSerializer(serializers.Serializer):
    key = serializers.CharField()
    size = serializers.IntegerField(source="head.size")
    etag = serializers.CharField(source="head.etag")
    crc64 = serializers.CharField()
    last_modified = serializers.DateTimeField(allow_null=True)
    storage_class = serializers.CharField(source="head.storage_class")
    object_type = serializers.CharField()
    content_headers = serializers.DictField(child=serializers.CharField(), source="head.content_headers")
    user_metadata = serializers.DictField(child=serializers.CharField(), source="head.user_metadata")
    tags = serializers.DictField(child=serializers.CharField())
    acl = serializers.CharField()
    encryption = EncryptionSerializer()
    sse_headers = serializers.DictField(
        child=serializers.CharField(), help_text="The SSE response headers verbatim; encryption.key_name names the CMK."
    )
    client_side_encryption = ClientSideEncryptionSerializer(source="client_side", allow_null=True)
    request_id = serializers.CharField(source="head.request_id")


class ObjectVersionSerializer(serializers.Serializer):
    version_id = serializers.CharField(
        source="version.version_id", help_text='"null" for a version written unversioned'
    )
    is_latest = serializers.BooleanField(source="version.is_latest", help_text="The current version (or marker).")
    delete_marker = serializers.BooleanField(source="version.delete_marker")
    size = serializers.IntegerField(source="version.size")
    etag = serializers.CharField(source="version.etag")
    last_modified = serializers.DateTimeField(source="version.last_modified", allow_null=True)
    storage_class = serializers.CharField(source="version.storage_class")
    encryption = EncryptionSerializer(
        allow_null=True, help_text="This version's own; null for a delete marker or when its HEAD failed (see error)."
    )
    client_side_encryption = ClientSideEncryptionSerializer(source="client_side", allow_null=True)
    error = serializers.CharField(help_text="Why the version's encryption is unknown, if it is.")


class ObjectVersionsSerializer(serializers.Serializer):
    key = serializers.CharField()
    versions = ObjectVersionSerializer(many=True, source="rows", help_text="Newest first.")
    more = serializers.BooleanField(help_text="True when the key has more versions than the ones listed.")


class UploadSerializer(serializers.Serializer):
    key = serializers.CharField()
    size = serializers.IntegerField()
    etag = serializers.CharField()
    request_id = serializers.CharField()
    encryption = EncryptionSerializer(help_text="What the object got, from the PutObject response.")
    source = serializers.ChoiceField(
        choices=["object", "bucket", "none"], help_text="Whether the object setting or the bucket default decided."
    )
    explanation = serializers.CharField()
    bucket_default = EncryptionSerializer()
    cse_master_key = serializers.CharField(
        source="master_key", default="", help_text="The master key the content was encrypted with; blank: none."
    )


class BackgroundUploadSerializer(serializers.Serializer):
    """A client-side encrypted upload handed to a background task (202): where to follow it."""

    transfer_id = serializers.IntegerField(source="pk")
    key = serializers.CharField()
    size = serializers.IntegerField()
    state = serializers.CharField(help_text="queued, running, done or failed")
    status_url = serializers.SerializerMethodField(
        help_text="The transfer's status as JSON (state, bytes_done, percent, error), for a logged-in session; "
        "also in the Location header."
    )
    page_url = serializers.SerializerMethodField(help_text="The console page that follows the transfer.")

    def get_status_url(self, transfer) -> str:
        return reverse("encryption:cse_transfer_status", args=[transfer.pk])

    def get_page_url(self, transfer) -> str:
        return reverse("encryption:cse_transfer", args=[transfer.pk])


class EncryptionChangeSerializer(serializers.Serializer):
    key = serializers.CharField()
    before = EncryptionSerializer()
    after = EncryptionSerializer()
    etag_before = serializers.CharField()
    etag_after = serializers.CharField()
    request_id = serializers.CharField(help_text="Of the CopyObject.")


class CloudErrorSerializer(serializers.Serializer):
    """How a refusal of OSS or KMS is answered (see console/api.py)."""

    detail = serializers.CharField()
    service = serializers.CharField(help_text="oss or kms")
    code = serializers.CharField(help_text="The cloud's error code, e.g. AccessDenied")
    message = serializers.CharField(help_text="The cloud's message, e.g. This request is forbidden by kms.")
    request_id = serializers.CharField()
