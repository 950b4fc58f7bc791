"""The RAM policy a user needs for what they do with a bucket through the console (design.md §5), and why.

Each purpose is a list of grants: one RAM action on one resource, with the reason the console (or OSS on its
behalf) needs it, read from the services and the jobs engine. Grants on the same resource become one statement;
RAM policy JSON has no comments, so the reasons travel beside the document, statement by statement.
encryption/tests/test_ram_policy_proof.py runs every purpose against localcloud with exactly this policy and again
without each statement, so a grant that is not needed, or a call that is not granted, fails a test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cloud import sse as sse_rules
from cloud.errors import ServiceError

SET_ENCRYPTION, UPLOAD, DOWNLOAD = "set_encryption", "upload", "download"
BROWSE, SCAN, REENCRYPT, CLIENT_SIDE, EVERYTHING = "browse", "scan", "reencrypt", "client_side", "everything"
PURGE_HISTORY, EXPIRE_VERSIONS = "purge_history", "expire_versions"
PURPOSE_CHOICES = [
    (SET_ENCRYPTION, "Set bucket encryption"),
    (UPLOAD, "Upload objects"),
    (DOWNLOAD, "Download objects"),
    (BROWSE, "List buckets and objects"),
    (SCAN, "Compliance scans"),
    (REENCRYPT, "Re-encryption jobs"),
    (PURGE_HISTORY, "Re-encryption jobs that delete older versions"),
    (CLIENT_SIDE, "Client-side encryption"),
    (EXPIRE_VERSIONS, "Expire older versions"),
    (EVERYTHING, "Everything this console does"),
]
# What the page offers ticked: the bucket's own encryption work; jobs, browsing and everything are asked for.
FORM_PURPOSES = [SET_ENCRYPTION, UPLOAD, DOWNLOAD]
ALL_BUCKETS = "acs:oss:*:*:*"


@dataclass(frozen=True)
class Targets:
    """What the resources are: the bucket, its region, the CMK of the chosen SSE-KMS (blank without) and the ARN
    of the region's default key alias/acs/oss (or of every key of the region while it does not exist)."""

    bucket: str
    region: str
    sse: sse_rules.Sse
    key_arn: str = ""
    default_key_arn: str = ""

    @property
    def bucket_arn(self) -> str:
        return f"acs:oss:*:*:{self.bucket}"

    @property
    def objects_arn(self) -> str:
        return f"acs:oss:*:*:{self.bucket}/*"

    @property
    def kms(self) -> bool:
        return self.sse.method == sse_rules.KMS


@dataclass(frozen=True)
class Grant:
    action: str
    resource: str
    why: str


@dataclass(frozen=True)
class Statement:
    resource: str
    grants: tuple[Grant, ...]

    @property
    def actions(self) -> list[str]:
        return [grant.action for grant in self.grants]

    def document(self) -> dict:
        return {"Effect": "Allow", "Action": self.actions, "Resource": [self.resource]}


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]

    def document(self) -> dict:
        return {"Version": "1", "Statement": [statement.document() for statement in self.statements]}

    def annotations(self) -> list[dict]:
        """Beside each statement of document(), in order: its resource and why each of its actions is there."""
        return [
            {"resource": s.resource, "actions": [{"action": g.action, "why": g.why} for g in s.grants]}
            for s in self.statements
        ]

    def without(self, index: int) -> Policy:
        return Policy(self.statements[:index] + self.statements[index + 1 :])


def any_key_of_region(region: str) -> str:
    """The ARN pattern of every key of the region: for the default key before OSS has created it."""
    return f"acs:kms:{region}:*:key/*"


# What each purpose calls, and why (the services and engine functions named are where the calls are made)


def _checked_key(t: Targets) -> list[Grant]:
    """A chosen CMK is described before use (check_encryption_allowed): Enabled, symmetric, in the bucket's region."""
    if not (t.kms and t.sse.key_id):
        return []
    why = "The console checks the chosen CMK (Enabled, symmetric, in the bucket's region) before OSS uses it."
    names = "…and names it by its aliases in what it shows and audits."
    return [Grant("kms:DescribeKey", t.key_arn, why), Grant("kms:ListAliasesByKeyId", t.key_arn, names)]


def _sse_kms_write(t: Targets) -> list[Grant]:
    if not t.kms:
        return []
    why = "OSS asks KMS for a data key under the CMK on the caller's behalf for every SSE-KMS write."
    return [Grant("kms:GenerateDataKey", t.key_arn, why)]


def _sse_kms_read(t: Targets) -> list[Grant]:
    if not t.kms:
        return []
    return [Grant("kms:Decrypt", t.key_arn, "OSS asks KMS to open the object's data key on the caller's behalf.")]


def _default_key_lookup(t: Targets) -> list[Grant]:
    """A job resolving an SSE-KMS target asks for alias/acs/oss, to recognise objects under the default key."""
    if not t.kms:
        return []
    why = (
        "A job with an SSE-KMS target describes alias/acs/oss when it starts, to recognise objects under the "
        "default key by its id."
    )
    names = "…with its aliases."
    return [Grant("kms:DescribeKey", t.default_key_arn, why), Grant("kms:ListAliasesByKeyId", t.default_key_arn, names)]


def _set_encryption(t: Targets) -> list[Grant]:
    return [
        Grant(
            "oss:GetBucketEncryption",
            t.bucket_arn,
            "Reads the default before and after the change, to show and audit what OSS holds.",
        ),  # fmt: skip
        *_checked_key(t),
        Grant("oss:PutBucketEncryption", t.bucket_arn, "Sets the bucket's default encryption."),
    ]


def _upload(t: Targets) -> list[Grant]:
    return [
        *_checked_key(t),
        Grant(
            "oss:GetObject",
            t.objects_arn,
            "HEAD before the upload: an existing object is replaced only when "
            "asked, and the encryption it had is shown.",
        ),  # fmt: skip
        Grant("oss:GetBucketEncryption", t.bucket_arn, "Shows the encryption the bucket default would have given."),
        Grant("oss:PutObject", t.objects_arn, "PutObject (multipart uploads are oss:PutObject too)."),
        *_sse_kms_write(t),
    ]


def _download(t: Targets) -> list[Grant]:
    return [Grant("oss:GetObject", t.objects_arn, "GetObject streams the object."), *_sse_kms_read(t)]


def _browse(t: Targets) -> list[Grant]:
    return [
        Grant(
            "oss:ListBuckets",
            ALL_BUCKETS,
            "The bucket list reads the connection's buckets; ListBuckets acts on the account, not on a bucket.",
        ),  # fmt: skip
        Grant(
            "oss:GetBucketInfo",
            t.bucket_arn,
            "Region, storage class and default encryption of the bucket, for the list and the bucket page; the "
            "account's other buckets are listed with a problem each unless they are granted too.",
        ),  # fmt: skip
        Grant("oss:ListObjects", t.bucket_arn, "The object browser lists a folder (ListObjectsV2 is oss:ListObjects)."),
        Grant("oss:GetObject", t.objects_arn, "HEAD of each listed object tells its encryption."),
        Grant("oss:GetObjectTagging", t.objects_arn, "The object page shows the object's tags."),
        Grant("oss:GetObjectAcl", t.objects_arn, "The object page shows the object's ACL."),
        Grant("oss:ListObjectVersions", t.bucket_arn, "The object page lists the object's versions."),
        Grant("oss:GetObjectVersion", t.objects_arn, "HEAD of each version tells its own encryption."),
    ]


def _scan(t: Targets) -> list[Grant]:
    return [
        Grant("oss:GetBucketEncryption", t.bucket_arn, "The job's target (the bucket default) is read when it starts."),
        *_default_key_lookup(t),
        Grant("oss:ListObjects", t.bucket_arn, "The engine lists the bucket page by page, and counts it for progress."),
        Grant("oss:GetObject", t.objects_arn, "HEAD of every object tells its encryption."),
    ]


def _compliance_scan(t: Targets) -> list[Grant]:
    """A scan also counts a versioned bucket's older versions (a re-encryption acts on current versions only)."""
    return [
        *_scan(t),
        Grant("oss:GetBucketVersioning", t.bucket_arn, "A scan asks whether the bucket keeps older versions."),
        Grant("oss:ListObjectVersions", t.bucket_arn, "In a versioned bucket, it lists every version."),
        Grant("oss:GetObjectVersion", t.objects_arn, "A HEAD of each older version tells its own encryption."),
    ]


def _reencrypt(t: Targets) -> list[Grant]:
    region_keys = any_key_of_region(t.region)
    return [
        *_scan(t),
        *_checked_key(t),
        Grant("oss:GetObjectAcl", t.objects_arn, "The copy sends the object's own ACL again, so it is read first."),
        Grant(
            "oss:PutObject",
            t.objects_arn,
            "CopyObject onto itself writes the object under the target encryption "
            "(a multipart copy above the copy threshold is oss:PutObject too).",
        ),  # fmt: skip
        Grant(
            "oss:PutObjectAcl",
            t.objects_arn,
            "The copy sends an ACL other than default again, which OSS counts as setting it.",
        ),  # fmt: skip
        Grant(
            "oss:GetObjectTagging",
            t.objects_arn,
            "Above the copy threshold the object is copied part by part, and its tags are read to be sent again.",
        ),  # fmt: skip
        Grant("oss:PutObjectTagging", t.objects_arn, "…and sending them with the upload sets them."),
        Grant(
            "oss:AbortMultipartUpload",
            t.objects_arn,
            "A multipart copy that fails, or finds the object changed, is aborted, so no parts are left behind.",
        ),  # fmt: skip
        Grant(
            "kms:Decrypt",
            region_keys,
            "Objects under SSE-KMS today are opened by OSS to be copied; they may be under any CMK of the region.",
        ),  # fmt: skip
        *_sse_kms_write(t),
    ]


def _purge_history(t: Targets) -> list[Grant]:
    return [
        *_reencrypt(t),
        Grant("oss:GetBucketVersioning", t.bucket_arn, "The job starts only in a bucket that keeps older versions."),
        Grant("oss:ListObjectVersions", t.bucket_arn, "Each object's older versions are listed after its copy."),
        Grant("oss:GetObjectVersion", t.objects_arn, "A HEAD of each older version tells its encryption."),
        Grant("oss:DeleteObjectVersion", t.objects_arn, "An older version not as targeted is deleted by its id."),
    ]


def _client_side(t: Targets) -> list[Grant]:
    return [
        *_checked_key(t),
        Grant(
            "oss:GetObject",
            t.objects_arn,
            "HEAD before the upload (an existing object is replaced only when asked) "
            "and after it; HEAD finds the master key of a download; GetObject reads the ciphertext.",
        ),  # fmt: skip
        Grant("oss:GetBucketEncryption", t.bucket_arn, "Shows the encryption the bucket default would have given."),
        Grant("oss:PutObject", t.objects_arn, "PutObject, or a multipart upload above the CSE multipart threshold."),
        Grant("oss:AbortMultipartUpload", t.objects_arn, "A multipart upload that fails is aborted."),
        Grant(
            "oss:ListMultipartUploads",
            t.bucket_arn,
            "The hourly sweep finds the multipart upload of a web process stopped before it recorded the upload.",
        ),  # fmt: skip
        *_sse_kms_write(t),
        *_sse_kms_read(t),
    ]


def _expire_versions(t: Targets) -> list[Grant]:
    """The rule expiring a versioned bucket's older versions: planned, set and removed (buckets.services.lifecycle)."""
    return [
        Grant(
            "oss:GetBucketVersioning",
            t.bucket_arn,
            "A bucket that keeps no older versions is refused, so versioning is read first.",
        ),  # fmt: skip
        Grant(
            "oss:ListObjectVersions",
            t.bucket_arn,
            "The plan lists every version, to count the older ones and how long each has been noncurrent.",
        ),  # fmt: skip
        Grant(
            "oss:GetBucketLifecycle",
            t.bucket_arn,
            "The bucket's rules are read, so that every rule but the console's own is written back unchanged.",
        ),  # fmt: skip
        Grant(
            "oss:PutBucketLifecycle",
            t.bucket_arn,
            "Writes the rules with the console's rule added, or without it when it is removed.",
        ),  # fmt: skip
        Grant(
            "oss:DeleteBucketLifecycle",
            t.bucket_arn,
            "Removing the console's rule when it is the bucket's only rule deletes the configuration.",
        ),  # fmt: skip
    ]


def _everything(t: Targets) -> list[Grant]:
    region_kms = f"acs:kms:{t.region}:*:*"
    management = [
        ("oss:PutBucket", ALL_BUCKETS, "The Create bucket page (the new bucket's name is not known in advance)."),
        ("oss:GetBucketInfo", ALL_BUCKETS, "The bucket list describes every bucket, and a new bucket is read back."),
        ("oss:DeleteBucketEncryption", t.bucket_arn, "Removing a bucket's default encryption."),
        ("kms:ListKeys", "*", "The Keys page and the key choosers list the region's keys."),
        ("kms:ListAliases", "*", "Keys are named by their aliases everywhere in the console."),
    ]
    key_actions = (
        "DescribeKey ListAliasesByKeyId CreateKey CreateAlias DeleteAlias EnableKey DisableKey ScheduleKeyDeletion "
        "CancelKeyDeletion CreateKeyVersion UpdateRotationPolicy GetParametersForImport ImportKeyMaterial "
        "GenerateDataKey Encrypt Decrypt"
    ).split()
    why = "The Keys pages manage the region's keys (create, alias, enable, disable, delete, rotate, BYOK import), and "
    why += "client-side master keys held in KMS wrap and unwrap data keys."
    grants = [grant for purpose in PURPOSES.values() if purpose is not _everything for grant in purpose(t)]
    grants += [Grant(action, resource, reason) for action, resource, reason in management]
    return grants + [Grant(f"kms:{action}", region_kms, why) for action in key_actions]


PURPOSES = {
    SET_ENCRYPTION: _set_encryption,
    UPLOAD: _upload,
    DOWNLOAD: _download,
    BROWSE: _browse,
    SCAN: _compliance_scan,
    REENCRYPT: _reencrypt,
    PURGE_HISTORY: _purge_history,
    CLIENT_SIDE: _client_side,
    EXPIRE_VERSIONS: _expire_versions,
    EVERYTHING: _everything,
}
PURPOSES_TEXT = ", ".join(label.lower() for _, label in PURPOSE_CHOICES)


def chosen_purposes(purposes: Iterable[str]) -> list[str]:
    """The purposes in canonical order, refused when empty or unknown."""
    wanted = set(purposes)
    unknown = wanted - set(PURPOSES)
    if unknown:
        raise ServiceError(f"Unknown purpose {sorted(unknown)[0]!r}: choose from {', '.join(PURPOSES)}.")
    if not wanted:
        raise ServiceError(f"Choose at least one purpose: {PURPOSES_TEXT}.")
    return [value for value, _ in PURPOSE_CHOICES if value in wanted]


def runs_jobs(purposes: Iterable[str]) -> bool:
    """Whether a job may run: one with an SSE-KMS target describes alias/acs/oss, whatever key it targets."""
    return bool({SCAN, REENCRYPT, PURGE_HISTORY, EVERYTHING} & set(purposes))


def ram_policy(targets: Targets, purposes: Iterable[str]) -> Policy:
    """The policy: every grant of the chosen purposes, one statement per resource in order of first need, each
    action once."""
    chosen = chosen_purposes(purposes)
    if targets.kms and not targets.key_arn:
        raise ServiceError("SSE-KMS needs the ARN of the CMK (or of every key of the region).")
    by_resource: dict[str, dict[str, Grant]] = {}
    for purpose in chosen:
        for grant in PURPOSES[purpose](targets):
            by_resource.setdefault(grant.resource, {}).setdefault(grant.action, grant)
    return Policy(tuple(Statement(resource, tuple(grants.values())) for resource, grants in by_resource.items()))
