"""/api/v1/keys/ and /api/v1/ram-policy/: KMS keys of a connection and region, and the RAM policy helper.

Keys live in KMS, not in the database: a key is addressed by its id, with the connection and the region as query
parameters, and the services of the Keys pages do the work (and write the audit log).
"""

from dataclasses import asdict

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from buckets.models import Connection
from cloud import sse as sse_rules
from cloud.errors import NotFound
from console.api.validation import validated
from encryption import byok
from encryption.api import schema
from encryption.api.serializers.keys import (
    PURPOSES,
    AliasSerializer,
    ImportParametersSerializer,
    KeyChangeSerializer,
    KeyCreateSerializer,
    KeySerializer,
    MaterialImportSerializer,
    RamPolicyQuerySerializer,
    RamPolicySerializer,
    ScheduleDeletionSerializer,
    ScopeSerializer,
    WrappingSerializer,
)
from encryption.services import keys as services

VIEW_KEY, MANAGE_KEY = "encryption.view_key", "encryption.manage_key"
# Key ids are UUIDs (older keys, localcloud) or `key-` and letters and digits (newer Alibaba Cloud keys).
KEY_ID_PATTERN = r"(?:key-[A-Za-z0-9]+|[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12})"


def _connection(connection_id: int) -> Connection:
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        raise NotFound(f"No connection {connection_id}.")
    return connection


def _scope(data: dict) -> tuple[Connection, str]:
    """The connection (404 when unknown) and the region (400 unless the connection can use it) of validated input."""
    connection = _connection(data["connection"])
    return connection, services.check_key_region(connection, data["region"] or connection.region)


def _policy_query(params) -> dict:
    """The query string as serializer input, `purposes` repeated or as a comma list (purposes=upload,download)."""
    data = {name: params.get(name) for name in params if name != "purposes"}
    if "purposes" in params:
        parts = (part.strip() for value in params.getlist("purposes") for part in value.split(","))
        data["purposes"] = [part for part in parts if part]
    return data


SCOPE_PARAMETERS = [
    OpenApiParameter("connection", OpenApiTypes.INT, required=True, description="The connection's id."),
    OpenApiParameter(
        "region",
        {"type": "string", "maxLength": 64},
        description="KMS region: the connection's own (the default) or one where OSS offers SSE.",
    ),
]


def _key_change_schema(summary: str, response_example: OpenApiExample, request=None, request_example=None):
    """The schema of a change action on one key: scope parameters, optional body, the key after the change."""
    examples = [response_example] + ([request_example] if request_example else [])
    return extend_schema(
        summary=summary,
        parameters=SCOPE_PARAMETERS,
        request=request,
        responses=KeyChangeSerializer,
        examples=examples,
    )


@method_decorator(sensitive_post_parameters("encrypted_key_material"), name="dispatch")
class KeyViewSet(viewsets.GenericViewSet):
    """KMS keys of a connection in a region: Viewers read them, Admins create and change them.

    Every change is audited with the key's state before and after and the KMS request id.
    """

    action_permissions = {
        "list": [VIEW_KEY],
        "retrieve": [VIEW_KEY],
        "create": [MANAGE_KEY],
        "aliases": [MANAGE_KEY],
        "remove_alias": [MANAGE_KEY],
        "enable": [MANAGE_KEY],
        "disable": [MANAGE_KEY],
        "schedule_deletion": [MANAGE_KEY],
        "cancel_deletion": [MANAGE_KEY],
        "rotate": [MANAGE_KEY],
        "import_parameters": [MANAGE_KEY],
        "import_material": [MANAGE_KEY],
    }
    lookup_field = "key_id"
    lookup_value_regex = KEY_ID_PATTERN

    def _scope(self) -> tuple[Connection, str]:
        return _scope(validated(ScopeSerializer, self.request.query_params))

    def _change(self, operation, key_id: str, **arguments) -> Response:
        connection, region = self._scope()
        change = operation(actor=self.request.user, connection=connection, region=region, key_id=key_id, **arguments)
        return Response(KeyChangeSerializer(change).data)

    @extend_schema(
        summary="Keys of a connection in a region",
        description="Each key with its aliases and the buckets (as last seen) using it as their default key.",
        parameters=SCOPE_PARAMETERS,
        responses=KeySerializer(many=True),
        examples=[schema.KEY_EXAMPLE],  # drf-spectacular shows it as an item of a page
    )
    def list(self, request):
        connection, region = self._scope()
        page = self.paginate_queryset(services.list_keys(connection, region))
        return self.get_paginated_response(KeySerializer(page, many=True).data)

    @extend_schema(
        summary="One key",
        parameters=SCOPE_PARAMETERS,
        responses=KeySerializer,
        examples=[schema.KEY_EXAMPLE],
    )
    def retrieve(self, request, key_id=None):
        connection, region = self._scope()
        return Response(KeySerializer(services.get_key(connection, region, key_id)).data)

    @extend_schema(
        summary="Create a key",
        description="An EXTERNAL key is created without material (PendingImport): get the import parameters, then "
        "import your wrapped material.",
        request=KeyCreateSerializer,
        responses={201: KeyChangeSerializer},
        examples=[schema.KEY_CREATE_EXAMPLE, schema.EXTERNAL_KEY_CREATE_EXAMPLE, schema.KEY_CREATED_EXAMPLE],
    )
    def create(self, request):
        data = validated(KeyCreateSerializer, request.data)
        connection, region = _scope(data)
        change = services.create_key(
            actor=request.user,
            connection=connection,
            region=region,
            spec=data["spec"],
            origin=data["origin"],
            description=data["description"],
            alias=data["alias"],
        )
        return Response(KeyChangeSerializer(change).data, status=status.HTTP_201_CREATED)

    @_key_change_schema("Add an alias", schema.ALIAS_ADDED_EXAMPLE, AliasSerializer, schema.ALIAS_ADD_EXAMPLE)
    @action(detail=True, methods=["post"])
    def aliases(self, request, key_id=None):
        alias = validated(AliasSerializer, request.data)["alias"]
        return self._change(services.add_alias, key_id, alias=alias)

    @_key_change_schema("Remove an alias", schema.ALIAS_REMOVED_EXAMPLE, AliasSerializer, schema.ALIAS_REMOVE_EXAMPLE)
    @action(detail=True, methods=["post"], url_path="remove-alias")
    def remove_alias(self, request, key_id=None):
        alias = validated(AliasSerializer, request.data)["alias"]
        return self._change(services.remove_alias, key_id, alias=alias)

    @_key_change_schema("Enable a key", schema.KEY_ENABLED_EXAMPLE)
    @action(detail=True, methods=["post"])
    def enable(self, request, key_id=None):
        return self._change(services.enable_key, key_id)

    @_key_change_schema("Disable a key", schema.KEY_DISABLED_EXAMPLE)
    @action(detail=True, methods=["post"])
    def disable(self, request, key_id=None):
        return self._change(services.disable_key, key_id)

    @_key_change_schema(
        "Schedule the deletion of a key",
        schema.DELETION_SCHEDULED_EXAMPLE,
        ScheduleDeletionSerializer,
        schema.DELETION_SCHEDULE_EXAMPLE,
    )
    @action(detail=True, methods=["post"], url_path="schedule-deletion")
    def schedule_deletion(self, request, key_id=None):
        pending_days = validated(ScheduleDeletionSerializer, request.data)["pending_days"]
        return self._change(services.schedule_deletion, key_id, pending_days=pending_days)

    @_key_change_schema("Cancel a scheduled deletion", schema.DELETION_CANCELLED_EXAMPLE)
    @action(detail=True, methods=["post"], url_path="cancel-deletion")
    def cancel_deletion(self, request, key_id=None):
        return self._change(services.cancel_deletion, key_id)

    @_key_change_schema("Rotate a key (a new primary key version)", schema.KEY_ROTATED_EXAMPLE)
    @action(detail=True, methods=["post"])
    def rotate(self, request, key_id=None):
        return self._change(services.rotate_key, key_id)

    @extend_schema(
        summary="Wrapping key and import token for an EXTERNAL key",
        description="Wrap your key material with the public key (RSAES-OAEP with the algorithm's hash), then send it "
        "with the token to import-material before the token expires.",
        parameters=SCOPE_PARAMETERS,
        request=WrappingSerializer,
        responses=ImportParametersSerializer,
        examples=[schema.IMPORT_PARAMETERS_REQUEST_EXAMPLE, schema.IMPORT_PARAMETERS_EXAMPLE],
    )
    @action(detail=True, methods=["post"], url_path="import-parameters")
    def import_parameters(self, request, key_id=None):
        algorithm = validated(WrappingSerializer, request.data)["wrapping_algorithm"]
        connection, region = self._scope()
        parameters = services.import_parameters(
            connection=connection, region=region, key_id=key_id, wrapping_algorithm=algorithm
        )
        body = asdict(parameters) | {
            "wrapping_algorithm": algorithm,
            "public_key_pem": byok.public_key_pem(parameters.public_key),
        }
        return Response(ImportParametersSerializer(body).data)

    @_key_change_schema(
        "Import wrapped key material into an EXTERNAL key",
        schema.MATERIAL_IMPORTED_EXAMPLE,
        MaterialImportSerializer,
        schema.MATERIAL_IMPORT_EXAMPLE,
    )
    @action(detail=True, methods=["post"], url_path="import-material")
    def import_material(self, request, key_id=None):
        return self._change(services.import_material, key_id, **validated(MaterialImportSerializer, request.data))


class RamPolicyView(APIView):
    """The RAM policy a user needs for a bucket, its encryption and what they will do with it (Viewer and up)."""

    action_permissions = {"get": [VIEW_KEY]}

    @extend_schema(
        summary="The RAM policy for a bucket's encryption",
        parameters=[
            OpenApiParameter("connection", OpenApiTypes.INT, required=True, description="The connection's id."),
            OpenApiParameter(
                "bucket",
                {"type": "string", "maxLength": 63},
                required=True,
                description="A bucket the console has seen.",
            ),
            OpenApiParameter("method", OpenApiTypes.STR, required=True, enum=[sse_rules.OSS, sse_rules.KMS]),
            OpenApiParameter("algorithm", OpenApiTypes.STR, required=True, enum=[sse_rules.AES256, sse_rules.SM4]),
            OpenApiParameter(
                "key_id",
                {"type": "string", "maxLength": 256},
                description="KMS only: a CMK id, alias or ARN; blank: alias/acs/oss.",
            ),
            OpenApiParameter(
                "purposes",
                OpenApiTypes.STR,
                many=True,
                enum=PURPOSES,
                description="Repeated or comma-separated; absent: all of them.",
            ),
        ],
        responses=RamPolicySerializer,
        examples=[schema.RAM_POLICY_EXAMPLE],
    )
    def get(self, request):
        query = validated(RamPolicyQuerySerializer, _policy_query(request.query_params))
        result = services.ram_policy_for(
            connection=_connection(query["connection"]),
            bucket_name=query["bucket"],
            sse=sse_rules.parse(query["method"], query["algorithm"], query["key_id"]),
            purposes=query["purposes"],
        )
        return Response(RamPolicySerializer(result).data)
