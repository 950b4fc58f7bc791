"""/api/v1/buckets/: the bucket snapshot across connections, creation, and each bucket's default encryption."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from buckets.api import schema
from buckets.api.serializers.buckets import (
    BucketCreateSerializer,
    BucketDetailSerializer,
    BucketEncryptionSerializer,
    BucketSerializer,
    CreatedBucketSerializer,
    DefaultEncryptionChangeSerializer,
    DefaultEncryptionInputSerializer,
    ExpireInputSerializer,
    ExpiryPlanSerializer,
    LifecycleChangeSerializer,
    LifecycleSerializer,
)
from buckets.filtersets import BucketFilterSet
from buckets.models import Bucket, Connection
from buckets.services import buckets as services
from buckets.services import lifecycle as lifecycle_services
from cloud import sse
from cloud.errors import ServiceError
from console.api.pagination import Pagination

DAYS_TEXT = f"{lifecycle_services.MIN_DAYS}-{lifecycle_services.MAX_DAYS} days after a version became noncurrent."


class BucketPagination(Pagination):
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
        examples=[schema.BUCKET_DETAIL_EXAMPLE],
    ),
)
class BucketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Buckets (Viewer reads), bucket creation (Admin), default encryption and the rule expiring older versions
    (Operator changes)."""

    queryset = Bucket.objects.select_related("connection")
    serializer_class = BucketSerializer
    pagination_class = BucketPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = BucketFilterSet
    action_permissions = {
        "list": ["buckets.view_bucket"],
        "retrieve": ["buckets.view_bucket"],
        "create": ["buckets.add_bucket"],
        "encryption": ["buckets.view_bucket"],
        "set_encryption": ["buckets.change_encryption"],
        "delete_encryption": ["buckets.change_encryption"],
        "lifecycle": ["buckets.view_bucket"],
        "expiry_plan": ["buckets.change_lifecycle"],
        "expire_noncurrent": ["buckets.change_lifecycle"],
        "remove_expiry": ["buckets.change_lifecycle"],
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
            schema.BUCKET_CREATE_EXAMPLE,
            schema.BUCKET_CREATED_EXAMPLE,
            schema.BUCKET_CREATED_WITHOUT_ENCRYPTION_EXAMPLE,
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
        examples=[schema.DEFAULT_ENCRYPTION_EXAMPLE],
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
        examples=[schema.SET_KMS_SM4_EXAMPLE, schema.SET_OSS_AES256_EXAMPLE, schema.DEFAULT_CHANGED_EXAMPLE],
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
        examples=[schema.DEFAULT_DELETED_EXAMPLE],
    )
    @encryption.mapping.delete
    def delete_encryption(self, request, pk=None):
        change = services.delete_default_encryption(self.get_object(), request.user)
        return Response(DefaultEncryptionChangeSerializer(change).data)

    @extend_schema(
        summary="The bucket's lifecycle rules, read from OSS (GetBucketLifecycle)",
        responses=LifecycleSerializer,
        examples=[schema.LIFECYCLE_EXAMPLE],
    )
    @action(detail=True, methods=["get"])
    def lifecycle(self, request, pk=None):
        return Response(LifecycleSerializer({"rules": lifecycle_services.lifecycle_rules(self.get_object())}).data)

    @extend_schema(
        summary="Dry run of the rule expiring older versions: what it would delete, now and later",
        description=(
            "Lists every version of the (versioned) bucket and counts the noncurrent ones, and those noncurrent for"
            " `days` days already (counted from when the next newer version was written, as OSS counts). Nothing"
            " is written."
        ),
        parameters=[
            OpenApiParameter(
                "days",
                OpenApiTypes.INT,
                required=True,
                description=DAYS_TEXT,
            )
        ],
        responses=ExpiryPlanSerializer,
        examples=[schema.EXPIRY_PLAN_EXAMPLE],
    )
    @action(detail=True, methods=["get"], url_path="lifecycle/expiry-plan", url_name="expiry-plan")
    def expiry_plan(self, request, pk=None):
        days = request.query_params.get("days", "")
        if not days.isdigit():
            raise ServiceError(f"Give days={lifecycle_services.MIN_DAYS}..{lifecycle_services.MAX_DAYS} in the query.")
        plan = lifecycle_services.expiry_plan(self.get_object(), int(days))
        return Response(ExpiryPlanSerializer(plan).data)

    @extend_schema(
        summary="Expire older versions: add the console's rule (PutBucketLifecycle), keeping every other rule",
        description=(
            f"Adds (or replaces) the rule `{lifecycle_services.CONSOLE_RULE_ID}`: NoncurrentVersionExpiration after"
            " `days` days over the whole bucket. The bucket's other rules are written back unchanged."
            " `confirmation` must be the bucket's name. Refused for a bucket that is not versioned. OSS deletes the"
            " versions at its next lifecycle run, not at once."
        ),
        request=ExpireInputSerializer,
        responses=LifecycleChangeSerializer,
        examples=[schema.EXPIRE_REQUEST_EXAMPLE, schema.EXPIRED_EXAMPLE, schema.EXPIRE_UNCONFIRMED_EXAMPLE],
    )
    @action(detail=True, methods=["post"], url_path="lifecycle/expire-noncurrent", url_name="expire-noncurrent")
    def expire_noncurrent(self, request, pk=None):
        payload = ExpireInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        change = lifecycle_services.expire_noncurrent_versions(
            self.get_object(), payload.validated_data["days"], request.user, payload.validated_data["confirmation"]
        )
        return Response(LifecycleChangeSerializer(change).data)

    @extend_schema(
        summary="Remove the console's rule only (older versions are kept again)",
        description=(
            "DeleteBucketLifecycle when it is the bucket's only rule, else PutBucketLifecycle with the other rules."
        ),
        request=None,
        responses=LifecycleChangeSerializer,
        examples=[schema.EXPIRY_REMOVED_EXAMPLE],
    )
    @expire_noncurrent.mapping.delete
    def remove_expiry(self, request, pk=None):
        change = lifecycle_services.remove_expiry(self.get_object(), request.user)
        return Response(LifecycleChangeSerializer(change).data)
