"""NoncurrentVersionExpiration carried out at localcloud's sweep, through the real oss2 SDK: a version goes, with its
blob, once it has been noncurrent for NoncurrentDays days, counted from when the next newer version (or delete
marker) of its key was written; current versions, delete markers, younger history, other prefixes, Disabled rules
and buckets without the rule are kept."""

import datetime

import oss2
import pytest
from django.core.management import call_command
from django.utils import timezone
from oss2.models import (
    BucketLifecycle,
    BucketVersioningConfig,
    LifecycleExpiration,
    LifecycleFilter,
    LifecycleRule,
    NoncurrentVersionExpiration,
)

from localcloud.maintenance import expire_noncurrent_versions
from localcloud.models import StoredObject
from localcloud.storage import blob_store

NOW = timezone.now()


@pytest.fixture
def versioned(bucket):
    bucket.put_bucket_versioning(BucketVersioningConfig("Enabled"))
    return bucket


def expiring(days: int, prefix: str = "", status: str = LifecycleRule.ENABLED, **parts) -> LifecycleRule:
    return LifecycleRule(
        f"expire-{prefix or 'all'}-{days}",
        prefix,
        status=status,
        noncurrent_version_expiration=NoncurrentVersionExpiration(days),
        **parts,
    )


def written(bucket: oss2.Bucket, key: str, ages_in_days: list[int], delete_at_age: int | None = None) -> list[str]:
    """Versions of `key` written `ages_in_days` ago, oldest first (then a delete marker, if asked); their ids."""
    ids = [bucket.put_object(key, f"{key} {age}".encode()).versionid for age in ages_in_days]
    ages = list(ages_in_days)
    if delete_at_age is not None:
        ids.append(bucket.delete_object(key).versionid)
        ages.append(delete_at_age)
    for version_id, age in zip(ids, ages, strict=True):
        StoredObject.objects.filter(key=key, version_id=version_id).update(
            last_modified=NOW - datetime.timedelta(days=age)
        )
    return ids


def listed(bucket: oss2.Bucket) -> set[tuple[str, str]]:
    page = bucket.list_object_versions()
    return {(v.key, v.versionid) for v in page.versions} | {(m.key, m.versionid) for m in page.delete_marker}


def test_the_sweep_expires_versions_noncurrent_for_the_rule_s_days_and_their_blobs(versioned):
    oldest, middle, current = written(versioned, "report.csv", [100, 40, 5])
    gone, marker = written(versioned, "gone.csv", [50], delete_at_age=35)
    versioned.put_bucket_lifecycle(BucketLifecycle([expiring(30)]))
    blob = StoredObject.objects.get(version_id=oldest).blob

    assert expire_noncurrent_versions() == 2

    # oldest: noncurrent since `middle` was written, 40 days ago; gone's version since the marker, 35 days ago.
    # middle is noncurrent for 5 days only; current versions and delete markers stay.
    assert listed(versioned) == {("report.csv", middle), ("report.csv", current), ("gone.csv", marker)}
    assert not blob_store().path(blob).exists()
    with pytest.raises(oss2.exceptions.ServerError) as missing:
        versioned.get_object("report.csv", params={"versionId": oldest})
    assert (missing.value.status, missing.value.code) == (404, "NoSuchVersion")
    assert versioned.get_object("report.csv").read() == b"report.csv 5"


def test_only_enabled_rules_apply_each_to_its_prefix_and_filter(versioned):
    logs = written(versioned, "logs/a.log", [100, 90, 40])
    data = written(versioned, "data/a.csv", [100, 90, 40])
    small = written(versioned, "big/small", [100, 90, 40])
    rules = [
        expiring(30, "logs/"),
        expiring(30, "data/", status=LifecycleRule.DISABLED),
        expiring(30, "big/", filter=LifecycleFilter(object_size_greater_than=1000)),
        LifecycleRule("expire-objects", "tmp/", expiration=LifecycleExpiration(days=1)),
    ]
    versioned.put_bucket_lifecycle(BucketLifecycle(rules))

    assert expire_noncurrent_versions() == 2

    kept = listed(versioned)
    assert {version for key, version in kept if key == "logs/a.log"} == {logs[2]}
    assert {("data/a.csv", version) for version in data} <= kept
    assert {("big/small", version) for version in small} <= kept


def test_a_bucket_without_the_rule_and_younger_history_are_untouched(versioned, new_bucket):
    other = new_bucket()
    other.put_bucket_versioning(BucketVersioningConfig("Enabled"))
    untouched = written(other, "report.csv", [100, 90, 1])
    young = written(versioned, "report.csv", [20, 10, 1])
    versioned.put_bucket_lifecycle(BucketLifecycle([expiring(30)]))

    assert expire_noncurrent_versions() == 0

    assert listed(other) == {("report.csv", version) for version in untouched}
    assert listed(versioned) == {("report.csv", version) for version in young}


def test_the_sweep_command_expires_too(versioned):
    oldest, current = written(versioned, "report.csv", [100, 60])
    versioned.put_bucket_lifecycle(BucketLifecycle([expiring(30)]))

    call_command("localcloud_sweep")

    assert listed(versioned) == {("report.csv", current)}
