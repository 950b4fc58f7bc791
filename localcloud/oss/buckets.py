"""Bucket operations (oss-api.md §5.2-§5.9): create, ACL, info, location, stat, delete, default encryption.

Every operation here configures or describes a bucket, so each one requires a signed request.
"""

import re

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum

from localcloud import errors, sse, xml
from localcloud.models import Bucket, MultipartUpload, StoredObject, UploadPart
from localcloud.oss import common
from localcloud.oss.http import Request, Response, iso_time, now_seconds, xml_response
from localcloud.oss.listing import OWNER, max_keys, xml_text

REDUNDANCY_TYPES = ("LRS", "ZRS")
DEFAULT_RESOURCE_GROUP = "rg-default-id"
RESOURCE_GROUP = re.compile(r"^[A-Za-z0-9-]{1,64}$")
# The Bucket row's column width for a CMK id (localcloud.models.Bucket.sse_kms_key_id).
MAX_KEY_ID = 300
# GetBucketStat's per-class element names, by storage class.
STAT_CLASSES = {
    "Standard": "Standard",
    "IA": "InfrequentAccess",
    "Archive": "Archive",
    "ColdArchive": "ColdArchive",
    "DeepColdArchive": "DeepColdArchive",
}


def endpoint(request: Request) -> str:
    """localcloud's own host:port as the client reached it; oss2 test teardowns build a Bucket from it."""
    return request.service_host or f"{request.environ['SERVER_NAME']}:{request.environ['SERVER_PORT']}"


def location(bucket: Bucket) -> str:
    return f"oss-{bucket.region}"


def _parse(body: bytes, root_tag: str):
    try:
        root = xml.parse(body)
    except xml.XmlError:
        raise errors.malformed_xml() from None
    if root.tag != root_tag:
        raise errors.malformed_xml()
    return root


def _signed_bucket(request: Request) -> Bucket:
    common.require_signed(request)
    return common.get_bucket(request)


# -- PutBucket ----------------------------------------------------------------------------------------


def _create_configuration(body: bytes) -> tuple[str | None, str | None]:
    """StorageClass and DataRedundancyType of an optional CreateBucketConfiguration; None = not given."""
    if not body.strip():
        return None, None
    root = _parse(body, "CreateBucketConfiguration")
    storage_class = xml.text(root, "StorageClass") or None
    redundancy = xml.text(root, "DataRedundancyType") or None
    if storage_class is not None and storage_class not in common.STORAGE_CLASSES:
        raise errors.invalid_argument("The storage class is not valid.", "StorageClass", storage_class)
    if redundancy is not None and redundancy not in REDUNDANCY_TYPES:
        raise errors.invalid_argument("The redundancy type is not valid.", "DataRedundancyType", redundancy)
    return storage_class, redundancy


def resource_group_header(request: Request) -> str | None:
    value = request.headers.get("x-oss-resource-group-id")
    if value and not RESOURCE_GROUP.match(value):
        raise errors.invalid_argument("The resource group id is not valid.", "x-oss-resource-group-id")
    return value


def _checked_rule(choice: sse.SseChoice) -> sse.SseChoice:
    if len(choice.kms_key_id) > MAX_KEY_ID:
        raise errors.invalid_argument("The KMS key id is too long.", "KMSMasterKeyID")
    return choice


def _rule_fields(choice: sse.SseChoice) -> dict[str, str]:
    return {
        "sse_algorithm": choice.algorithm,
        "sse_kms_key_id": choice.kms_key_id,
        "sse_kms_data_encryption": choice.data_encryption,
    }


def _update_existing(bucket: Bucket, acl: str, storage_class: str | None, redundancy: str | None) -> None:
    """A repeated PutBucket by the owner updates the ACL; it may not change the class (oss-api.md §5.2)."""
    if storage_class not in (None, bucket.storage_class) or redundancy not in (None, bucket.redundancy):
        raise errors.OssError(
            409, "BucketAlreadyExists", "Cannot modify existing bucket's storage class", BucketName=bucket.name
        )
    if acl:
        Bucket.objects.filter(pk=bucket.pk).update(acl=acl)


def put_bucket(request: Request) -> Response:
    common.require_signed(request)
    common.validate_bucket_name(request.bucket_name)
    acl = common.acl_header(request, "x-oss-acl", common.ACLS, "")
    storage_class, redundancy = _create_configuration(request.small_body())
    rule = _checked_rule(sse.from_headers(request.headers) or sse.NONE)
    defaults = {
        "region": settings.LOCALCLOUD_REGION,
        "storage_class": storage_class or "Standard",
        "redundancy": redundancy or "LRS",
        "acl": acl or "private",
        "resource_group": resource_group_header(request) or DEFAULT_RESOURCE_GROUP,
        "created_at": now_seconds(),
        **_rule_fields(rule),
    }
    with transaction.atomic():
        bucket, created = Bucket.objects.select_for_update().get_or_create(name=request.bucket_name, defaults=defaults)
        if not created:
            _update_existing(bucket, acl, storage_class, redundancy)
    return Response(200)


# -- ACL, info, location, stat ------------------------------------------------------------------------


def put_bucket_acl(request: Request) -> Response:
    bucket = _signed_bucket(request)
    acl = common.acl_header(request, "x-oss-acl", common.ACLS, "")
    if not acl:
        raise errors.invalid_argument("The x-oss-acl header is required.", "x-oss-acl")
    Bucket.objects.filter(pk=bucket.pk).update(acl=acl)
    return Response(200)


def get_bucket_acl(request: Request) -> Response:
    bucket = _signed_bucket(request)
    children = [("Owner", OWNER), ("AccessControlList", [("Grant", bucket.acl)])]
    return xml_response(xml.document("AccessControlPolicy", children))


def _rule_children(bucket: Bucket) -> list:
    """The stored default rule (already normalised by sse.from_rule); SSEAlgorithm `None` when there is none."""
    return [
        ("SSEAlgorithm", bucket.sse_algorithm or "None"),
        ("KMSMasterKeyID", bucket.sse_kms_key_id) if bucket.sse_kms_key_id else None,
        ("KMSDataEncryption", bucket.sse_kms_data_encryption) if bucket.sse_kms_data_encryption else None,
    ]


def get_bucket_info(request: Request) -> Response:
    bucket = _signed_bucket(request)
    host = endpoint(request)
    children = [
        ("Name", bucket.name),
        ("CreationDate", iso_time(bucket.created_at)),
        ("Location", location(bucket)),
        ("Region", bucket.region),
        ("StorageClass", bucket.storage_class),
        ("DataRedundancyType", bucket.redundancy),
        ("ExtranetEndpoint", host),
        ("IntranetEndpoint", host),
        ("ResourceGroupId", bucket.resource_group),
        ("AccessMonitor", "Disabled"),
        ("TransferAcceleration", "Disabled"),
        ("CrossRegionReplication", "Disabled"),
        ("Comment", None),
        ("Owner", OWNER),
        ("AccessControlList", [("Grant", bucket.acl)]),
        ("ServerSideEncryptionRule", _rule_children(bucket)),
        ("Versioning", bucket.versioning) if bucket.versioning else None,
    ]
    return xml_response(xml.document("BucketInfo", [("Bucket", children)]))


def get_bucket_location(request: Request) -> Response:
    bucket = _signed_bucket(request)
    # The location is the root element's text, which xml.document cannot express.
    return xml_response(xml.DECLARATION + f"<LocationConstraint>{location(bucket)}</LocationConstraint>".encode())


def _class_totals(bucket: Bucket) -> dict:
    """Bytes and object counts (every version, delete markers aside) in total and per storage class, and the
    delete markers, in one aggregate query."""
    aggregates = {
        "storage": Sum("size", default=0),
        "count": Count("id", filter=Q(is_delete_marker=False)),
        "delete_markers": Count("id", filter=Q(is_delete_marker=True)),
    }
    for storage_class, name in STAT_CLASSES.items():
        in_class = Q(storage_class=storage_class, is_delete_marker=False)
        aggregates[f"{name}Storage"] = Sum("size", filter=in_class, default=0)
        aggregates[f"{name}ObjectCount"] = Count("id", filter=in_class)
    return StoredObject.objects.filter(bucket=bucket).aggregate(**aggregates)


def _per_class_children(totals: dict) -> list:
    children = []
    for name in STAT_CLASSES.values():
        children.append((f"{name}Storage", totals[f"{name}Storage"]))
        if name != "Standard":
            # No minimum billable size here, so the billed and the real storage are the same.
            children.append((f"{name}RealStorage", totals[f"{name}Storage"]))
        children.append((f"{name}ObjectCount", totals[f"{name}ObjectCount"]))
    return children


def get_bucket_stat(request: Request) -> Response:
    bucket = _signed_bucket(request)
    totals = _class_totals(bucket)
    children = [
        ("Storage", totals["storage"]),
        ("ObjectCount", totals["count"]),
        ("MultipartUploadCount", MultipartUpload.objects.filter(bucket=bucket).count()),
        ("LiveChannelCount", 0),
        # The moment these figures were taken, as on OSS.
        ("LastModifiedTime", int(now_seconds().timestamp())),
        *_per_class_children(totals),
        ("MultipartPartCount", UploadPart.objects.filter(upload__bucket=bucket).count()),
        ("DeleteMarkerCount", totals["delete_markers"]),
    ]
    return xml_response(xml.document("BucketStat", children))


# -- DeleteBucket, live channels -------------------------------------------------------------------------


def _holds_anything(bucket: Bucket) -> bool:
    return StoredObject.objects.filter(bucket=bucket).exists() or MultipartUpload.objects.filter(bucket=bucket).exists()


def delete_bucket(request: Request) -> Response:
    common.require_signed(request)
    with transaction.atomic():
        bucket = common.get_bucket(request, for_update=True)
        if _holds_anything(bucket):
            raise errors.OssError(
                409, "BucketNotEmpty", "The bucket you tried to delete is not empty.", BucketName=bucket.name
            )
        bucket.delete()
    return Response(204)


def list_live_channels(request: Request) -> Response:
    """A stub that lists no channel: every oss2 test teardown iterates live channels (oss-api.md §5.9)."""
    _signed_bucket(request)
    children = [
        ("Prefix", xml_text(request.params.get("prefix", ""))),
        ("Marker", xml_text(request.params.get("marker", ""))),
        ("MaxKeys", max_keys(request)),
        ("IsTruncated", "false"),
        ("NextMarker", None),
    ]
    return xml_response(xml.document("ListLiveChannelResult", children))


# -- Versioning ---------------------------------------------------------------------------------------


VERSIONING_STATES = ("Enabled", "Suspended")


def put_bucket_versioning(request: Request) -> Response:
    """Enabled or Suspended; a bucket once versioned can be suspended but never unversioned again."""
    bucket = _signed_bucket(request)
    status = xml.text(_parse(request.small_body(), "VersioningConfiguration"), "Status")
    if status not in VERSIONING_STATES:
        raise errors.malformed_xml()
    Bucket.objects.filter(pk=bucket.pk).update(versioning=status)
    return Response(200)


def get_bucket_versioning(request: Request) -> Response:
    """An empty VersioningConfiguration for a bucket whose versioning was never set, as OSS answers."""
    bucket = _signed_bucket(request)
    children = [("Status", bucket.versioning)] if bucket.versioning else []
    return xml_response(xml.document("VersioningConfiguration", children))


# -- Default encryption -------------------------------------------------------------------------------


def put_bucket_encryption(request: Request) -> Response:
    bucket = _signed_bucket(request)
    root = _parse(request.small_body(), "ServerSideEncryptionRule")
    default = root.find("ApplyServerSideEncryptionByDefault")
    if default is None:
        raise errors.malformed_xml()
    rule = sse.from_rule(
        xml.text(default, "SSEAlgorithm", ""),
        xml.text(default, "KMSMasterKeyID", ""),
        xml.text(default, "KMSDataEncryption", ""),
    )
    Bucket.objects.filter(pk=bucket.pk).update(**_rule_fields(_checked_rule(rule)))
    return Response(200)


def get_bucket_encryption(request: Request) -> Response:
    bucket = _signed_bucket(request)
    if not bucket.sse_algorithm:
        raise errors.OssError(
            404,
            "NoSuchServerSideEncryptionRule",
            "The server side encryption configuration was not found",
            BucketName=bucket.name,
        )
    children = [("ApplyServerSideEncryptionByDefault", _rule_children(bucket))]
    return xml_response(xml.document("ServerSideEncryptionRule", children))


def delete_bucket_encryption(request: Request) -> Response:
    bucket = _signed_bucket(request)
    Bucket.objects.filter(pk=bucket.pk).update(**_rule_fields(sse.NONE))
    return Response(204)
