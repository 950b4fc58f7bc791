"""KMS keys and the RAM policy over the API: the same services as the Keys pages.

Keys live in KMS, so a key is addressed by its id with the connection and region as query parameters.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from buckets.models import Connection
from encryption import byok, policy, services
from encryption import sse as sse_rules

VIEW_KEY, MANAGE_KEY = "encryption.view_key", "encryption.manage_key"

SCOPE = [
    OpenApiParameter("connection", OpenApiTypes.INT, required=True, description="Connection id"),
    OpenApiParameter("region", OpenApiTypes.STR, description="KMS region; default: the connection's region"),
]


class KeyPermissions(permissions.BasePermission):
    """Viewers read keys; changing them is an Admin matter (encryption.manage_key)."""

    def has_permission(self, request, view):
        needed = VIEW_KEY if request.method in permissions.SAFE_METHODS else MANAGE_KEY
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(needed))


class KeySerializer(serializers.Serializer):
    key_id = serializers.CharField(source="key.key_id")
    name = serializers.CharField(source="key.display_name", help_text="alias/<name>(<CMK ID>), as OSS shows it")
    arn = serializers.CharField(source="key.arn")
    aliases = serializers.ListField(source="key.aliases", child=serializers.CharField())
    state = serializers.CharField(source="key.state")
    spec = serializers.CharField(source="key.spec")
    usage = serializers.CharField(source="key.usage")
    origin = serializers.CharField(source="key.origin")
    protection_level = serializers.CharField(source="key.protection_level")
    description = serializers.CharField(source="key.description")
    created = serializers.CharField(source="key.created")
    deletion_date = serializers.CharField(source="key.deletion_date")
    material_expires = serializers.CharField(source="key.material_expires")
    automatic_rotation = serializers.CharField(source="key.automatic_rotation")
    last_rotation = serializers.CharField(source="key.last_rotation")
    used_by = serializers.ListField(child=serializers.CharField(), help_text="Buckets using the key as default")


class KeyCreateSerializer(serializers.Serializer):
    connection = serializers.IntegerField()
    region = serializers.CharField(required=False, default="")
    spec = serializers.ChoiceField(choices=services.KEY_SPECS, default=services.KEY_SPECS[0])
    origin = serializers.ChoiceField(choices=["Aliyun_KMS", "EXTERNAL"], default="Aliyun_KMS")
    description = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=services.MAX_DESCRIPTION
    )
    alias = serializers.CharField(required=False, default="", allow_blank=True, max_length=261)


class ChangeSerializer(serializers.Serializer):
    key = KeySerializer(source="*")
    request_id = serializers.CharField()


class AliasSerializer(serializers.Serializer):
    alias = serializers.CharField(max_length=261)


class DeletionSerializer(serializers.Serializer):
    pending_days = serializers.IntegerField(min_value=services.PENDING_DAYS[0], max_value=services.PENDING_DAYS[1])


class WrappingSerializer(serializers.Serializer):
    wrapping_algorithm = serializers.ChoiceField(
        choices=list(byok.WRAPPING_HASHES), default=byok.DEFAULT_WRAPPING_ALGORITHM
    )


class ImportParametersSerializer(serializers.Serializer):
    key_id = serializers.CharField()
    public_key = serializers.CharField(help_text="base64 DER, as KMS returns it")
    public_key_pem = serializers.CharField()
    import_token = serializers.CharField()
    token_expires = serializers.CharField()


class MaterialSerializer(serializers.Serializer):
    encrypted_key_material = serializers.CharField(help_text="base64 of the 32 bytes wrapped with the public key")
    import_token = serializers.CharField()
    expires_unix = serializers.IntegerField(min_value=0, default=0, help_text="0: the material never expires")


def _valid(serializer_class, data) -> dict:
    payload = serializer_class(data=data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def _scope(connection_id, region: str):
    try:
        connection = get_object_or_404(Connection, pk=int(connection_id))
    except (TypeError, ValueError):
        raise serializers.ValidationError({"connection": "A connection id is required."}) from None
    return connection, services.check_key_region(connection, region or connection.region)


def _changed(change) -> Response:
    return Response(ChangeSerializer({"key": change.key, "used_by": (), "request_id": change.request_id}).data)


KEY_EXAMPLE = OpenApiExample(
    "A named key",
    value={
        "key_id": "key-hzz62f1c3f8d1ad6xxxxx",
        "name": "alias/app-data(key-hzz62f1c3f8d1ad6xxxxx)",
        "arn": "acs:kms:cn-hangzhou:1234567890:key/key-hzz62f1c3f8d1ad6xxxxx",
        "aliases": ["alias/app-data"],
        "state": "Enabled",
        "spec": "Aliyun_AES_256",
        "usage": "ENCRYPT/DECRYPT",
        "origin": "Aliyun_KMS",
        "protection_level": "SOFTWARE",
        "description": "",
        "created": "2026-11-23T10:00:00Z",
        "deletion_date": "",
        "material_expires": "",
        "automatic_rotation": "Disabled",
        "last_rotation": "",
        "used_by": ["logs"],
    },
    response_only=True,
)


class KeyViewSet(viewsets.ViewSet):
    """KMS keys of a connection in a region (Viewer reads, Admin changes)."""

    permission_classes = [KeyPermissions]
    lookup_field = "key_id"
    lookup_value_regex = r"[A-Za-z0-9_\-]+"

    def _scoped(self, request):
        return _scope(request.query_params.get("connection"), request.query_params.get("region", ""))

    def _change(self, request, key_id, operation, **arguments):
        connection, region = self._scoped(request)
        change = operation(actor=request.user, connection=connection, region=region, key_id=key_id, **arguments)
        return _changed(change)

    @extend_schema(parameters=SCOPE, responses=KeySerializer(many=True), examples=[KEY_EXAMPLE])
    def list(self, request):
        connection, region = self._scoped(request)
        return Response(KeySerializer(services.list_keys(connection, region), many=True).data)

    @extend_schema(parameters=SCOPE, responses=KeySerializer, examples=[KEY_EXAMPLE])
    def retrieve(self, request, key_id=None):
        connection, region = self._scoped(request)
        return Response(KeySerializer(services.get_key(connection, region, key_id)).data)

    @extend_schema(
        request=KeyCreateSerializer,
        responses={201: ChangeSerializer},
        examples=[
            OpenApiExample(
                "A key with an alias",
                value={"connection": 1, "region": "cn-hangzhou", "spec": "Aliyun_SM4", "alias": "alias/app-data"},
                request_only=True,
            )
        ],
    )
    def create(self, request):
        data = _valid(KeyCreateSerializer, request.data)
        connection, region = _scope(data.pop("connection"), data.pop("region"))
        change = services.create_key(actor=request.user, connection=connection, region=region, **data)
        return Response(_changed(change).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=SCOPE, request=AliasSerializer, responses=ChangeSerializer)
    @action(detail=True, methods=["post"])
    def aliases(self, request, key_id=None):
        alias = _valid(AliasSerializer, request.data)["alias"]
        return self._change(request, key_id, services.add_alias, alias=alias)

    @extend_schema(parameters=SCOPE, request=AliasSerializer, responses=ChangeSerializer)
    @action(detail=True, methods=["post"], url_path="remove-alias")
    def remove_alias(self, request, key_id=None):
        alias = _valid(AliasSerializer, request.data)["alias"]
        return self._change(request, key_id, services.remove_alias, alias=alias)

    @extend_schema(parameters=SCOPE, request=None, responses=ChangeSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request, key_id=None):
        return self._change(request, key_id, services.enable_key)

    @extend_schema(parameters=SCOPE, request=None, responses=ChangeSerializer)
    @action(detail=True, methods=["post"])
    def disable(self, request, key_id=None):
        return self._change(request, key_id, services.disable_key)

    @extend_schema(parameters=SCOPE, request=DeletionSerializer, responses=ChangeSerializer)
    @action(detail=True, methods=["post"], url_path="schedule-deletion")
    def schedule_deletion(self, request, key_id=None):
        days = _valid(DeletionSerializer, request.data)["pending_days"]
        return self._change(request, key_id, services.schedule_deletion, pending_days=days)

    @extend_schema(parameters=SCOPE, request=None, responses=ChangeSerializer)
    @action(detail=True, methods=["post"], url_path="cancel-deletion")
    def cancel_deletion(self, request, key_id=None):
        return self._change(request, key_id, services.cancel_deletion)

    @extend_schema(parameters=SCOPE, request=None, responses=ChangeSerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request, key_id=None):
        return self._change(request, key_id, services.rotate_key)

    @extend_schema(parameters=SCOPE, request=WrappingSerializer, responses=ImportParametersSerializer)
    @action(detail=True, methods=["post"], url_path="import-parameters")
    def import_parameters(self, request, key_id=None):
        algorithm = _valid(WrappingSerializer, request.data)["wrapping_algorithm"]
        connection, region = self._scoped(request)
        parameters = services.import_parameters(
            connection=connection, region=region, key_id=key_id, wrapping_algorithm=algorithm
        )
        body = {
            "key_id": parameters.key_id,
            "public_key": parameters.public_key,
            "public_key_pem": byok.public_key_pem(parameters.public_key),
            "import_token": parameters.import_token,
            "token_expires": parameters.token_expires,
        }
        return Response(ImportParametersSerializer(body).data)

    @extend_schema(parameters=SCOPE, request=MaterialSerializer, responses=ChangeSerializer)
    @action(detail=True, methods=["post"], url_path="import-material")
    def import_material(self, request, key_id=None):
        return self._change(request, key_id, services.import_material, **_valid(MaterialSerializer, request.data))


class RamPolicySerializer(serializers.Serializer):
    document = serializers.JSONField()
    key_arn = serializers.CharField()
    notes = serializers.ListField(child=serializers.CharField())


class RamPolicyView(APIView):
    """The exact RAM policy a user needs for a bucket, its encryption and what they will do (Viewer and up)."""

    permission_classes = [KeyPermissions]

    @extend_schema(
        parameters=[
            OpenApiParameter("connection", OpenApiTypes.INT, required=True),
            OpenApiParameter("bucket", OpenApiTypes.STR, required=True),
            OpenApiParameter("method", OpenApiTypes.STR, enum=[sse_rules.OSS, sse_rules.KMS], required=True),
            OpenApiParameter("algorithm", OpenApiTypes.STR, enum=[sse_rules.AES256, sse_rules.SM4]),
            OpenApiParameter("key_id", OpenApiTypes.STR, description="KMS only; blank: alias/acs/oss"),
            OpenApiParameter(
                "purposes", OpenApiTypes.STR, many=True, enum=[value for value, _ in policy.PURPOSE_CHOICES]
            ),
        ],
        responses=RamPolicySerializer,
    )
    def get(self, request):
        query = request.query_params
        connection, _ = _scope(query.get("connection"), "")
        sse = sse_rules.parse(query.get("method", ""), query.get("algorithm", ""), query.get("key_id", ""))
        purposes = [part for value in query.getlist("purposes") for part in value.split(",") if part]
        result = services.ram_policy_for(
            connection=connection,
            bucket_name=query.get("bucket", ""),
            sse=sse,
            purposes=purposes or [value for value, _ in policy.PURPOSE_CHOICES],
        )
        return Response(
            RamPolicySerializer(
                {"document": result.document, "key_arn": result.key_arn, "notes": list(result.notes)}
            ).data
        )
