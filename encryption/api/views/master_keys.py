"""/api/v1/cse-keys/: master keys for client-side encryption. Every role lists and reads them; Admins create
(generate or import an RSA key pair, or add a KMS key) and delete. Private key fields are write-only: no answer
ever holds the private key."""

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from cloud.cse.wrapping import RSA_KEY_SIZES
from encryption.api import schema
from encryption.api.serializers.master_keys import MasterKeyCreateSerializer, MasterKeySerializer
from encryption.models import MasterKey
from encryption.services import master_keys


@method_decorator(sensitive_post_parameters("private_key_pem", "passphrase"), name="dispatch")
class MasterKeyViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Master keys for client-side encryption (RSA key pairs kept sealed by the console, or KMS keys)."""

    queryset = MasterKey.objects.select_related("connection", "created_by").order_by("name")
    serializer_class = MasterKeySerializer
    action_permissions = {
        "list": ["encryption.view_masterkey"],
        "retrieve": ["encryption.view_masterkey"],
        "create": ["encryption.add_masterkey"],
        "destroy": ["encryption.delete_masterkey"],
    }

    @extend_schema(
        request=MasterKeyCreateSerializer,
        responses={201: MasterKeySerializer},
        examples=[schema.GENERATE_EXAMPLE, schema.IMPORT_EXAMPLE, schema.KMS_EXAMPLE],
    )
    def create(self, request):
        payload = MasterKeyCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        common = {
            "actor": request.user,
            "name": data["name"],
            "description": data["description"],
            "matdesc": data["matdesc"],
        }
        if data["kind"] == MasterKey.KMS:
            key = master_keys.add_kms(
                **common, connection=data["connection"], region=data["region"], cmk_id=data["cmk_id"]
            )
        elif "private_key_pem" in data:
            key = master_keys.import_rsa(**common, pem=data["private_key_pem"], passphrase=data["passphrase"])
        else:
            key = master_keys.generate_rsa(**common, bits=data.get("bits", RSA_KEY_SIZES[0]))
        return Response(self.get_serializer(key).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        master_keys.delete_master_key(actor=request.user, key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
