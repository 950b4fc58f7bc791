"""ListBuckets (oss-api.md §5.1): the account's buckets by name, page by page."""

from localcloud import xml
from localcloud.models import Bucket
from localcloud.oss import common
from localcloud.oss.buckets import endpoint, location, resource_group_header
from localcloud.oss.http import Request, Response, iso_time, xml_response
from localcloud.oss.listing import OWNER, in_range, max_keys, past_prefix, start_bound, xml_text


def _bucket_entry(bucket: Bucket, host: str) -> tuple:
    children = [
        ("CreationDate", iso_time(bucket.created_at)),
        ("ExtranetEndpoint", host),
        ("IntranetEndpoint", host),
        ("Location", location(bucket)),
        ("Name", bucket.name),
        ("Region", bucket.region),
        ("StorageClass", bucket.storage_class),
        ("ResourceGroupId", bucket.resource_group),
    ]
    return ("Bucket", children)


def list_buckets(request: Request) -> Response:
    common.require_signed(request)
    prefix, marker = xml_text(request.params.get("prefix", "")), xml_text(request.params.get("marker", ""))
    limit = max_keys(request)
    buckets = Bucket.objects.all()
    if group := resource_group_header(request):
        buckets = buckets.filter(resource_group=group)
    page = list(in_range(buckets, "name", start_bound(prefix, marker), past_prefix(prefix))[: limit + 1])
    truncated = len(page) > limit
    page = page[:limit]
    host = endpoint(request)
    children = [
        ("Prefix", prefix),
        ("Marker", marker),
        ("MaxKeys", limit),
        ("IsTruncated", str(truncated).lower()),
        ("NextMarker", page[-1].name) if truncated else None,
        ("Owner", OWNER),
        ("Buckets", [_bucket_entry(bucket, host) for bucket in page]),
    ]
    return xml_response(xml.document("ListAllMyBucketsResult", children))
