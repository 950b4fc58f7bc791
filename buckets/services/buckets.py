"""Buckets: the snapshot the lists show, creating a bucket, and its default encryption (design.md §5).

OSS is the source of truth; `Bucket` rows are what the console last saw, refreshed from ListBuckets and
GetBucketInfo, and after every change the console makes.
"""

from __future__ import annotations

import datetime
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.utils import timezone

from audit.services import recording
from buckets.models import Bucket, Connection
from cloud import sse
from cloud.errors import CloudError, ServiceError
from cloud.kms import KeyInfo, KmsClient
from cloud.oss import BucketDetails, OssClient
from cloud.sse import Sse
from encryption import selectors

BUCKET_SNAPSHOT_MAX_AGE_SECONDS = 30
# GetBucketInfo per bucket is the slow part of a refresh; a few at a time keep a large account quick.
DETAIL_READERS = 8

STORAGE_CLASSES = [
    ("Standard", "Standard"),
    ("IA", "Infrequent Access"),
    ("Archive", "Archive"),
    ("ColdArchive", "Cold Archive"),
]
ACLS = [("private", "private"), ("public-read", "public-read"), ("public-read-write", "public-read-write")]
# OSS naming rules: 3-63 characters, lower-case letters, digits and hyphens, a letter or digit at both ends.
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")

NEW_OBJECTS_ONLY = "Existing objects keep their encryption: this setting applies to objects uploaded from now on."

NONE, OSS_AES256, OSS_SM4, KMS_DEFAULT, KMS_NAMED = "none", "oss-aes256", "oss-sm4", "kms-default", "kms-named"
ENCRYPTION_STATES = [
    (NONE, "None"),
    (OSS_AES256, "OSS-managed AES256"),
    (OSS_SM4, "OSS-managed SM4"),
    (KMS_DEFAULT, "KMS, default CMK alias/acs/oss"),
    (KMS_NAMED, "KMS, chosen CMK"),
]
_STATE_FILTERS = {
    NONE: Q(sse_method=sse.NONE),
    OSS_AES256: Q(sse_method=sse.OSS, sse_algorithm=sse.AES256),
    OSS_SM4: Q(sse_method=sse.OSS, sse_algorithm=sse.SM4),
    KMS_DEFAULT: Q(sse_method=sse.KMS, sse_key_id=""),
    KMS_NAMED: Q(sse_method=sse.KMS) & ~Q(sse_key_id=""),
}


# -- Encryption states, for filters and counts ----------------------------------------------------------


def state_filter(state: str) -> Q:
    return _STATE_FILTERS[state]


def state_of(bucket: Bucket) -> str:
    if bucket.sse_method == sse.OSS:
        return OSS_SM4 if bucket.sse_algorithm == sse.SM4 else OSS_AES256
    if bucket.sse_method == sse.KMS:
        return KMS_NAMED if bucket.sse_key_id else KMS_DEFAULT
    return NONE


def state_counts(buckets) -> list[dict]:
    """How many of `buckets` are in each encryption state, in one query, every state listed."""
    totals = buckets.aggregate(**{state: Count("id", filter=query) for state, query in _STATE_FILTERS.items()})
    return [{"state": state, "label": label, "count": totals[state]} for state, label in ENCRYPTION_STATES]


# -- Snapshot refresh -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshOutcome:
    """How a connection's snapshot stands: `error` is the cloud's message when the last refresh failed."""

    connection: Connection
    error: str = ""
    snapshot_at: datetime.datetime | None = None


def refresh_buckets(connection: Connection) -> RefreshOutcome:
    """Read the connection's buckets from OSS into the snapshot; rows of buckets that are gone are removed.

    If OSS refuses the listing, the last snapshot stays as it was. A bucket whose details cannot be read keeps
    its last row (or gets none yet), and the outcome names it.
    """
    client = OssClient(connection)
    try:
        summaries = client.list_buckets()
    except CloudError as error:
        return _remember(connection, error.message)
    with ThreadPoolExecutor(max_workers=DETAIL_READERS) as pool:
        read = list(pool.map(lambda summary: _details_or_error(client, summary.name), summaries))
    details = [found for found in read if isinstance(found, BucketDetails)]
    problems = [found for found in read if isinstance(found, str)]
    _save_snapshot(connection, {summary.name: summary.region for summary in summaries}, details)
    return _remember(connection, "; ".join(problems))


def refresh_stale(connections, *, force: bool = False) -> list[RefreshOutcome]:
    """Refresh each connection whose snapshot is older than BUCKET_SNAPSHOT_MAX_AGE_SECONDS (every one with force).

    A connection refreshed (or tried) within that time is not asked again, so a failing endpoint is not
    retried on every page view; its outcome is the remembered one.
    """
    outcomes = []
    for connection in connections:
        remembered = None if force else cache.get(_status_key(connection))
        if remembered is None:
            outcomes.append(refresh_buckets(connection))
        else:
            outcomes.append(_outcome(connection, remembered["error"]))
    return outcomes


def needs_refresh(connections) -> bool:
    """Whether a page showing the snapshot should refresh it: some connection was not read within the max age."""
    return any(cache.get(_status_key(connection)) is None for connection in connections)


def _details_or_error(client: OssClient, name: str) -> BucketDetails | str:
    try:
        return client.bucket_details(name)
    except CloudError as error:
        return f"bucket {name}: {error.message}"


def _save_snapshot(connection: Connection, listed_regions: dict[str, str], read: list[BucketDetails]) -> None:
    now = timezone.now()
    names = _key_names_for(connection, [(listed_regions[d.summary.name] or d.summary.region, d.rule) for d in read])
    known = {bucket.name: bucket for bucket in Bucket.objects.filter(connection=connection)}
    for details in read:
        region = listed_regions[details.summary.name] or details.summary.region
        fields = _snapshot_fields(details, region, names.get(region, {}))
        Bucket.objects.update_or_create(
            connection=connection,
            name=details.summary.name,
            defaults=fields | _change_stamp(known.get(details.summary.name), fields, now) | {"refreshed_at": now},
        )
    Bucket.objects.filter(connection=connection).exclude(name__in=listed_regions).delete()


def _snapshot_fields(details: BucketDetails, region: str, key_names: dict[str, str]) -> dict:
    summary = details.summary
    return {
        "region": region,
        "location": summary.location,
        "created": summary.created,
        "storage_class": summary.storage_class,
        **_encryption_fields(Sse.of_rule(details.rule), key_names),
    }


ENCRYPTION_SETTING_FIELDS = ("sse_method", "sse_algorithm", "sse_key_id")


def _change_stamp(known: Bucket | None, fields: dict, now) -> dict:
    """`encryption_changed_at` when the default encryption differs from what the console saw before: scans made
    earlier measured against the old default (jobs.selectors.outdated_scans). A bucket seen first gets none."""
    if known is None or all(getattr(known, name) == fields[name] for name in ENCRYPTION_SETTING_FIELDS):
        return {}
    return {"encryption_changed_at": now}


def _encryption_fields(setting: Sse, key_names: dict[str, str]) -> dict:
    return {
        "sse_method": setting.method,
        "sse_algorithm": setting.algorithm,
        "sse_key_id": setting.key_id,
        "sse_label": setting.label(key_names),
    }


def _key_names_for(connection: Connection, regions_and_rules) -> dict[str, dict[str, str]]:
    """Key names per region, asking KMS only in regions where a bucket names its own key."""
    regions = {region for region, rule in regions_and_rules if rule is not None and rule.kms_key_id}
    return {region: selectors.key_names(connection, region) for region in regions}


def _status_key(connection: Connection) -> str:
    # The connection's last change is part of the key: a connection edited since is refreshed at once.
    return f"buckets:snapshot:{connection.pk}:{connection.updated_at.timestamp()}"


def _remember(connection: Connection, error: str) -> RefreshOutcome:
    cache.set(_status_key(connection), {"error": error}, timeout=BUCKET_SNAPSHOT_MAX_AGE_SECONDS)
    return _outcome(connection, error)


def _outcome(connection: Connection, error: str) -> RefreshOutcome:
    if not error:
        return RefreshOutcome(connection)
    snapshot_at = Bucket.objects.filter(connection=connection).aggregate(at=Max("refreshed_at"))["at"]
    return RefreshOutcome(connection, error, snapshot_at)


# -- Default encryption ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptionChange:
    """A bucket default before and after a change, as OSS stated it, with the labels the console shows."""

    bucket: Bucket
    before: Sse
    after: Sse
    before_label: str
    after_label: str
    request_id: str


def refused_methods(region: str) -> dict[str, str]:
    """The encryption methods a bucket in `region` may not use, each with the reason (pages show them disabled)."""
    refused = {}
    for method in (sse.NONE, sse.OSS, sse.KMS):
        try:
            sse.check_region(Sse(method, sse.AES256), region)
        except ServiceError as refusal:
            refused[method] = refusal.message
    return refused


def check_encryption_allowed(bucket: Bucket, setting: Sse) -> Sse:
    """The rules of design.md §5 for this bucket; a chosen key comes back as its key id (it may be named by alias)."""
    sse.check_region(setting, bucket.region)
    if setting.method != sse.KMS or not setting.key_id:
        return setting
    key = _key_in_region(bucket, setting.key_id)
    sse.check_key(key, bucket.region)
    return Sse(setting.method, setting.algorithm, key.key_id)


def _key_in_region(bucket: Bucket, key_id: str) -> KeyInfo:
    try:
        return KmsClient(bucket.connection, bucket.region).describe_key(key_id)
    except CloudError as error:
        if error.status_code == 404:
            raise ServiceError(
                f"KMS key {key_id} is not in the bucket's region {bucket.region}: KMS there does not know it "
                f"({error.code})."
            ) from None
        raise


def set_default_encryption(bucket: Bucket, setting: Sse, actor) -> EncryptionChange:
    """Set (or, with method none, delete) the bucket's default encryption, checked against design.md §5.

    Reads the rule before and after the write, so the audit event and the answer say what OSS really holds.
    Existing objects are not touched (NEW_OBJECTS_ONLY).
    """
    client = OssClient(bucket.connection)
    action = "bucket.encryption.delete" if setting.method == sse.NONE else "bucket.encryption.put"
    with recording(action, actor=actor, connection=bucket.connection, bucket=bucket.name) as pending:
        before = Sse.of_rule(client.get_encryption(bucket.name))
        names = _key_names_of(bucket, before, setting)
        pending.before = _labelled(before, names)
        setting = check_encryption_allowed(bucket, setting)
        if setting.method == sse.NONE:
            pending.request_id = client.delete_encryption(bucket.name)
        else:
            pending.request_id = client.put_encryption(bucket.name, setting.rule())
        after = Sse.of_rule(client.get_encryption(bucket.name))
        pending.after = _labelled(after, names)
    _store_encryption(bucket, after, names)
    return EncryptionChange(bucket, before, after, before.label(names), after.label(names), pending.request_id)


def delete_default_encryption(bucket: Bucket, actor) -> EncryptionChange:
    """DeleteBucketEncryption: new objects are no longer encrypted by default."""
    return set_default_encryption(bucket, Sse(), actor)


def read_default_encryption(bucket: Bucket) -> Bucket:
    """The bucket default as OSS states it now (GetBucketEncryption), kept in the snapshot."""
    current = Sse.of_rule(OssClient(bucket.connection).get_encryption(bucket.name))
    _store_encryption(bucket, current, _key_names_of(bucket, current))
    return bucket


def _labelled(setting: Sse, key_names: dict[str, str]) -> dict:
    return setting.as_dict() | {"label": setting.label(key_names)}


def _key_names_of(bucket: Bucket, *settings: Sse) -> dict[str, str]:
    if any(setting.key_id for setting in settings):
        return selectors.key_names(bucket.connection, bucket.region)
    return {}


def _store_encryption(bucket: Bucket, setting: Sse, key_names: dict[str, str]) -> None:
    fields = _encryption_fields(setting, key_names)
    fields |= _change_stamp(bucket, fields, timezone.now())
    for name, value in fields.items():
        setattr(bucket, name, value)
    bucket.save(update_fields=list(fields))


# -- Bucket detail --------------------------------------------------------------------------------------


@dataclass
class BucketOverview:
    """A bucket as OSS describes it now (the snapshot is updated too); `problems` say what could not be read."""

    bucket: Bucket
    acl: str = ""
    versioning: str = ""
    kms_key: KeyInfo | None = None
    problems: list[str] = field(default_factory=list)


def bucket_overview(bucket: Bucket) -> BucketOverview:
    try:
        details = OssClient(bucket.connection).bucket_details(bucket.name)
    except CloudError as error:
        return BucketOverview(bucket, problems=[f"OSS could not describe the bucket: {error.message}"])
    region = details.summary.region or bucket.region
    names = _key_names_for(bucket.connection, [(region, details.rule)]).get(region, {})
    for name, value in _snapshot_fields(details, region, names).items():
        setattr(bucket, name, value)
    bucket.refreshed_at = timezone.now()
    bucket.save()
    overview = BucketOverview(bucket, acl=details.acl, versioning=details.versioning)
    if bucket.sse_method == sse.KMS:
        try:
            overview.kms_key = _used_key(bucket)
        except CloudError as error:
            overview.problems.append(f"KMS could not describe the key: {error.message}")
    return overview


def _used_key(bucket: Bucket) -> KeyInfo | None:
    """The CMK that encrypts new objects: the chosen one, or alias/acs/oss (None until OSS first used it)."""
    client = KmsClient(bucket.connection, bucket.region)
    return client.describe_key(bucket.sse_key_id) if bucket.sse_key_id else client.default_oss_key()


# -- Creating a bucket ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedBucket:
    """A new bucket. With encryption asked for, either `encryption` holds the change or `encryption_error` says
    why the bucket exists without it."""

    bucket: Bucket
    request_id: str
    requested: Sse
    encryption: EncryptionChange | None = None
    encryption_error: str = ""


def check_bucket_name(name: str) -> None:
    if not BUCKET_NAME.fullmatch(name):
        raise ServiceError(
            f"{name!r} is not a valid bucket name: use 3-63 lower-case letters, digits and hyphens, "
            "starting and ending with a letter or digit."
        )


def create_bucket(
    *, connection: Connection, name: str, storage_class: str, acl: str, encryption: Sse, actor
) -> CreatedBucket:
    """PutBucket, then PutBucketEncryption when encryption is asked for.

    These are two OSS calls: if the second fails, the bucket exists without encryption and the result says so.
    Rules that need no cloud call (name, class, ACL, method allowed in the region) are checked before anything
    is created; the key is checked in the bucket's region as OSS reports it, after creation.
    """
    client = OssClient(connection)
    with recording("bucket.create", actor=actor, connection=connection, bucket=name) as pending:
        _check_new_bucket(name, storage_class, acl)
        sse.check_region(encryption, connection.region)
        pending.request_id = client.create_bucket(name, storage_class, acl)
        pending.after = {"storage_class": storage_class, "acl": acl, "encryption": encryption.as_dict()}
    bucket = _snapshot_new_bucket(client, connection, name, storage_class)
    if encryption.method == sse.NONE:
        return CreatedBucket(bucket, pending.request_id, encryption)
    try:
        change = set_default_encryption(bucket, encryption, actor)
    except ServiceError as error:
        return CreatedBucket(bucket, pending.request_id, encryption, encryption_error=error.message)
    return CreatedBucket(change.bucket, pending.request_id, encryption, encryption=change)


def _check_new_bucket(name: str, storage_class: str, acl: str) -> None:
    check_bucket_name(name)
    if storage_class not in dict(STORAGE_CLASSES):
        raise ServiceError(f"Unknown storage class {storage_class!r}: choose {', '.join(dict(STORAGE_CLASSES))}.")
    if acl not in dict(ACLS):
        raise ServiceError(f"Unknown ACL {acl!r}: choose {', '.join(dict(ACLS))}.")


def _snapshot_new_bucket(client: OssClient, connection: Connection, name: str, storage_class: str) -> Bucket:
    try:
        details = client.bucket_details(name)
    except CloudError:
        # The bucket exists; what OSS would say about it is what was asked for, in the connection's region.
        fields = {"region": connection.region, "storage_class": storage_class, "created": timezone.now()}
        fields |= _encryption_fields(Sse(), {})
    else:
        fields = _snapshot_fields(details, details.summary.region or connection.region, {})
    bucket, _ = Bucket.objects.update_or_create(
        connection=connection, name=name, defaults=fields | {"refreshed_at": timezone.now()}
    )
    return bucket
