"""The RAM policy a user needs for a bucket's encryption (design.md §5): OSS actions per purpose, plus the KMS
actions on the CMK when the encryption is SSE-KMS."""

from __future__ import annotations

from collections.abc import Iterable

from cloud import sse as sse_rules
from cloud.errors import ServiceError

SET_ENCRYPTION, UPLOAD, DOWNLOAD = "set_encryption", "upload", "download"
PURPOSE_CHOICES = [
    (SET_ENCRYPTION, "Set bucket encryption"),
    (UPLOAD, "Upload objects"),
    (DOWNLOAD, "Download objects"),
]
BUCKET_ACTIONS = ["oss:PutBucketEncryption", "oss:GetBucketEncryption"]
OBJECT_ACTIONS = {UPLOAD: "oss:PutObject", DOWNLOAD: "oss:GetObject"}
# With a CMK, OSS asks KMS for all four whatever the request: listing and describing to find and check the key,
# GenerateDataKey to seal an object's data key, Decrypt to open it.
KMS_LIST_ACTION = "kms:List*"
KMS_KEY_ACTIONS = ["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"]


def any_key_of_region(region: str) -> str:
    """The ARN pattern of every key of the region: for the default key before OSS has created it."""
    return f"acs:kms:{region}:*:key/*"


def _allow(actions: list[str], resources: list[str]) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def chosen_purposes(purposes: Iterable[str]) -> list[str]:
    """The purposes in canonical order, refused when empty or unknown."""
    wanted = set(purposes)
    unknown = wanted - {value for value, _ in PURPOSE_CHOICES}
    if unknown:
        known = ", ".join(value for value, _ in PURPOSE_CHOICES)
        raise ServiceError(f"Unknown purpose {sorted(unknown)[0]!r}: choose from {known}.")
    if not wanted:
        raise ServiceError("Choose at least one purpose: set bucket encryption, upload or download.")
    return [value for value, _ in PURPOSE_CHOICES if value in wanted]


def ram_policy(bucket_name: str, sse: sse_rules.Sse, key_arn: str, purposes: Iterable[str]) -> dict:
    """The policy document, statements in a fixed order: bucket, objects, KMS listing, the CMK."""
    chosen = chosen_purposes(purposes)
    statements = []
    if SET_ENCRYPTION in chosen:
        statements.append(
            _allow(["oss:PutBucketEncryption", "oss:GetBucketEncryption"], [f"acs:oss:*:*:{bucket_name}"])
        )
    object_actions = [OBJECT_ACTIONS[purpose] for purpose in chosen if purpose in OBJECT_ACTIONS]
    if object_actions:
        statements.append(_allow(object_actions, [f"acs:oss:*:*:{bucket_name}/*"]))
    if sse.method == sse_rules.KMS:
        if not key_arn:
            raise ServiceError("SSE-KMS needs the ARN of the CMK (or of every key of the region).")
        statements.append(_allow([KMS_LIST_ACTION], ["*"]))
        statements.append(_allow(list(KMS_KEY_ACTIONS), [key_arn]))
    return {"Version": "1", "Statement": statements}
