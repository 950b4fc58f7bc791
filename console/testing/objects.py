"""Test helpers for objects: headers an object keeps through changes, a named key, put and read an object."""

from buckets.models import Bucket
from cloud.oss import OssClient
from console.testing import cloud

KEEP_HEADERS = {
    "Content-Type": "text/csv",
    "Content-Disposition": 'attachment; filename="q1.csv"',
    "Cache-Control": "no-cache",
    "x-oss-meta-owner": "finance",
    "x-oss-meta-review": "2024-q1",
}


def named_key(connection, alias: str = "alias/reports") -> str:
    return cloud.named_key(connection, alias)


def put(bucket: Bucket, key: str, content: bytes = b"hello", headers: dict | None = None):
    return OssClient(bucket.connection).put_object(bucket.name, key, content, headers or {})


def content_of(bucket: Bucket, key: str) -> bytes:
    return b"".join(OssClient(bucket.connection).open_object(bucket.name, key))


def clone(bucket: Bucket, key: str, count: int, prefix: str) -> list[str]:
    """`count` copies of object `key` as `<prefix>NNNNN`, written straight into localcloud's storage sharing the
    original's blob: ten thousand objects in a second, for jobs that only read them (a scan). A job that rewrites
    one would delete the blob the others share."""
    from localcloud.models import StoredObject

    original = StoredObject.objects.get(bucket__name=bucket.name, key=key)
    fields = {
        field.attname: getattr(original, field.attname)
        for field in StoredObject._meta.concrete_fields
        if not field.primary_key and field.attname != "key"
    }
    keys = [f"{prefix}{index:05d}" for index in range(count)]
    StoredObject.objects.bulk_create((StoredObject(**fields, key=name) for name in keys), batch_size=1000)
    return keys
