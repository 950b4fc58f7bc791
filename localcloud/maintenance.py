"""Housekeeping: the data directory kept equal to what the database references, and the lifecycle rules that
localcloud carries out (NoncurrentVersionExpiration), as OSS's own lifecycle run would."""

import datetime
from xml.etree import ElementTree

from django.db import transaction
from django.utils import timezone

from localcloud.models import BucketLifecycle, StoredObject, UploadPart
from localcloud.oss.stored import delete_rows
from localcloud.storage import blob_store


def referenced_blobs() -> set[str]:
    objects = StoredObject.objects.values_list("blob", flat=True)
    parts = UploadPart.objects.values_list("blob", flat=True)
    return set(objects.iterator()) | set(parts.iterator())


def sweep_orphans(grace_seconds: float = 3600) -> int:
    """Delete blobs no row references (a crash between rename and commit leaves them) and stale temp files."""
    return blob_store().sweep(referenced_blobs(), grace_seconds=grace_seconds)


def expire_noncurrent_versions(now: datetime.datetime | None = None) -> int:
    """Delete, with their blobs, the noncurrent versions every Enabled NoncurrentVersionExpiration rule has expired:
    those noncurrent for NoncurrentDays days or more, counted from when the next newer version (or delete marker)
    of the key was written. A rule's Prefix, Tag and Filter (Not, object sizes) choose the versions it applies to;
    delete markers are left to ExpiredObjectDeleteMarker, which localcloud does not run. Returns how many went."""
    now = now or timezone.now()
    expired = 0
    for lifecycle in BucketLifecycle.objects.select_related("bucket"):
        for rule in ElementTree.fromstring(lifecycle.document).findall("Rule"):
            days = rule.findtext("NoncurrentVersionExpiration/NoncurrentDays")
            if rule.findtext("Status") == "Enabled" and days:
                expired += _expire(lifecycle.bucket, rule, now - datetime.timedelta(days=int(days)))
    return expired


def _expire(bucket, rule: ElementTree.Element, noncurrent_before: datetime.datetime) -> int:
    prefix = rule.findtext("Prefix") or ""
    versions = StoredObject.objects.filter(bucket=bucket, key__startswith=prefix).order_by("key", "-pk")
    due, newer = [], None
    for version in versions.only("pk", "key", "last_modified", "is_latest", "is_delete_marker", "size", "tags"):
        follows = newer is not None and newer.key == version.key
        if follows and not version.is_latest and not version.is_delete_marker and _applies(rule, version):
            if newer.last_modified <= noncurrent_before:
                due.append(version.pk)
        newer = version
    with transaction.atomic():
        return len(delete_rows(StoredObject.objects.filter(pk__in=due, is_latest=False)))


def _applies(rule: ElementTree.Element, version: StoredObject) -> bool:
    tags = {key: value for key, value in version.tags}
    wanted = {tag.findtext("Key"): tag.findtext("Value") or "" for tag in rule.findall("Tag")}
    if any(tags.get(key) != value for key, value in wanted.items()):
        return False
    condition = rule.find("Filter")
    if condition is None:
        return True
    for excluded in condition.findall("Not"):
        tag = excluded.find("Tag")
        tagged = tag is None or tags.get(tag.findtext("Key")) == (tag.findtext("Value") or "")
        if version.key.startswith(excluded.findtext("Prefix") or "") and tagged:
            return False
    greater, less = condition.findtext("ObjectSizeGreaterThan"), condition.findtext("ObjectSizeLessThan")
    return (greater is None or version.size > int(greater)) and (less is None or version.size < int(less))
