"""/api/v1/connections/: every role reads and tests connections; only Admins add, change or remove them.

Testing is open to Viewers because it changes nothing and reveals no secret: it only says whether OSS and KMS
accept the stored credentials, with the cloud's error code and request id when they do not.
"""

from django.db.models import Count
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from buckets.api import schema
from buckets.api.serializers.connections import (
    ConnectionCreateSerializer,
    ConnectionSerializer,
    ConnectionTestFailedSerializer,
    ConnectionTestSerializer,
    ConnectionUpdateSerializer,
)
from buckets.models import Connection
from buckets.services import connections as services

_SAVING = (
    "Saving tests the connection first, as POST .../test/ does. When a check fails nothing is saved: the answer is "
    "400 with `test` (each check, its code and plain advice). Send `save_anyway: true` to save it regardless; "
    "`last_test` then shows the failed test. An OSS endpoint without a scheme gets https://."
)


@method_decorator(sensitive_post_parameters("access_key_secret", "sts_token"), name="dispatch")
@extend_schema_view(
    list=extend_schema(examples=[schema.CONNECTION_EXAMPLE]),
    retrieve=extend_schema(examples=[schema.CONNECTION_EXAMPLE]),
)
class ConnectionViewSet(viewsets.ModelViewSet):
    """OSS endpoints, regions and AccessKey pairs the console works with. Secrets are write-only."""

    queryset = Connection.objects.annotate(bucket_count=Count("buckets"))
    serializer_class = ConnectionSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["region", "is_demo"]
    action_permissions = {
        "list": ["buckets.view_connection"],
        "retrieve": ["buckets.view_connection"],
        "test": ["buckets.view_connection"],
        "create": ["buckets.add_connection"],
        "update": ["buckets.change_connection"],
        "partial_update": ["buckets.change_connection"],
        "destroy": ["buckets.delete_connection"],
    }

    @extend_schema(
        request=ConnectionCreateSerializer,
        responses={201: ConnectionSerializer, 400: ConnectionTestFailedSerializer},
        examples=[schema.CONNECTION_CREATE_EXAMPLE, schema.CONNECTION_EXAMPLE, schema.CONNECTION_SAVE_REFUSED_EXAMPLE],
        description=_SAVING,
    )
    def create(self, request):
        payload = ConnectionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            connection = services.create_connection(actor=request.user, **payload.validated_data)
        except services.ConnectionTestFailed as failed:
            return _test_failed(failed)
        return Response(self._shown(connection), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ConnectionUpdateSerializer,
        responses={200: ConnectionSerializer, 400: ConnectionTestFailedSerializer},
        examples=[schema.CONNECTION_EXAMPLE, schema.CONNECTION_SAVE_REFUSED_EXAMPLE],
        description=_SAVING,
    )
    def update(self, request, pk=None, partial=False):
        payload = ConnectionUpdateSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        try:
            connection = services.update_connection(
                actor=request.user, connection=self.get_object(), **payload.validated_data
            )
        except services.ConnectionTestFailed as failed:
            return _test_failed(failed)
        return Response(self._shown(connection))

    @extend_schema(
        request=ConnectionUpdateSerializer,
        responses={200: ConnectionSerializer, 400: ConnectionTestFailedSerializer},
        examples=[schema.CONNECTION_ROTATE_EXAMPLE, schema.CONNECTION_EXAMPLE, schema.CONNECTION_SAVE_REFUSED_EXAMPLE],
        description=_SAVING,
    )
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        services.delete_connection(actor=request.user, connection=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses=ConnectionTestSerializer,
        examples=[schema.CONNECTION_TEST_PASSED_EXAMPLE, schema.CONNECTION_TEST_FAILED_EXAMPLE],
        description="Call OSS ListBuckets and KMS ListKeys with the stored credentials (any role). Answers 200 "
        "whether or not the checks pass: `ok` and each check say how it went; the connection's `last_test` keeps it.",
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        connection = self.get_object()
        result = services.test_connection(connection, request.user)
        return Response(ConnectionTestSerializer(result, context={"connection": connection}).data)

    def _shown(self, connection):
        return self.get_serializer(self.get_queryset().get(pk=connection.pk)).data


def _test_failed(failed: services.ConnectionTestFailed) -> Response:
    """400: nothing was saved; `test` says which check failed and what to do (`save_anyway` saves regardless)."""
    test = ConnectionTestSerializer(failed.test, context={"connection": failed.test.connection}).data
    return Response({"detail": failed.message, "test": test}, status=status.HTTP_400_BAD_REQUEST)
