"""/api/v1/buckets/{bucket_id}/objects/...: browse, describe, upload, change one object's encryption, download.

`bucket_id` is the id of the bucket in the console (the snapshot row). Object keys contain slashes, so a key
always travels in the query string (`?key=`) or in the body, never in the path. Viewers read; Operators upload
(buckets.upload_object) and change encryption (buckets.change_object).
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from buckets.api import schema
from buckets.api.serializers.objects import (
    BackgroundUploadSerializer,
    CloudErrorSerializer,
    EncryptionChangeRequestSerializer,
    EncryptionChangeSerializer,
    ObjectContentQuerySerializer,
    ObjectDetailSerializer,
    ObjectKeySerializer,
    ObjectListQuerySerializer,
    ObjectListSerializer,
    ObjectUploadSerializer,
    ObjectVersionsSerializer,
    UploadSerializer,
)
from buckets.downloads import decrypted_download, streaming_download
from buckets.models import Bucket
from buckets.services import cse_transfer
from buckets.services import objects as services
from console import input_limits
from console.api.validation import validated
from encryption.models import CseTransfer

VIEW, UPLOAD, CHANGE = "buckets.view_bucket", "buckets.upload_object", "buckets.change_object"
TAGS = ["objects"]

KEY_PARAMETER = OpenApiParameter(
    "key",
    {"type": "string", "maxLength": input_limits.OBJECT_KEY},
    required=True,
    description="The full object key, e.g. reports/2024/q1.csv",
)


class ObjectAPIView(APIView):
    """A view of one bucket's objects: the bucket is `bucket_id` in the path."""

    def bucket(self) -> Bucket:
        return get_object_or_404(Bucket, pk=self.kwargs["bucket_id"])


class ObjectListView(ObjectAPIView):
    """List one folder of a bucket (GET), or upload an object into it (POST, multipart)."""

    action_permissions = {"get": [VIEW], "post": [UPLOAD]}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=TAGS,
        operation_id="bucket_objects_list",
        summary="List objects and folders under a prefix",
        description="One ListObjectsV2 page (delimiter /). Each object's encryption comes from its HEAD, since "
        "listings do not carry it.",
        parameters=[ObjectListQuerySerializer],
        responses={200: ObjectListSerializer, 400: CloudErrorSerializer, 404: CloudErrorSerializer},
        examples=[schema.OBJECT_LIST_EXAMPLE],
    )
    def get(self, request, bucket_id):
        query = validated(ObjectListQuerySerializer, request.query_params)
        listing = services.browse_objects(self.bucket(), **query)
        return Response(ObjectListSerializer(listing).data)

    @extend_schema(
        tags=TAGS,
        operation_id="bucket_object_upload",
        summary="Upload an object",
        description='method "default" sends no encryption headers, so the bucket default applies; "oss" or '
        '"kms" set the object\'s own encryption, which wins over the bucket default. The answer says which one '
        "decided. An existing key is refused (409) unless overwrite is true. With cse_master_key the console "
        "encrypts the file client-side first (as oss2's CryptoBucket) and answers 201 when done; above "
        "CSE_MULTIPART_THRESHOLD_BYTES the console encrypts and sends it in parts, as the upload page does, a "
        "worker completes the upload, and the answer is 202 with the transfer to follow: status_url (also the "
        "Location header) gives its state and progress as JSON, page_url the console page.",
        request={"multipart/form-data": ObjectUploadSerializer},
        responses={
            201: UploadSerializer,
            202: BackgroundUploadSerializer,
            400: CloudErrorSerializer,
            409: CloudErrorSerializer,
        },
        examples=[schema.OBJECT_UPLOAD_REQUEST_EXAMPLE, schema.OBJECT_UPLOAD_EXAMPLE],
    )
    def post(self, request, bucket_id):
        data = validated(ObjectUploadSerializer, request.data)
        options = {
            "sse": data["sse"],
            "content_type": data["content_type"],
            "metadata": data["metadata"],
            "overwrite": data["overwrite"],
        }
        upload = cse_transfer.upload(
            self.bucket(), data["key"], data["file"], data["cse_master_key"], request.user, **options
        )
        if isinstance(upload, CseTransfer):
            answer = BackgroundUploadSerializer(upload).data
            return Response(answer, status=status.HTTP_202_ACCEPTED, headers={"Location": answer["status_url"]})
        return Response(UploadSerializer(upload).data, status=status.HTTP_201_CREATED)


class ObjectDetailView(ObjectAPIView):
    action_permissions = {"get": [VIEW]}

    @extend_schema(
        tags=TAGS,
        operation_id="bucket_object_detail",
        summary="Describe one object",
        description="HEAD, tags and ACL; server-side encryption with the CMK's alias; client-side encryption "
        "recognised from the object's metadata.",
        parameters=[KEY_PARAMETER],
        responses={200: ObjectDetailSerializer, 404: CloudErrorSerializer},
        examples=[schema.OBJECT_DETAIL_EXAMPLE],
    )
    def get(self, request, bucket_id):
        key = validated(ObjectKeySerializer, request.query_params)["key"]
        return Response(ObjectDetailSerializer(services.describe_object(self.bucket(), key)).data)


class ObjectVersionsView(ObjectAPIView):
    action_permissions = {"get": [VIEW]}

    @extend_schema(
        tags=TAGS,
        operation_id="bucket_object_versions",
        summary="List one object's versions",
        description="ListObjectVersions for exactly this key, newest first, delete markers included, each version's "
        "own server-side encryption from a HEAD of that version (versions keep the encryption they were written "
        f"with: a re-encryption changes the current one only). At most {services.MAX_VERSIONS_SHOWN} versions; "
        "`more` says when there are others. In a bucket that never had versioning the object is its one version, "
        '"null".',
        parameters=[KEY_PARAMETER],
        responses={200: ObjectVersionsSerializer, 404: CloudErrorSerializer},
        examples=[schema.OBJECT_VERSIONS_EXAMPLE],
    )
    def get(self, request, bucket_id):
        key = validated(ObjectKeySerializer, request.query_params)["key"]
        return Response(ObjectVersionsSerializer(services.object_versions(self.bucket(), key)).data)


class ObjectEncryptionView(ObjectAPIView):
    action_permissions = {"post": [CHANGE]}
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        tags=TAGS,
        operation_id="bucket_object_encryption_change",
        summary="Change one object's encryption in place",
        description="Copies the object onto itself with the new encryption, keeping content, content headers, "
        "user metadata, tags, ACL and storage class, and checks the result. 409 if the object changed meanwhile "
        '(or is not the expected_etag): nothing is overwritten. "none" is refused while the bucket has a '
        "default encryption, because OSS would encrypt the copy with it.",
        request=EncryptionChangeRequestSerializer,
        responses={200: EncryptionChangeSerializer, 400: CloudErrorSerializer, 409: CloudErrorSerializer},
        examples=[
            schema.OBJECT_CHANGE_REQUEST_EXAMPLE,
            schema.OBJECT_CHANGE_EXAMPLE,
            schema.OBJECT_CHANGED_MEANWHILE_EXAMPLE,
        ],
    )
    def post(self, request, bucket_id):
        data = validated(EncryptionChangeRequestSerializer, request.data)
        change = services.change_object_encryption(
            self.bucket(), data["key"], data["sse"], request.user, expected_etag=data["expected_etag"]
        )
        return Response(EncryptionChangeSerializer(change).data)


class ObjectContentView(ObjectAPIView):
    action_permissions = {"get": [VIEW]}

    @extend_schema(
        tags=TAGS,
        operation_id="bucket_object_download",
        summary="Download an object",
        description="The stored bytes, streamed, as an attachment named after the key's last segment. A refusal "
        "before the first byte (e.g. the object's CMK is disabled) is answered as JSON. decrypt=true sends the "
        "plaintext of a client-side encrypted object, decrypted with the master key its envelope names (400 "
        '"Unknown master key" when the console has none), optionally only range=bytes=a-b of it (206).',
        parameters=[ObjectContentQuerySerializer],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The content."),
            (206, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="A decrypted range."),
            400: CloudErrorSerializer,
            404: CloudErrorSerializer,
        },
        examples=[schema.OBJECT_KMS_REFUSED_EXAMPLE],
    )
    def get(self, request, bucket_id):
        query = validated(ObjectContentQuerySerializer, request.query_params)
        if query["decrypt"]:
            byte_range = cse_transfer.parse_range(query["range"])
            download = cse_transfer.download_client_side(
                self.bucket(), query["key"], actor=request.user, byte_range=byte_range
            )
            return decrypted_download(download)
        return streaming_download(services.open_download(self.bucket(), query["key"]), query["key"])

    def perform_content_negotiation(self, request, force=False):
        # Whatever the client accepts for the content, refusals are rendered as JSON.
        return super().perform_content_negotiation(request, force=True)
