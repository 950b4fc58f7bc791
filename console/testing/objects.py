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
