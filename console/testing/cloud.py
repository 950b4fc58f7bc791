"""Test helpers that set the cloud up through the console's own client layer (real HTTP to localcloud)."""

from django.utils import timezone

from buckets.models import Bucket
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule, OssClient


def new_bucket(connection, name: str, rule: EncryptionRule | None = None) -> Bucket:
    """A bucket in localcloud and the console's snapshot row of it, as the bucket pages would have saved it."""
    oss = OssClient(connection)
    oss.create_bucket(name)
    if rule is not None:
        oss.put_encryption(name, rule)
    return Bucket.objects.create(connection=connection, name=name, region="cn-hangzhou", refreshed_at=timezone.now())


def versioned_bucket(connection, name: str, rule: EncryptionRule | None = None) -> Bucket:
    """A new bucket with versioning Enabled."""
    bucket = new_bucket(connection, name, rule)
    OssClient(connection).put_versioning(name, "Enabled")
    return bucket


def named_key(connection, alias: str) -> str:
    """A new Enabled CMK with `alias`; returns its key id."""
    kms = KmsClient(connection)
    key, _ = kms.create_key(description=f"tests: {alias}")
    kms.create_alias(key.key_id, alias)
    return key.key_id
