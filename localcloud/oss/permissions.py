"""RAM enforcement for the OSS endpoint: the RAM action of every route, checked against the caller's policy.

`ROUTE_ACTIONS` is the one table: routes.py names a handler, this names its action (as Alibaba Cloud names it)
and the resource it acts on. A request signed by a key with a policy (accesskeys.lookup_policy) is refused with
OSS's own AccessDenied unless the policy allows the action on the resource; anonymous requests and keys without a
policy (the account owner) are not checked here. Some requests need more than their route's action, as on OSS:
a copy reads its source (oss:GetObject), an upload that sets tags or an ACL sets them (oss:PutObjectTagging,
oss:PutObjectAcl), and SSE-KMS makes OSS call KMS for the caller (kms:GenerateDataKey to write, kms:Decrypt to
read), which the caller's policy must allow on the CMK.
"""

from __future__ import annotations

from urllib.parse import unquote

from django.conf import settings

from localcloud import errors, keystore, ram
from localcloud.kms.actions import ACCOUNT_ID
from localcloud.models import Bucket
from localcloud.oss.common import BUCKET_NAME
from localcloud.oss.http import Request
from localcloud.sse import SseChoice

SERVICE, BUCKET, OBJECT, EACH_LISTED_OBJECT = "service", "bucket", "object", "each listed object"

# handler (routes.py) -> (RAM action, what it acts on). EACH_LISTED_OBJECT: the handler checks every key it is sent.
ROUTE_ACTIONS = {
    "service.list_buckets": ("oss:ListBuckets", SERVICE),
    "buckets.put_bucket": ("oss:PutBucket", BUCKET),
    "buckets.put_bucket_acl": ("oss:PutBucketAcl", BUCKET),
    "buckets.put_bucket_encryption": ("oss:PutBucketEncryption", BUCKET),
    "buckets.get_bucket_acl": ("oss:GetBucketAcl", BUCKET),
    "buckets.get_bucket_info": ("oss:GetBucketInfo", BUCKET),
    "buckets.get_bucket_location": ("oss:GetBucketLocation", BUCKET),
    "buckets.get_bucket_stat": ("oss:GetBucketStat", BUCKET),
    "buckets.get_bucket_encryption": ("oss:GetBucketEncryption", BUCKET),
    "buckets.list_live_channels": ("oss:ListLiveChannel", BUCKET),
    "buckets.delete_bucket": ("oss:DeleteBucket", BUCKET),
    "buckets.delete_bucket_encryption": ("oss:DeleteBucketEncryption", BUCKET),
    "buckets.put_bucket_versioning": ("oss:PutBucketVersioning", BUCKET),
    "buckets.get_bucket_versioning": ("oss:GetBucketVersioning", BUCKET),
    "listing.list_object_versions": ("oss:ListObjectVersions", BUCKET),
    "lifecycle.put_bucket_lifecycle": ("oss:PutBucketLifecycle", BUCKET),
    "lifecycle.get_bucket_lifecycle": ("oss:GetBucketLifecycle", BUCKET),
    "lifecycle.delete_bucket_lifecycle": ("oss:DeleteBucketLifecycle", BUCKET),
    "listing.list_objects": ("oss:ListObjects", BUCKET),
    "listing.list_objects_v2": ("oss:ListObjects", BUCKET),
    "multipart.list_multipart_uploads": ("oss:ListMultipartUploads", BUCKET),
    "objects.delete_multiple_objects": ("oss:DeleteObject", EACH_LISTED_OBJECT),
    "objects.put_or_copy_object": ("oss:PutObject", OBJECT),
    "objects.append_object": ("oss:PutObject", OBJECT),
    "objects.get_object": ("oss:GetObject", OBJECT),
    "objects.head_object": ("oss:GetObject", OBJECT),
    "objects.get_object_meta": ("oss:GetObject", OBJECT),
    "objects.delete_object": ("oss:DeleteObject", OBJECT),
    "objects.put_object_acl": ("oss:PutObjectAcl", OBJECT),
    "objects.get_object_acl": ("oss:GetObjectAcl", OBJECT),
    "objects.put_object_tagging": ("oss:PutObjectTagging", OBJECT),
    "objects.get_object_tagging": ("oss:GetObjectTagging", OBJECT),
    "objects.delete_object_tagging": ("oss:DeleteObjectTagging", OBJECT),
    "multipart.initiate_multipart_upload": ("oss:PutObject", OBJECT),
    "multipart.upload_part": ("oss:PutObject", OBJECT),
    "multipart.complete_multipart_upload": ("oss:PutObject", OBJECT),
    "multipart.abort_multipart_upload": ("oss:AbortMultipartUpload", OBJECT),
    "multipart.list_parts": ("oss:ListParts", OBJECT),
}
# Routes that create an object from the request's headers: x-oss-tagging and x-oss-object-acl need their own actions.
CREATING_ROUTES = {
    "objects.put_or_copy_object",
    "objects.append_object",
    "multipart.initiate_multipart_upload",
    "multipart.complete_multipart_upload",
}
COPYING_ROUTES = {"objects.put_or_copy_object", "multipart.upload_part"}
HEADER_ACTIONS = {"x-oss-tagging": "oss:PutObjectTagging", "x-oss-object-acl": "oss:PutObjectAcl"}
COPY_SOURCE = "x-oss-copy-source"
# What an object action is called when the request names a version (versionId), as OSS's RAM names them.
VERSION_ACTIONS = {
    "oss:GetObject": "oss:GetObjectVersion",
    "oss:DeleteObject": "oss:DeleteObjectVersion",
    "oss:GetObjectAcl": "oss:GetObjectVersionAcl",
    "oss:PutObjectAcl": "oss:PutObjectVersionAcl",
    "oss:GetObjectTagging": "oss:GetObjectVersionTagging",
    "oss:PutObjectTagging": "oss:PutObjectVersionTagging",
    "oss:DeleteObjectTagging": "oss:DeleteObjectVersionTagging",
}


def _region_of(bucket_name: str) -> str:
    region = None
    if BUCKET_NAME.match(bucket_name):  # no bucket has another name, and PostgreSQL cannot even compare one with NUL
        region = Bucket.objects.filter(name=bucket_name).values_list("region", flat=True).first()
    return region or settings.LOCALCLOUD_REGION


def resource(bucket_name: str = "", key: str | None = None) -> str:
    """The ARN OSS evaluates: `acs:oss:<region>:<account>:*` for the service, `…:<bucket>` or `…:<bucket>/<key>`."""
    if not bucket_name:
        return f"acs:oss:{settings.LOCALCLOUD_REGION}:{ACCOUNT_ID}:*"
    base = f"acs:oss:{_region_of(bucket_name)}:{ACCOUNT_ID}:{bucket_name}"
    return base if key is None else f"{base}/{key}"


def require(request: Request, action: str, target: str) -> None:
    """Refuse unless the caller's policy allows `action` on `target` (no policy: the owner, allowed)."""
    policy = request.policy
    if policy is None:
        return
    decision = policy.decide(action, target)
    if decision != ram.ALLOWED:
        raise errors.ram_denied(action, target, decision)


def authorize(request: Request, handler: str) -> None:
    """Everything the route and the request's headers need, checked before the handler runs."""
    if request.policy is None:
        return
    action, level = ROUTE_ACTIONS[handler]
    if level == SERVICE:
        require(request, action, resource())
    elif level == BUCKET:
        require(request, action, resource(request.bucket_name))
    elif level == OBJECT:
        if request.has("versionId"):
            action = VERSION_ACTIONS.get(action, action)
        require(request, action, resource(request.bucket_name, request.key))
    if handler in COPYING_ROUTES and COPY_SOURCE in request.headers:
        source = request.headers[COPY_SOURCE]
        read = "oss:GetObjectVersion" if "?versionId=" in source else "oss:GetObject"
        require(request, read, _copy_source(source))
    if handler in CREATING_ROUTES:
        for header, extra in HEADER_ACTIONS.items():
            if request.headers.get(header):
                require(request, extra, resource(request.bucket_name, request.key))


def _copy_source(raw: str) -> str:
    path = raw.partition("?")[0].removeprefix("/")
    bucket_name, _, quoted_key = path.partition("/")
    return resource(bucket_name, unquote(quoted_key))


def require_each_object(request: Request, bucket_name: str, keys: list[str]) -> None:
    """DeleteMultipleObjects: oss:DeleteObject on every key it lists."""
    for key in keys:
        require(request, "oss:DeleteObject", resource(bucket_name, key))


# -- KMS calls OSS makes for the caller ------------------------------------------------------------------------


def _key_arn(reference: str, region: str) -> str | None:
    """The ARN of the CMK an SSE-KMS reference names (blank: the default key), or None when there is none: the
    operation then fails with OSS's own KMS refusal."""
    try:
        cmk = keystore.find_key(reference, region) if reference else keystore.default_key(region)
    except keystore.KeyStoreError:
        return None
    return f"acs:kms:{cmk.region}:{ACCOUNT_ID}:key/{cmk.key_id}"


def _require_kms(request: Request, action: str, reference: str, region: str) -> None:
    policy = request.policy
    if policy is None:
        return
    arn = _key_arn(reference, region)
    if arn is None:
        return
    decision = policy.decide(action, arn)
    if decision != ram.ALLOWED:
        raise errors.kms_ram_denied(action, arn, decision)


def require_data_key(request: Request, bucket: Bucket, choice: SseChoice) -> None:
    """Writing under SSE-KMS: OSS asks KMS for a data key (kms:GenerateDataKey) on the caller's behalf."""
    if choice.algorithm == "KMS":
        _require_kms(request, "kms:GenerateDataKey", choice.kms_key_id, bucket.region)


def require_decrypt(request: Request, bucket: Bucket, record) -> None:
    """Reading an SSE-KMS object: OSS asks KMS to open its data key (kms:Decrypt) on the caller's behalf."""
    if record.sse_algorithm == "KMS":
        _require_kms(request, "kms:Decrypt", record.sse_kms_key_id, bucket.region)
