"""/api/v1/buckets/: the bucket snapshot across connections, creation, and each bucket's default encryption."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from buckets.api.serializers.buckets import (
    BucketCreateSerializer,
    BucketDetailSerializer,
    BucketEncryptionSerializer,
    BucketSerializer,
    CreatedBucketSerializer,
    DefaultEncryptionChangeSerializer,
    DefaultEncryptionInputSerializer,
)
from buckets.filtersets import BucketFilterSet
from buckets.models import Bucket, Connection
from buckets.services import buckets as services
from cloud import sse

KEY_ID = "0987dcba-09fe-87dc-65ba-ab0987654321"
SETTING_EXAMPLE = {"method": "kms", "algorithm": "SM4", "key_id": KEY_ID}
CHANGE_EXAMPLE = {
    "bucket": 7,
    "before": {"method": "none", "algorithm": "", "key_id": "", "label": "None"},
    "after": {
        "method": "kms",
        "algorithm": "SM4",
        "key_id": KEY_ID,
        "label": f"KMS SM4 alias/finance({KEY_ID})",
    },
    "request_id": "5C1B138A109F4E405B2D8AEF",
    "note": services.NEW_OBJECTS_ONLY,
}
BUCKET_EXAMPLE = {
    "id": 7,
    "connection": 1,
    "connection_name": "production",
    "name": "finance-reports",
    "region": "cn-hangzhou",
    "region_name": "China (Hangzhou)",
    "location": "oss-cn-hangzhou",
    "created": "2026-11-23T09:30:00Z",
    "storage_class": "Standard",
    "encryption": {"method": "none", "algorithm": "", "key_id": "", "label": "None", "state": "none"},
    "refreshed_at": "2026-11-23T09:30:01Z",
}


class BucketPagination(LimitOffsetPagination):
    """Pages of buckets, with the connections whose snapshot could not be refreshed for this answer."""

    refresh_errors: list[dict] | tuple = ()

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["refresh_errors"] = self.refresh_errors
        return response

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["refresh_errors"] = {
            "type": "array",
            "description": "Connections whose refresh failed: their buckets are listed as last seen.",
            "items": {
                "type": "object",
                "properties": {
                    "connection": {"type": "integer"},
                    "name": {"type": "string"},
                    "error": {"type": "string"},
                },
            },
        }
        return paginated


@extend_schema_view(
    list=extend_schema(
        summary="Buckets of every connection, as last seen",
        description=(
            "Connections whose snapshot is older than 30 seconds are refreshed first (ListBuckets and GetBucketInfo);"
            " `refresh=true` refreshes all. A connection that cannot be refreshed keeps its last snapshot and is"
            " named in `refresh_errors`."
        ),
        parameters=[
            OpenApiParameter("refresh", OpenApiTypes.BOOL, description="Refresh every connection's snapshot first.")
        ],
    ),
    retrieve=extend_schema(
        summary="A bucket, read live from OSS",
        responses=BucketDetailSerializer,
        examples=[
            OpenApiExample(
                "KMS with a chosen key",
                response_only=True,
                value={
                    "bucket": BUCKET_EXAMPLE
                    | {
                        "encryption": SETTING_EXAMPLE
                        | {"label": f"KMS SM4 alias/finance({KEY_ID})", "state": "kms-named"}
                    },
                    "acl": "private",
                    "versioning": "",
                    "kms_key": {
                        "key_id": KEY_ID,
                        "display_name": f"alias/finance({KEY_ID})",
                        "state": "Enabled",
                        "spec": "Aliyun_SM4",
                        "origin": "Aliyun_KMS",
                        "arn": f"acs:kms:cn-hangzhou:1234567890:key/{KEY_ID}",
                    },
                    "problems": [],
                },
            )
        ],
    ),
)
class BucketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Buckets (Viewer reads), bucket creation (Admin) and default encryption (Operator changes)."""

    queryset = Bucket.objects.select_related("connection")
    serializer_class = BucketSerializer
    pagination_class = BucketPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = BucketFilterSet
    action_permissions = {
        "encryption": ["buckets.view_bucket"],
        "set_encryption": ["buckets.change_encryption"],
        "delete_encryption": ["buckets.change_encryption"],
    }

    def list(self, request, *args, **kwargs):
        force = request.query_params.get("refresh", "").lower() in ("true", "1", "yes")
        outcomes = services.refresh_stale(Connection.objects.all(), force=force)
        self.paginator.refresh_errors = [
            {"connection": outcome.connection.pk, "name": outcome.connection.name, "error": outcome.error}
            for outcome in outcomes
            if outcome.error
        ]
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return Response(BucketDetailSerializer(services.bucket_overview(self.get_object())).data)

    @extend_schema(
        summary="Create a bucket, optionally with default encryption",
        description=(
            "PutBucket, then PutBucketEncryption. If the second step fails the bucket exists WITHOUT encryption:"
            " the answer is still 201 and `encryption_error` says why."
        ),
        request=BucketCreateSerializer,
        responses={201: CreatedBucketSerializer},
        examples=[
            OpenApiExample(
                "With KMS encryption",
                request_only=True,
                value={
                    "connection": 1,
                    "name": "finance-reports",
                    "storage_class": "Standard",
                    "acl": "private",
                    "encryption": SETTING_EXAMPLE,
                },
            ),
            OpenApiExample(
                "Created and encrypted",
                response_only=True,
                status_codes=["201"],
                value={
                    "bucket": BUCKET_EXAMPLE
                    | {
                        "encryption": SETTING_EXAMPLE
                        | {"label": f"KMS SM4 alias/finance({KEY_ID})", "state": "kms-named"}
                    },
                    "request_id": "5C1B138A109F4E405B2D8AE0",
                    "encryption_requested": SETTING_EXAMPLE | {"label": f"KMS SM4 {KEY_ID}"},
                    "encryption": CHANGE_EXAMPLE,
                    "encryption_error": None,
                },
            ),
            OpenApiExample(
                "Created, encryption NOT set",
                response_only=True,
                status_codes=["201"],
                value={
                    "bucket": BUCKET_EXAMPLE,
                    "request_id": "5C1B138A109F4E405B2D8AE0",
                    "encryption_requested": SETTING_EXAMPLE | {"label": f"KMS SM4 {KEY_ID}"},
                    "encryption": None,
                    "encryption_error": (
                        f"KMS key {KEY_ID} is not in the bucket's region cn-hangzhou: KMS there does not know it "
                        "(Forbidden.KeyNotFound)."
                    ),
                },
            ),
        ],
    )
    def create(self, request):
        payload = BucketCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        encryption = data.pop("encryption", None)
        created = services.create_bucket(
            **data, encryption=sse.parse(**encryption) if encryption else sse.Sse(), actor=request.user
        )
        return Response(CreatedBucketSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The bucket's default encryption, read from OSS (GetBucketEncryption)",
        responses=BucketEncryptionSerializer,
        examples=[
            OpenApiExample(
                "OSS-managed SM4",
                response_only=True,
                value={
                    "id": 7,
                    "name": "finance-reports",
                    "region": "cn-hangzhou",
                    "encryption": {
                        "method": "oss",
                        "algorithm": "SM4",
                        "key_id": "",
                        "label": "OSS-managed SM4",
                        "state": "oss-sm4",
                    },
                },
            )
        ],
    )
    @action(detail=True, methods=["get"])
    def encryption(self, request, pk=None):
        bucket = services.read_default_encryption(self.get_object())
        return Response(BucketEncryptionSerializer(bucket).data)

    @extend_schema(
        summary="Set the bucket's default encryption (PutBucketEncryption; method none deletes it)",
        description=(
            "Checked against the bucket's region (KMS regions, no region = OSS-managed only) and, for a chosen"
            " CMK, that the key exists in the bucket's region and is Enabled. Existing objects are not changed."
        ),
        request=DefaultEncryptionInputSerializer,
        responses=DefaultEncryptionChangeSerializer,
        examples=[
            OpenApiExample("KMS, SM4, chosen key", request_only=True, value=SETTING_EXAMPLE),
            OpenApiExample("OSS-managed AES256", request_only=True, value={"method": "oss", "algorithm": "AES256"}),
            OpenApiExample("Changed", response_only=True, value=CHANGE_EXAMPLE),
        ],
    )
    @encryption.mapping.put
    def set_encryption(self, request, pk=None):
        payload = DefaultEncryptionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        setting = sse.parse(**payload.validated_data)
        change = services.set_default_encryption(self.get_object(), setting, request.user)
        return Response(DefaultEncryptionChangeSerializer(change).data)

    @extend_schema(
        summary="Delete the bucket's default encryption (DeleteBucketEncryption)",
        request=None,
        responses=DefaultEncryptionChangeSerializer,
        examples=[
            OpenApiExample(
                "Deleted",
                response_only=True,
                value=CHANGE_EXAMPLE | {"before": CHANGE_EXAMPLE["after"], "after": CHANGE_EXAMPLE["before"]},
            )
        ],
    )
    @encryption.mapping.delete
    def delete_encryption(self, request, pk=None):
        change = services.delete_default_encryption(self.get_object(), request.user)
        return Response(DefaultEncryptionChangeSerializer(change).data)
