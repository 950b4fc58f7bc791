"""/api/v1/connections/: every role reads and tests connections; only Admins add, change or remove them.

Testing is open to Viewers because it changes nothing and reveals no secret: it only says whether OSS and KMS
accept the stored credentials, with the cloud's error code and request id when they do not.
"""

from django.db.models import Count
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from buckets.api.serializers.connections import (
    ConnectionCreateSerializer,
    ConnectionSerializer,
    ConnectionTestSerializer,
    ConnectionUpdateSerializer,
)
from buckets.models import Connection
from buckets.services import connections as services

CONNECTION_EXAMPLE = OpenApiExample(
    "A connection to Alibaba Cloud in Hangzhou",
    value={
        "id": 3,
        "name": "production",
        "oss_endpoint": "https://oss-cn-hangzhou.aliyuncs.com",
        "region": "cn-hangzhou",
        "access_key_id": "LTAI5tExampleKeyId00001",
        "kms_endpoint": "",
        "effective_kms_endpoint": "https://kms.cn-hangzhou.aliyuncs.com",
        "has_sts_token": False,
        "is_demo": False,
        "bucket_count": 12,
        "created_at": "2026-11-23T10:15:00Z",
        "updated_at": "2026-11-23T10:15:00Z",
    },
    response_only=True,
)
CREATE_EXAMPLE = OpenApiExample(
    "Add a connection",
    value={
        "name": "production",
        "oss_endpoint": "https://oss-cn-hangzhou.aliyuncs.com",
        "region": "cn-hangzhou",
        "access_key_id": "LTAI5tExampleKeyId00001",
        "access_key_secret": "<the AccessKey secret>",
    },
    request_only=True,
)
ROTATE_EXAMPLE = OpenApiExample(
    "Rotate the AccessKey pair",
    value={"access_key_id": "LTAI5tExampleKeyId00002", "access_key_secret": "<the new secret>"},
    request_only=True,
)
TEST_PASSED_EXAMPLE = OpenApiExample(
    "Both checks passed",
    value={
        "ok": True,
        "checks": [
            {
                "name": "OSS ListBuckets",
                "service": "oss",
                "ok": True,
                "summary": "12 bucket(s) visible at https://oss-cn-hangzhou.aliyuncs.com",
                "code": "",
                "message": "",
                "request_id": "",
            },
            {
                "name": "KMS ListKeys",
                "service": "kms",
                "ok": True,
                "summary": "KMS answered at https://kms.cn-hangzhou.aliyuncs.com in cn-hangzhou",
                "code": "",
                "message": "",
                "request_id": "7F6A8E4B-1C2D-4E5F-8A9B-0C1D2E3F4A5B",
            },
        ],
    },
    response_only=True,
)
TEST_FAILED_EXAMPLE = OpenApiExample(
    "A wrong secret",
    value={
        "ok": False,
        "checks": [
            {
                "name": "OSS ListBuckets",
                "service": "oss",
                "ok": False,
                "summary": "",
                "code": "SignatureDoesNotMatch",
                "message": "The request signature we calculated does not match the signature you provided.",
                "request_id": "6551DBCF4311A7303980C9B6",
            },
            {
                "name": "KMS ListKeys",
                "service": "kms",
                "ok": False,
                "summary": "",
                "code": "IncompleteSignature",
                "message": "The request signature does not conform to Aliyun standards.",
                "request_id": "2C5F1E7A-3B4D-4C6E-9F0A-1B2C3D4E5F6A",
            },
        ],
    },
    response_only=True,
)


@extend_schema_view(
    list=extend_schema(examples=[CONNECTION_EXAMPLE]),
    retrieve=extend_schema(examples=[CONNECTION_EXAMPLE]),
)
class ConnectionViewSet(viewsets.ModelViewSet):
    """OSS endpoints, regions and AccessKey pairs the console works with. Secrets are write-only."""

    queryset = Connection.objects.annotate(bucket_count=Count("buckets"))
    serializer_class = ConnectionSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["region", "is_demo"]
    action_permissions = {"test": ["buckets.view_connection"]}

    @extend_schema(
        request=ConnectionCreateSerializer,
        responses={201: ConnectionSerializer},
        examples=[CREATE_EXAMPLE, CONNECTION_EXAMPLE],
    )
    def create(self, request):
        payload = ConnectionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        connection = services.create_connection(actor=request.user, **payload.validated_data)
        return Response(self._shown(connection), status=status.HTTP_201_CREATED)

    @extend_schema(request=ConnectionUpdateSerializer, responses=ConnectionSerializer, examples=[CONNECTION_EXAMPLE])
    def update(self, request, pk=None, partial=False):
        payload = ConnectionUpdateSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        connection = services.update_connection(
            actor=request.user, connection=self.get_object(), **payload.validated_data
        )
        return Response(self._shown(connection))

    @extend_schema(
        request=ConnectionUpdateSerializer,
        responses=ConnectionSerializer,
        examples=[ROTATE_EXAMPLE, CONNECTION_EXAMPLE],
    )
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        services.delete_connection(actor=request.user, connection=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses=ConnectionTestSerializer,
        examples=[TEST_PASSED_EXAMPLE, TEST_FAILED_EXAMPLE],
        description="Call OSS ListBuckets and KMS ListKeys with the stored credentials (any role; changes nothing). "
        "Answers 200 whether or not the checks pass: `ok` and each check say how it went.",
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        result = services.test_connection(self.get_object(), request.user)
        return Response(ConnectionTestSerializer(result).data)

    def _shown(self, connection):
        return self.get_serializer(self.get_queryset().get(pk=connection.pk)).data
