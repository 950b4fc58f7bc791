"""A bucket's lifecycle rules, and the one rule the console adds: expiring a versioned bucket's older versions.

A versioned bucket keeps every version an overwrite or a delete leaves behind, so data written before the bucket
was encrypted stays readable as history (the scans count it as exposed). OSS deletes such noncurrent versions by a
lifecycle rule: NoncurrentVersionExpiration, counted in days from when a version became noncurrent, carried out
at OSS's own lifecycle run (about daily), not at once.

PutBucketLifecycle replaces the whole configuration and OSS offers no conditional write: the console reads the
rules, changes only its own (CONSOLE_RULE_ID) and writes them all back, so the user's rules are kept, unless
someone else changes them between that read and write.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from audit.services import recording
from buckets.models import Bucket
from cloud.errors import ServiceError
from cloud.oss import LifecycleRule, OssClient

CONSOLE_RULE_ID = "console-expire-noncurrent"
MIN_DAYS, MAX_DAYS = 1, 3650
VERSIONS_PER_LISTING = 1000
EXPIRE_ACTION = "bucket.lifecycle.expire-noncurrent"
REMOVE_ACTION = "bucket.lifecycle.remove-expiry"


@dataclass(frozen=True)
class ExpiryPlan:
    """What a rule expiring noncurrent versions after `days` days would do to the bucket as it is now: the
    noncurrent versions it keeps today (all of which it expires in time), those already past `days` (expired at
    OSS's next lifecycle run), the user's rules that stay, and the console's rule it replaces (if any)."""

    bucket: Bucket
    days: int
    versioning: str
    noncurrent_versions: int
    noncurrent_bytes: int
    due_versions: int
    due_bytes: int
    kept_rules: list[LifecycleRule]
    replaced_rule: LifecycleRule | None

    def figures(self) -> dict:
        """The counts, as the audit event and the API give them."""
        return {
            "days": self.days,
            "noncurrent_versions": self.noncurrent_versions,
            "noncurrent_bytes": self.noncurrent_bytes,
            "due_versions": self.due_versions,
            "due_bytes": self.due_bytes,
        }


@dataclass(frozen=True)
class LifecycleChange:
    """The rules after a change, as OSS gives them back, with the request id of the write."""

    bucket: Bucket
    rules: list[LifecycleRule]
    request_id: str
    plan: ExpiryPlan | None = None


def check_days(days) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise ServiceError(
            f"Days must be a whole number from {MIN_DAYS} to {MAX_DAYS}: the number of days a version is kept "
            "after it became noncurrent."
        )
    return days


def lifecycle_rules(bucket: Bucket) -> list[LifecycleRule]:
    """GetBucketLifecycle: the bucket's rules, none when it has no configuration."""
    return OssClient(bucket.connection).bucket_lifecycle(bucket.name)


def expiry_plan(bucket: Bucket, days: int, *, now: datetime.datetime | None = None) -> ExpiryPlan:
    """A dry run of the console's rule with `days`: nothing is written. Lists every version of the bucket."""
    check_days(days)
    client = OssClient(bucket.connection)
    versioning = _versioning_or_refusal(client, bucket)
    rules = client.bucket_lifecycle(bucket.name)
    return _plan(client, bucket, days, versioning, rules, now or timezone.now())


def expire_noncurrent_versions(bucket: Bucket, days: int, actor, confirmation: str) -> LifecycleChange:
    """Add (or replace) the console's rule deleting noncurrent versions `days` days after they became noncurrent;
    every other rule of the bucket is written back as it was. The bucket's name, typed, confirms it."""
    client = OssClient(bucket.connection)
    with recording(EXPIRE_ACTION, actor=actor, connection=bucket.connection, bucket=bucket.name) as pending:
        check_days(days)
        if confirmation != bucket.name:
            raise ServiceError(
                f"Type the bucket's name, {bucket.name}, to confirm: older versions are deleted for good."
            )
        versioning = _versioning_or_refusal(client, bucket)
        rules = client.bucket_lifecycle(bucket.name)
        pending.before = {"rules": _ids(rules)}
        plan = _plan(client, bucket, days, versioning, rules, timezone.now())
        wanted = [*plan.kept_rules, LifecycleRule.noncurrent_expiry(CONSOLE_RULE_ID, days)]
        pending.request_id = client.put_lifecycle(bucket.name, wanted)
        after = client.bucket_lifecycle(bucket.name)
        pending.after = {"rule": CONSOLE_RULE_ID, **plan.figures(), "rules": _ids(after)}
    return LifecycleChange(bucket, after, pending.request_id, plan)


def remove_expiry(bucket: Bucket, actor) -> LifecycleChange:
    """Remove the console's rule only: DeleteBucketLifecycle when it is the bucket's one rule, else the other rules
    are written back without it."""
    client = OssClient(bucket.connection)
    with recording(REMOVE_ACTION, actor=actor, connection=bucket.connection, bucket=bucket.name) as pending:
        rules = client.bucket_lifecycle(bucket.name)
        pending.before = {"rules": _ids(rules)}
        kept = [rule for rule in rules if rule.rule_id != CONSOLE_RULE_ID]
        if len(kept) == len(rules):
            raise ServiceError(f"Bucket {bucket.name} has no rule {CONSOLE_RULE_ID}: there is nothing to remove.")
        if kept:
            pending.request_id = client.put_lifecycle(bucket.name, kept)
        else:
            pending.request_id = client.delete_lifecycle(bucket.name)
        after = client.bucket_lifecycle(bucket.name)
        pending.after = {"rules": _ids(after)}
    return LifecycleChange(bucket, after, pending.request_id)


def _versioning_or_refusal(client: OssClient, bucket: Bucket) -> str:
    versioning = client.versioning(bucket.name)
    if versioning not in ("Enabled", "Suspended"):
        raise ServiceError(
            f"Bucket {bucket.name} is not versioned: it keeps no older versions, so there are none to expire."
        )
    return versioning


def _plan(client: OssClient, bucket: Bucket, days: int, versioning: str, rules: list[LifecycleRule], now) -> ExpiryPlan:
    due_before = now - datetime.timedelta(days=days)
    count = size = due_count = due_size = 0
    for version, noncurrent_since in _noncurrent_versions(client, bucket.name):
        count += 1
        size += version.size
        if noncurrent_since is not None and noncurrent_since <= due_before:
            due_count += 1
            due_size += version.size
    kept = [rule for rule in rules if rule.rule_id != CONSOLE_RULE_ID]
    replaced = next((rule for rule in rules if rule.rule_id == CONSOLE_RULE_ID), None)
    return ExpiryPlan(bucket, days, versioning, count, size, due_count, due_size, kept, replaced)


def _noncurrent_versions(client: OssClient, bucket_name: str):
    """Each noncurrent version (delete markers hold no data and are left out) with the moment it became
    noncurrent: when the next newer version or delete marker of its key was written, as OSS counts it."""
    newer = None  # the entry listed just before, a key's versions coming newest first
    for version in client.each_version(bucket_name, per_page=VERSIONS_PER_LISTING):
        if not version.is_latest and not version.delete_marker:
            follows = newer is not None and newer.key == version.key
            yield version, newer.last_modified if follows else None
        newer = version


def _ids(rules: list[LifecycleRule]) -> list[str]:
    return [rule.rule_id for rule in rules]
