"""KMS keys of a connection and region, and the RAM policy helper: what the Keys pages, the API and the BYOK
wizard do. Every change is audited with the key's state and aliases before and after and the KMS request id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from audit.models import AuditEvent
from audit.services import record, recording
from buckets.models import Bucket
from cloud import regions
from cloud import sse as sse_rules
from cloud.errors import Conflict, NotFound, ServiceError
from cloud.kms import DEFAULT_OSS_ALIAS, ImportParameters, KeyInfo, KmsClient
from encryption import byok, ram_policy

KEY_SPECS = ("Aliyun_AES_256", "Aliyun_SM4")
ORIGINS = ("Aliyun_KMS", "EXTERNAL")
PENDING_DAYS = (7, 366)
MAX_DESCRIPTION = 8192
ALIAS_PREFIX = "alias/"
RESERVED_ALIAS_PREFIX = "alias/acs/"
ALIAS_NAME = re.compile(r"^alias/[a-zA-Z0-9:/_-]{1,255}$")


@dataclass(frozen=True)
class KeyRow:
    """A key with the buckets (of the console's snapshot) that use it as their default SSE-KMS key."""

    key: KeyInfo
    used_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeyChange:
    """The key after a change, the KMS request id, and the key before it (None for a key just created)."""

    key: KeyInfo
    request_id: str
    before: KeyInfo | None = None

    @property
    def name(self) -> str:
        """The key as the person knew it before the change."""
        return (self.before or self.key).display_name

    @property
    def differences(self) -> list[str]:
        """`Enabled → Disabled`, `aliases none → alias/x`...: what KMS reports differently after the change."""
        return [difference for field, label in _SHOWN_CHANGES if (difference := self._difference(field, label))]

    def summary(self, head: str = "") -> str:
        """What changed, as the pages say it: `Key alias/x(ID): Enabled → Disabled.` (`head` replaces `Key <name>`)."""
        head = head or f"Key {self.name}"
        return f"{head}: {'; '.join(self.differences)}." if self.differences else f"{head}."

    def _difference(self, field: str, label: str) -> str:
        old = _shown_value(getattr(self.before, field, None) if self.before else None)
        new = _shown_value(getattr(self.key, field))
        if old == new:
            return ""
        return f"{label} {old} → {new}".strip()


# What a change message reports when it differs before and after, and how it is labelled. Not the last rotation
# date: KMS moves it on an import too, and a rotation says so in its own words.
_SHOWN_CHANGES = (
    ("state", ""),
    ("aliases", "aliases"),
    ("deletion_date", "deletion date"),
    ("material_expires", "material expires"),
)


def _shown_value(value) -> str:
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return value or "none"


@dataclass(frozen=True)
class RamPolicy:
    """The document, why each statement is there (`annotations`, in the document's order), the CMK its SSE-KMS
    statements name, and notes on what the policy could not name exactly."""

    policy: ram_policy.Policy
    key_arn: str = ""
    notes: tuple[str, ...] = ()

    @property
    def document(self) -> dict:
        return self.policy.document()

    @property
    def annotations(self) -> list[dict]:
        return self.policy.annotations()

    @property
    def text(self) -> str:
        return json.dumps(self.document, indent=2)

    def statements(self) -> list[tuple[str, dict]]:
        """Each statement as JSON text beside its annotation, for the page."""
        return [
            (json.dumps(statement, indent=2), annotation)
            for statement, annotation in zip(self.document["Statement"], self.annotations, strict=True)
        ]


# Where keys live


def key_regions(connection) -> list[str]:
    """The regions whose keys the console shows for a connection: its own region first, then every SSE region."""
    return [connection.region] + [region for region in regions.SSE_REGIONS if region != connection.region]


def check_key_region(connection, region: str) -> str:
    if region not in key_regions(connection):
        raise ServiceError(f"Region {region!r} is neither the connection's region nor one where OSS offers SSE.")
    return region


# Reading


def _bucket_key_index(keys: Iterable[KeyInfo]) -> dict[str, str]:
    """Every way a bucket rule may name a key (id, ARN, alias) -> the key id."""
    index = {}
    for key in keys:
        for reference in (key.key_id, key.arn, *key.aliases):
            if reference:
                index[reference] = key.key_id
    return index


def buckets_using(connection, region: str, keys: list[KeyInfo]) -> dict[str, tuple[str, ...]]:
    """Key id -> names of the buckets whose default encryption is SSE-KMS with that key.

    A rule without a key id uses the region's `alias/acs/oss` key, so those buckets count for the key carrying
    that alias, when the bucket is in the listed region (a bucket the snapshot knows no region of is taken to be
    in its connection's region).
    """
    index = _bucket_key_index(keys)
    default = next((key.key_id for key in keys if key.is_default_oss_key), None)
    found: dict[str, list[str]] = {}
    for bucket in Bucket.objects.filter(connection=connection, sse_method=sse_rules.KMS).order_by("name"):
        if bucket.sse_key_id:
            key_id = index.get(bucket.sse_key_id)
        else:
            key_id = default if (bucket.region or connection.region) == region else None
        if key_id:
            found.setdefault(key_id, []).append(bucket.name)
    return {key_id: tuple(names) for key_id, names in found.items()}


def list_keys(connection, region: str) -> list[KeyRow]:
    check_key_region(connection, region)
    keys = sorted(KmsClient(connection, region).list_keys(), key=lambda key: (key.display_name, key.key_id))
    used_by = buckets_using(connection, region, keys)
    return [KeyRow(key, used_by.get(key.key_id, ())) for key in keys]


def get_key(connection, region: str, key_id: str) -> KeyRow:
    check_key_region(connection, region)
    key = KmsClient(connection, region).describe_key(key_id)
    return KeyRow(key, buckets_using(connection, region, [key]).get(key.key_id, ()))


# Changing


def check_alias(alias: str) -> str:
    """An alias as KMS takes it: `alias/` and 1-255 of letters, digits, _ - / :, outside the services' alias/acs/."""
    alias = (alias or "").strip()
    if not alias.startswith(ALIAS_PREFIX):
        raise ServiceError("An alias starts with alias/, for example alias/backups-2025.")
    if alias.startswith(RESERVED_ALIAS_PREFIX):
        raise ServiceError("Aliases under alias/acs/ belong to Alibaba Cloud services and cannot be added or removed.")
    if not ALIAS_NAME.match(alias):
        raise ServiceError("After alias/, an alias has 1 to 255 letters, digits, '_', '-', '/' or ':'.")
    return alias


def _snapshot(key: KeyInfo) -> dict:
    """What the audit log keeps of a key before and after a change."""
    state = {"state": key.state, "aliases": list(key.aliases)}
    for name in ("deletion_date", "material_expires", "last_rotation"):
        if getattr(key, name):
            state[name] = getattr(key, name)
    return state


def _refuse_service_key(key: KeyInfo) -> None:
    if key.is_default_oss_key:
        raise ServiceError(
            f"{DEFAULT_OSS_ALIAS} ({key.key_id}) is the key OSS manages for SSE-KMS with the default key: "
            "only the service changes it."
        )


def _change(
    action: str,
    operation: Callable[[KmsClient, KeyInfo], str],
    *,
    actor,
    connection,
    region: str,
    key_id: str,
    note: dict | None = None,
) -> KeyChange:
    """Describe the key, refuse the service key, run `operation` (it returns the KMS request id), describe again."""
    client = KmsClient(connection, region)
    with recording(action, actor=actor, connection=connection, target=key_id) as pending:
        check_key_region(connection, region)
        before = client.describe_key(key_id)
        pending.before = _snapshot(before)
        _refuse_service_key(before)
        request_id = operation(client, before)
        after = client.describe_key(before.key_id)
        pending.after, pending.request_id = _snapshot(after) | (note or {}), request_id
    return KeyChange(after, request_id, before)


def _check_new_key(client: KmsClient, spec: str, origin: str, description: str, alias: str) -> None:
    if spec not in KEY_SPECS:
        raise ServiceError(f"Unknown key spec {spec!r}: choose {' or '.join(KEY_SPECS)}.")
    if origin not in ORIGINS:
        raise ServiceError(f"Unknown origin {origin!r}: choose {' or '.join(ORIGINS)}.")
    if len(description) > MAX_DESCRIPTION:
        raise ServiceError(f"A description has at most {MAX_DESCRIPTION} characters.")
    if alias and any(alias in names for names in client.aliases_by_key().values()):
        raise Conflict(f"The alias {alias} is already taken in {client.region}.")


def create_key(
    *, actor, connection, region: str, spec: str, origin: str = "Aliyun_KMS", description: str = "", alias: str = ""
) -> KeyChange:
    """A new symmetric CMK (EXTERNAL: without material, PendingImport until the BYOK import), with its alias."""
    client = KmsClient(connection, region)
    where = {"actor": actor, "connection": connection}
    try:
        check_key_region(connection, region)
        alias = check_alias(alias) if alias else ""
        _check_new_key(client, spec, origin, description, alias)
        key, request_id = client.create_key(spec=spec, origin=origin, description=description)
    except ServiceError as error:
        failure = {"outcome": AuditEvent.FAILURE, "error": error.message}
        record("key.create", target=alias, request_id=getattr(error, "request_id", ""), **failure, **where)
        raise
    created = _snapshot(key) | {"spec": key.spec, "origin": key.origin, "region": region, "description": description}
    record("key.create", target=key.key_id, after=created, request_id=request_id, **where)
    if not alias:
        return KeyChange(key, request_id)
    try:
        return add_alias(actor=actor, connection=connection, region=region, key_id=key.key_id, alias=alias)
    except ServiceError as error:
        raise ServiceError(f"Key {key.key_id} was created, but the alias was not added: {error.message}") from None


def add_alias(*, actor, connection, region: str, key_id: str, alias: str) -> KeyChange:
    def operation(client, key):
        return client.create_alias(key.key_id, check_alias(alias))

    return _change("key.alias.add", operation, actor=actor, connection=connection, region=region, key_id=key_id)


def remove_alias(*, actor, connection, region: str, key_id: str, alias: str) -> KeyChange:
    def operation(client, key):
        name = check_alias(alias)
        if name not in key.aliases:
            raise ServiceError(f"{name} is not an alias of key {key.key_id}.")
        return client.delete_alias(name)

    return _change("key.alias.remove", operation, actor=actor, connection=connection, region=region, key_id=key_id)


def _state_change(action: str, call: Callable, doc: str):
    """A change that is one KMS call on the key, audited as `action`."""

    def change(*, actor, connection, region: str, key_id: str) -> KeyChange:
        return _change(
            action,
            lambda client, key: call(client, key.key_id),
            actor=actor,
            connection=connection,
            region=region,
            key_id=key_id,
        )

    change.__doc__ = doc
    return change


enable_key = _state_change("key.enable", KmsClient.enable_key, "The key can seal and open data again.")


disable_key = _state_change(
    "key.disable",
    KmsClient.disable_key,
    "Objects sealed under the key stay unreadable (403 kms) until it is enabled again.",
)


def _check_pending_days(pending_days) -> int:
    low, high = PENDING_DAYS
    if not isinstance(pending_days, int) or isinstance(pending_days, bool) or not low <= pending_days <= high:
        raise ServiceError(f"The waiting period before deletion is {low} to {high} days.")
    return pending_days


def schedule_deletion(*, actor, connection, region: str, key_id: str, pending_days: int) -> KeyChange:
    """The key becomes PendingDeletion and is deleted after `pending_days`; until then the deletion can be cancelled."""

    def operation(client, key):
        return client.schedule_deletion(key.key_id, _check_pending_days(pending_days))

    note = {"pending_days": pending_days}
    return _change(
        "key.deletion.schedule", operation, actor=actor, connection=connection, region=region, key_id=key_id, note=note
    )


cancel_deletion = _state_change(
    "key.deletion.cancel", KmsClient.cancel_deletion, "The key leaves PendingDeletion: it will not be deleted."
)


rotate_key = _state_change(
    "key.rotate",
    KmsClient.rotate,
    "A new key version that becomes primary; data sealed under older versions still decrypts.",
)


# Bring your own key


def import_parameters(
    *, connection, region: str, key_id: str, wrapping_algorithm: str = byok.DEFAULT_WRAPPING_ALGORITHM
) -> ImportParameters:
    """The wrapping public key and import token for an EXTERNAL key (KMS keeps the token valid for 24 hours).

    Nothing changes in KMS but a new token, so this is not audited; the token is not a secret by itself (it only
    works with material wrapped for its public key) but it is kept out of logs all the same.
    """
    check_key_region(connection, region)
    if wrapping_algorithm not in byok.WRAPPING_HASHES:
        raise ServiceError(
            f"Unknown wrapping algorithm {wrapping_algorithm!r}: choose {', '.join(byok.WRAPPING_HASHES)}."
        )
    return KmsClient(connection, region).import_parameters(key_id, wrapping_algorithm, byok.WRAPPING_KEY_SPEC)


def _check_expiry(expires_unix) -> int:
    if not isinstance(expires_unix, int) or isinstance(expires_unix, bool) or expires_unix < 0:
        raise ServiceError("The material expiry is a Unix time in seconds, or 0 for never.")
    if expires_unix and expires_unix <= datetime.now(UTC).timestamp():
        raise ServiceError("The material expiry must be in the future (or 0 for never).")
    return expires_unix


def import_material(
    *,
    actor,
    connection,
    region: str,
    key_id: str,
    encrypted_key_material: str,
    import_token: str,
    expires_unix: int = 0,
) -> KeyChange:
    """Material wrapped elsewhere under the token's public key; the key becomes Enabled."""

    def operation(client, key):
        material = byok.check_wrapped_material(encrypted_key_material)
        if not (import_token or "").strip():
            raise ServiceError("The import token is missing: get the import parameters first.")
        return client.import_key_material(key.key_id, material, import_token.strip(), _check_expiry(expires_unix))

    return _change("key.import_material", operation, actor=actor, connection=connection, region=region, key_id=key_id)


def import_generated_material(
    *,
    actor,
    connection,
    region: str,
    key_id: str,
    public_key: str,
    import_token: str,
    wrapping_algorithm: str,
    expires_unix: int = 0,
) -> KeyChange:
    """For testing only: random material made and wrapped in this process, imported, and forgotten.

    The console never stores or shows it, but this process did see it, so it is not material you brought.
    """

    def operation(client, key):
        expires = _check_expiry(expires_unix)
        wrapped = byok.generate_wrapped_material(key.spec, public_key, wrapping_algorithm)
        return client.import_key_material(key.key_id, wrapped, import_token, expires)

    note = {"material": "generated by the console (testing only)"}
    return _change(
        "key.import_material", operation, actor=actor, connection=connection, region=region, key_id=key_id, note=note
    )


# RAM policy


def _bucket(connection, bucket_name: str) -> Bucket:
    bucket = Bucket.objects.filter(connection=connection, name=bucket_name).first()
    if bucket is None:
        raise NotFound(f"The console knows no bucket {bucket_name!r} of connection {connection.name}.")
    return bucket


def _policy_key(connection, region: str, key_id: str) -> tuple[str, tuple[str, ...]]:
    """The ARN the KMS statement names, with why when it is not one key's."""
    client = KmsClient(connection, region)
    if key_id:
        key = client.describe_key(key_id)
        sse_rules.check_key(key, region)
        return key.arn, ()
    return _default_key(client, region)


def _default_key(client: KmsClient, region: str) -> tuple[str, tuple[str, ...]]:
    """The ARN of alias/acs/oss, or of every key of the region (and why) while OSS has not created it."""
    default = client.default_oss_key()
    if default is not None:
        return default.arn, (f"The default key {DEFAULT_OSS_ALIAS} of {region} is {default.key_id}.",)
    wildcard = ram_policy.any_key_of_region(region)
    why = (
        f"{DEFAULT_OSS_ALIAS} does not exist in {region} yet: OSS creates it on the first SSE-KMS request with the "
        f"default key. Until then its ARN is unknown, so the policy names every key of the region ({wildcard}); "
        "generate the policy again after that first use to name the key itself."
    )
    return wildcard, (why,)


def ram_policy_for(*, connection, bucket_name: str, sse: sse_rules.Sse, purposes: Iterable[str]) -> RamPolicy:
    """The RAM policy for a bucket of the console's snapshot, its encryption and what the user will do."""
    purposes = ram_policy.chosen_purposes(purposes)  # refused before KMS is asked anything
    bucket = _bucket(connection, bucket_name)
    sse_rules.check_region(sse, bucket.region)
    key_arn, default_arn, notes = "", "", ()
    if sse.method == sse_rules.KMS:
        key_arn, notes = _policy_key(connection, bucket.region, sse.key_id)
        if not sse.key_id:
            default_arn = key_arn
        elif ram_policy.runs_jobs(purposes):
            default_arn, default_notes = _default_key(KmsClient(connection, bucket.region), bucket.region)
            notes += default_notes
    targets = ram_policy.Targets(bucket.name, bucket.region, sse, key_arn, default_arn)
    if ram_policy.CLIENT_SIDE in purposes and ram_policy.EVERYTHING not in purposes:
        notes += (CSE_KMS_NOTE,)
    return RamPolicy(ram_policy.ram_policy(targets, purposes), key_arn, notes)


CSE_KMS_NOTE = (
    "Client-side encryption under a master key held in KMS also needs kms:GenerateDataKey, kms:Encrypt and "
    "kms:Decrypt on that master key's CMK."
)
