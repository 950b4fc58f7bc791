"""The routing table of oss-api.md §1.5: (method, level, selector) -> handler.

Specific sub-resources are matched before the default operation; an unknown sub-resource on a
known path is 400 NotImplemented, never silently the default operation.
"""

import importlib

from localcloud import errors

# Query parameters that select an operation, per level. Anything else in the query is an argument.
BUCKET_SELECTORS = (
    "acl", "encryption", "bucketInfo", "location", "stat", "uploads", "live", "delete", "list-type", "versioning",
    "versions", "lifecycle",
)  # fmt: skip
OBJECT_SELECTORS = ("partNumber", "uploadId", "acl", "tagging", "objectMeta", "append", "uploads", "symlink")
UNSUPPORTED = (
    "cors logging website referer policy replication inventory worm "
    "tagging-bucket restore x-oss-process qos cname transferAcceleration requestPayment resourceGroup"
).split()

BUCKET_ROUTES = {
    ("PUT", None): "buckets.put_bucket",
    ("PUT", "acl"): "buckets.put_bucket_acl",
    ("PUT", "encryption"): "buckets.put_bucket_encryption",
    ("PUT", "versioning"): "buckets.put_bucket_versioning",
    ("PUT", "lifecycle"): "lifecycle.put_bucket_lifecycle",
    ("GET", None): "listing.list_objects",
    ("GET", "list-type"): "listing.list_objects_v2",
    ("GET", "acl"): "buckets.get_bucket_acl",
    ("GET", "bucketInfo"): "buckets.get_bucket_info",
    ("GET", "location"): "buckets.get_bucket_location",
    ("GET", "stat"): "buckets.get_bucket_stat",
    ("GET", "encryption"): "buckets.get_bucket_encryption",
    ("GET", "versioning"): "buckets.get_bucket_versioning",
    ("GET", "versions"): "listing.list_object_versions",
    ("GET", "lifecycle"): "lifecycle.get_bucket_lifecycle",
    ("GET", "uploads"): "multipart.list_multipart_uploads",
    ("GET", "live"): "buckets.list_live_channels",
    ("DELETE", None): "buckets.delete_bucket",
    ("DELETE", "encryption"): "buckets.delete_bucket_encryption",
    ("DELETE", "lifecycle"): "lifecycle.delete_bucket_lifecycle",
    ("POST", "delete"): "objects.delete_multiple_objects",
}

OBJECT_ROUTES = {
    ("PUT", "partNumber"): "multipart.upload_part",
    ("PUT", "acl"): "objects.put_object_acl",
    ("PUT", "tagging"): "objects.put_object_tagging",
    ("PUT", None): "objects.put_or_copy_object",
    ("GET", "uploadId"): "multipart.list_parts",
    ("GET", "acl"): "objects.get_object_acl",
    ("GET", "tagging"): "objects.get_object_tagging",
    ("GET", None): "objects.get_object",
    ("HEAD", "objectMeta"): "objects.get_object_meta",
    ("HEAD", None): "objects.head_object",
    ("DELETE", "uploadId"): "multipart.abort_multipart_upload",
    ("DELETE", "tagging"): "objects.delete_object_tagging",
    ("DELETE", None): "objects.delete_object",
    ("POST", "append"): "objects.append_object",
    ("POST", "uploads"): "multipart.initiate_multipart_upload",
    ("POST", "uploadId"): "multipart.complete_multipart_upload",
}


def _selector(request, selectors) -> str | None:
    for name in selectors:
        if request.has(name):
            return name
    for name in UNSUPPORTED:
        if request.has(name):
            raise errors.not_implemented(f"The sub-resource {name!r}")
    return None


SERVICE_ROUTE = "service.list_buckets"


def resolve_name(request) -> str:
    """The name (`module.function`) of the request's handler; raises OssError for unknown routes."""
    if not request.bucket_name:
        if request.method == "GET":
            return SERVICE_ROUTE
        raise errors.OssError(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
    if request.key:
        routes, selectors = OBJECT_ROUTES, OBJECT_SELECTORS
    else:
        routes, selectors = BUCKET_ROUTES, BUCKET_SELECTORS
    selector = _selector(request, selectors)
    if selector == "partNumber" and request.method == "PUT" and not request.has("uploadId"):
        raise errors.invalid_argument("uploadId is required with partNumber.", "uploadId")
    name = routes.get((request.method, selector))
    if name is None:
        raise errors.OssError(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
    return name


def all_route_names() -> set[str]:
    return {SERVICE_ROUTE, *BUCKET_ROUTES.values(), *OBJECT_ROUTES.values()}


def handler(name: str):
    module_name, function = name.split(".")
    handler = getattr(importlib.import_module(f"localcloud.oss.{module_name}"), function, None)
    if handler is None:
        raise errors.not_implemented(f"The operation {function}")
    return handler
