"""What a request's Host header addresses under LOCALCLOUD_DOMAIN, as Alibaba Cloud's host names do.

oss2 and alibabacloud-oss-v2 address a bucket virtual-hosted style (`<bucket>.<host>/<key>`) whenever the
endpoint is a host name rather than an IP address, and still sign `/<bucket>/<key>` (oss-api.md §1.1). So with
LOCALCLOUD_DOMAIN set, `<bucket>.<domain>[:port]` addresses that bucket and its whole path is the key, while
`kms.<region>.<domain>[:port]` is KMS in that region, as `kms.<region>.aliyuncs.com` is. The bare domain, IP
addresses, `localhost` and every other host keep path style (`/<bucket>/<key>`).
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

KMS_LABEL = "kms"


@dataclass(frozen=True)
class Addressed:
    """`bucket`: the bucket a virtual-hosted request names (None: path style); `kms_region`: a KMS host's region."""

    bucket: str | None = None
    kms_region: str | None = None


PATH_STYLE = Addressed()


def host_name(host_header: str) -> str:
    """The host name of a Host header, lower-cased, without port or trailing dot; "" if it is malformed."""
    try:
        return (urlsplit(f"//{host_header}").hostname or "").rstrip(".")
    except ValueError:
        return ""


def addressed(host_header: str, domain: str) -> Addressed:
    """What `host_header` names under `domain` (LOCALCLOUD_DOMAIN; empty: path style for every host).

    More labels before the domain (`a.b.<domain>`) name the bucket `a.b`, which no bucket can be called: such a
    request is answered NoSuchBucket (InvalidBucketName to a PutBucket)."""
    domain = domain.lower().strip(".")
    if not domain:
        return PATH_STYLE
    name = host_name(host_header)
    prefix = name.removesuffix(f".{domain}")
    if not prefix or prefix == name:
        return PATH_STYLE
    service, dot, region = prefix.partition(".")
    if service == KMS_LABEL and dot and region and "." not in region:
        return Addressed(kms_region=region)
    return Addressed(bucket=prefix)
