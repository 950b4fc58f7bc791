"""KMS actions on keys, aliases, data keys, versions and tags: one function each, taking a Call and
returning the response fields (api.py adds RequestId). Field names and types are those the
alibabacloud-kms20160120 models parse. BYOK actions are in byok.py.

A key belongs to one region: from another region it does not exist (Forbidden.KeyNotFound). Only an
Enabled key with material produces or opens data keys; other states answer Rejected.<State>.
"""

import base64
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from localcloud import keystore
from localcloud.kms import errors, lifecycle
from localcloud.kms.params import Params
from localcloud.models import Cmk, CmkAlias, CmkVersion

# localcloud serves one account: it appears in ARNs and as the Creator of keys users create.
ACCOUNT_ID = "1000000000000000"
SERVICE_CREATOR = "Oss"
KEY_USAGE = "ENCRYPT/DECRYPT"
PROTECTION_LEVEL = "SOFTWARE"
ALIAS_NAME = re.compile(r"^alias/[a-zA-Z0-9:/_-]{1,255}$")
RESERVED_ALIAS_PREFIX = "alias/acs/"
PENDING_WINDOW_DAYS = (7, 30)
ROTATION_SECONDS = (7 * 86400, 365 * 86400)
DEFAULT_ROTATION_SECONDS = 365 * 86400
MAX_DESCRIPTION = 8192
MAX_PLAINTEXT = 6 * 1024
MAX_CONTEXT = 8192
DATA_KEY_SPECS = {"AES_256": 32, "AES_128": 16}
MAX_TAGS = 20
RESERVED_TAG_PREFIXES = ("acs:", "aliyun")


@dataclass(frozen=True)
class Call:
    """One authenticated request: its parameters and the region it addresses."""

    params: Params
    region: str


# ---------------------------------------------------------------- shared pieces


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_arn(cmk: Cmk) -> str:
    return f"acs:kms:{cmk.region}:{ACCOUNT_ID}:key/{cmk.key_id}"


def _names_alias(reference: str) -> bool:
    tail = reference.split(":", 4)[-1] if reference.startswith("acs:kms:") else reference
    return tail.startswith("alias/")


def find_key(reference: str, region: str) -> Cmk:
    """A key of `region` by id, alias or ARN, as it stands now (deleted or expired material applied)."""
    if "\0" in reference:  # a blob's key id is not a checked parameter; PostgreSQL text cannot hold NUL
        raise errors.key_not_found(reference)
    try:
        cmk = keystore.find_key(reference, region)
    except keystore.KeyNotFound:
        raise (errors.alias_not_found if _names_alias(reference) else errors.key_not_found)(reference) from None
    if cmk.region != region:
        raise errors.key_not_found(reference)
    if lifecycle.refresh(cmk) is None:
        raise errors.key_not_found(reference)
    return cmk


def key_param(call: Call, name: str = "KeyId") -> Cmk:
    return find_key(call.params.required(name), call.region)


def require_state(cmk: Cmk, *allowed: str) -> None:
    if cmk.state not in allowed:
        raise errors.rejected(cmk.state)


def reject_pending_deletion(cmk: Cmk) -> None:
    if cmk.state == Cmk.State.PENDING_DELETION:
        raise errors.rejected(cmk.state)


def require_user_key(cmk: Cmk) -> None:
    """Service keys (alias/acs/oss) protect every SSE-KMS object without a key id: only the service manages them."""
    if cmk.is_service_default:
        raise errors.no_permission("the key is managed by an Alibaba Cloud service.")


def require_usable(cmk: Cmk, region: str) -> None:
    require_state(cmk, Cmk.State.ENABLED)
    try:
        keystore.ensure_usable(cmk, region)
    except keystore.KeyUnusable:  # Enabled but without material: only an EXTERNAL key between imports
        raise errors.rejected(Cmk.State.PENDING_IMPORT) from None


def _has_material(cmk: Cmk) -> bool:
    return cmk.versions.exclude(sealed_material=None).exists()


def _primary_version(cmk: Cmk) -> CmkVersion | None:
    return cmk.versions.order_by("-created_at", "-id").first()


def key_metadata(cmk: Cmk) -> dict:
    meta = {
        "KeyId": cmk.key_id,
        "Arn": key_arn(cmk),
        "KeyState": cmk.state,
        "KeySpec": cmk.spec,
        "KeyUsage": cmk.usage,
        "Origin": cmk.origin,
        "Description": cmk.description,
        "CreationDate": iso(cmk.created_at),
        "Creator": SERVICE_CREATOR if cmk.is_service_default else ACCOUNT_ID,
        "ProtectionLevel": PROTECTION_LEVEL,
        "AutomaticRotation": cmk.automatic_rotation,
        "DeletionProtection": "Disabled",
    }
    primary = _primary_version(cmk)
    if primary is not None:
        meta["PrimaryKeyVersion"] = primary.version_id
        meta["LastRotationDate"] = iso(primary.created_at)
        next_rotation = lifecycle.next_rotation(cmk, primary.created_at)
        if next_rotation is not None:
            meta["NextRotationDate"] = iso(next_rotation)
    if cmk.automatic_rotation == "Enabled":
        meta["RotationInterval"] = cmk.rotation_interval
    if cmk.state == Cmk.State.PENDING_DELETION and cmk.delete_date:
        meta["DeleteDate"] = iso(cmk.delete_date)
    if cmk.material_expire_time:
        meta["MaterialExpireTime"] = iso(cmk.material_expire_time)
    return meta


def _description(params: Params, *, required: bool) -> str:
    value = params.required("Description", allow_empty=True) if required else params.optional("Description", "")
    if len(value) > MAX_DESCRIPTION:
        raise errors.invalid("Description", f"It must be at most {MAX_DESCRIPTION} characters.")
    return value


def _rotation(params: Params, origin: str) -> tuple[str, str]:
    """(AutomaticRotation, RotationInterval) from EnableAutomaticRotation and RotationInterval."""
    seconds = params.interval_seconds("RotationInterval", *ROTATION_SECONDS)
    if not params.boolean("EnableAutomaticRotation"):
        return "Disabled", ""
    if origin != Cmk.Origin.KMS:
        raise errors.unsupported_origin(origin)
    return "Enabled", f"{seconds or DEFAULT_ROTATION_SECONDS}s"


# ---------------------------------------------------------------- keys


def create_key(call: Call) -> dict:
    p = call.params
    spec = p.choice("KeySpec", Cmk.Spec.values, default=Cmk.Spec.AES_256)
    origin = p.choice("Origin", Cmk.Origin.values, default=Cmk.Origin.KMS)
    p.choice("KeyUsage", (KEY_USAGE,))
    p.choice("ProtectionLevel", (PROTECTION_LEVEL,))
    description = _description(p, required=False)
    automatic_rotation, rotation_interval = _rotation(p, origin)
    tags = _tags(p, "Tags")
    with transaction.atomic():
        cmk = keystore.create_key(region=call.region, spec=spec, origin=origin, description=description)
        cmk.automatic_rotation, cmk.rotation_interval, cmk.tags = automatic_rotation, rotation_interval, tags
        cmk.save(update_fields=["automatic_rotation", "rotation_interval", "tags"])
    return {"KeyMetadata": key_metadata(cmk)}


def describe_key(call: Call) -> dict:
    return {"KeyMetadata": key_metadata(key_param(call))}


_FILTER_FIELDS = {"KeyState": "state", "KeySpec": "spec", "KeyUsage": "usage"}
_CREATOR_TYPES = {"User": False, "Service": True}


def _filtered(keys, filters: list | None):
    """ListKeys `Filters`: [{"Key": KeyState|KeySpec|KeyUsage|CreatorType|ProtectionLevel, "Values": [...]}]."""
    for item in filters or []:
        if not isinstance(item, dict) or not isinstance(item.get("Values"), list):
            raise errors.invalid("Filters", 'Each filter is {"Key": ..., "Values": [...]}.')
        name, values = item.get("Key"), [str(value) for value in item["Values"]]
        if name in _FILTER_FIELDS:
            keys = keys.filter(**{f"{_FILTER_FIELDS[name]}__in": values})
        elif name == "CreatorType" and set(values) <= set(_CREATOR_TYPES):
            keys = keys.filter(is_service_default__in=[_CREATOR_TYPES[value] for value in values])
        elif name == "ProtectionLevel":
            keys = keys if PROTECTION_LEVEL in values else keys.none()
        else:
            raise errors.invalid("Filters", f"Unsupported filter {str(name)[:64]!r} or values.")
    return keys


def _live_keys(region: str):
    """Keys of the region, without those past their deletion date that no sweep has removed yet."""
    keys = Cmk.objects.filter(region=region)
    return keys.exclude(state=Cmk.State.PENDING_DELETION, delete_date__lte=timezone.now())


def list_keys(call: Call) -> dict:
    page = call.params.page()
    keys = _filtered(_live_keys(call.region), call.params.json("Filters", list)).order_by("created_at", "id")
    entries = [{"KeyId": cmk.key_id, "KeyArn": key_arn(cmk)} for cmk in page.slice(keys)]
    return {"Keys": {"Key": entries}, **page.envelope(keys.count())}


def update_key_description(call: Call) -> dict:
    cmk = key_param(call)
    require_user_key(cmk)
    description = _description(call.params, required=True)
    reject_pending_deletion(cmk)
    cmk.description = description
    cmk.save(update_fields=["description"])
    return {}


def _transition(cmk: Cmk, allowed: tuple[str, ...], refusal, **fields) -> None:
    """Update the key only if it is still in an `allowed` state, so concurrent changes cannot interleave."""
    if Cmk.objects.filter(pk=cmk.pk, state__in=allowed).update(**fields):
        return
    state = Cmk.objects.filter(pk=cmk.pk).values_list("state", flat=True).first()
    raise errors.key_not_found(cmk.key_id) if state is None else refusal(state)


def _switch(call: Call, state: str) -> dict:
    """EnableKey/DisableKey: only between Enabled and Disabled (an idempotent repeat succeeds)."""
    cmk = key_param(call)
    require_user_key(cmk)
    _transition(cmk, (Cmk.State.ENABLED, Cmk.State.DISABLED), errors.state_modified_failed, state=state)
    return {}


def enable_key(call: Call) -> dict:
    return _switch(call, Cmk.State.ENABLED)


def disable_key(call: Call) -> dict:
    return _switch(call, Cmk.State.DISABLED)


def schedule_key_deletion(call: Call) -> dict:
    cmk = key_param(call)
    require_user_key(cmk)
    days = call.params.integer("PendingWindowInDays", *PENDING_WINDOW_DAYS)
    if days is None:
        raise errors.missing("PendingWindowInDays")
    movable = (Cmk.State.ENABLED, Cmk.State.DISABLED, Cmk.State.PENDING_IMPORT)
    delete_date = timezone.now() + timedelta(days=days)
    _transition(cmk, movable, errors.state_modified_failed, state=Cmk.State.PENDING_DELETION, delete_date=delete_date)
    return {}


def cancel_key_deletion(call: Call) -> dict:
    """Back to Enabled, or to PendingImport for an EXTERNAL key whose material is gone."""
    cmk = key_param(call)
    state = Cmk.State.ENABLED if _has_material(cmk) else Cmk.State.PENDING_IMPORT
    _transition(cmk, (Cmk.State.PENDING_DELETION,), errors.rejected, state=state, delete_date=None)
    return {}


def update_rotation_policy(call: Call) -> dict:
    cmk = key_param(call)
    require_user_key(cmk)
    if call.params.optional("EnableAutomaticRotation") is None:
        raise errors.missing("EnableAutomaticRotation")
    automatic_rotation, rotation_interval = _rotation(call.params, cmk.origin)
    reject_pending_deletion(cmk)
    cmk.automatic_rotation, cmk.rotation_interval = automatic_rotation, rotation_interval
    cmk.save(update_fields=["automatic_rotation", "rotation_interval"])
    return {}


def describe_regions(call: Call) -> dict:
    return {"Regions": {"Region": [{"RegionId": region} for region in keystore.regions()]}}


# ---------------------------------------------------------------- aliases


def _alias_name(params: Params) -> str:
    name = params.required("AliasName")
    if not ALIAS_NAME.match(name):
        raise errors.invalid("AliasName", "It is alias/ and 1 to 255 letters, digits, '_', '-', '/' or ':'.")
    if name.startswith(RESERVED_ALIAS_PREFIX):
        raise errors.invalid("AliasName", "The prefix alias/acs/ is reserved for Alibaba Cloud services.")
    return name


def _existing_alias(call: Call) -> CmkAlias:
    name = _alias_name(call.params)
    alias = CmkAlias.objects.filter(region=call.region, name=name).first()
    if alias is None:
        raise errors.alias_not_found(name)
    return alias


def _alias_entry(alias: CmkAlias) -> dict:
    arn = f"acs:kms:{alias.region}:{ACCOUNT_ID}:{alias.name}"
    return {"AliasName": alias.name, "AliasArn": arn, "KeyId": alias.cmk.key_id}


def create_alias(call: Call) -> dict:
    name = _alias_name(call.params)
    cmk = key_param(call)
    reject_pending_deletion(cmk)
    try:
        with transaction.atomic():  # the IntegrityError of a taken name must not poison an outer transaction
            CmkAlias.objects.create(region=call.region, name=name, cmk=cmk)
    except IntegrityError:
        raise errors.KmsError(400, "AliasAlreadyExists", f"AliasName Already Exists: {name}") from None
    return {}


def update_alias(call: Call) -> dict:
    alias = _existing_alias(call)
    cmk = key_param(call)
    reject_pending_deletion(cmk)
    alias.cmk = cmk
    alias.save(update_fields=["cmk"])
    return {}


def delete_alias(call: Call) -> dict:
    _existing_alias(call).delete()
    return {}


def _alias_page(call: Call, aliases) -> dict:
    page = call.params.page()
    aliases = aliases.select_related("cmk").order_by("name")
    return {"Aliases": {"Alias": [_alias_entry(a) for a in page.slice(aliases)]}, **page.envelope(aliases.count())}


def list_aliases(call: Call) -> dict:
    aliases = CmkAlias.objects.filter(region=call.region, cmk__in=_live_keys(call.region))
    return _alias_page(call, aliases)


def list_aliases_by_key_id(call: Call) -> dict:
    return _alias_page(call, key_param(call).aliases.all())


# ---------------------------------------------------------------- data keys


def _context(params: Params, name: str = "EncryptionContext") -> bytes:
    """The encryption context as canonical JSON, so key order and spacing do not matter; {} is none."""
    if len(params.optional(name, "")) > MAX_CONTEXT:
        raise errors.invalid(name, f"It must be at most {MAX_CONTEXT} characters.")
    context = params.json(name, dict)
    if not context:
        return b""
    return json.dumps(context, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _reject_recipient(params: Params) -> None:
    if params.optional("Recipient"):
        raise errors.invalid("Recipient", "localcloud has no confidential-computing recipients.")


def _usable_key(call: Call, name: str = "KeyId") -> Cmk:
    cmk = key_param(call, name)
    require_usable(cmk, call.region)
    return cmk


def _dry_run(params: Params) -> None:
    if params.boolean("DryRun"):
        raise errors.dry_run()


def _new_data_key(call: Call) -> keystore.DataKeyPair:
    p = call.params
    size = p.integer("NumberOfBytes", 1, 1024)  # wins over KeySpec, as in KMS
    spec = p.choice("KeySpec", tuple(DATA_KEY_SPECS), default="AES_256")
    context = _context(p)
    cmk = _usable_key(call)
    _dry_run(p)
    return keystore.generate_data_key(cmk, region=call.region, size=size or DATA_KEY_SPECS[spec], context=context)


def generate_data_key(call: Call) -> dict:
    _reject_recipient(call.params)
    pair = _new_data_key(call)
    return {"KeyId": pair.key_id, "KeyVersionId": pair.version_id, "CiphertextBlob": b64(pair.ciphertext_blob),
            "Plaintext": b64(pair.plaintext)}  # fmt: skip


def generate_data_key_without_plaintext(call: Call) -> dict:
    pair = _new_data_key(call)
    return {"KeyId": pair.key_id, "KeyVersionId": pair.version_id, "CiphertextBlob": b64(pair.ciphertext_blob)}


def _sealed(cmk: Cmk, plaintext: bytes, call: Call, context: bytes) -> dict:
    blob = keystore.encrypt(cmk, plaintext, region=call.region, context=context)
    _, version_id = keystore.blob_key_version(blob)
    return {"KeyId": cmk.key_id, "KeyVersionId": version_id, "CiphertextBlob": b64(blob)}


def encrypt(call: Call) -> dict:
    p = call.params
    plaintext = p.base64("Plaintext")
    if len(plaintext) > MAX_PLAINTEXT:
        raise errors.invalid("Plaintext", f"It must be at most {MAX_PLAINTEXT} bytes once decoded.")
    context = _context(p)
    cmk = _usable_key(call)
    _dry_run(p)
    return _sealed(cmk, plaintext, call, context)


def _open(call: Call, context_name: str) -> tuple[bytes, Cmk, str]:
    """The plaintext in CiphertextBlob, the key that sealed it (usable here and now) and its version."""
    blob = call.params.base64("CiphertextBlob")
    context = _context(call.params, context_name)
    try:
        key_id, version_id = keystore.blob_key_version(blob)
    except keystore.InvalidCiphertext as error:
        raise errors.invalid_ciphertext(str(error)) from None
    cmk = find_key(key_id, call.region)
    require_usable(cmk, call.region)
    plaintext, _ = keystore.decrypt(blob, region=call.region, context=context)
    return plaintext, cmk, version_id


def decrypt(call: Call) -> dict:
    _reject_recipient(call.params)
    plaintext, cmk, version_id = _open(call, "EncryptionContext")
    _dry_run(call.params)
    return {"KeyId": cmk.key_id, "KeyVersionId": version_id, "Plaintext": b64(plaintext)}


def re_encrypt(call: Call) -> dict:
    p = call.params
    for name in ("SourceKeyId", "SourceKeyVersionId", "SourceEncryptionAlgorithm"):
        if p.optional(name):
            raise errors.invalid(name, "It applies to asymmetric ciphertexts, which localcloud does not produce.")
    destination = _usable_key(call, "DestinationKeyId")
    context = _context(p, "DestinationEncryptionContext")
    plaintext, _, _ = _open(call, "SourceEncryptionContext")
    _dry_run(p)
    return _sealed(destination, plaintext, call, context)


# ---------------------------------------------------------------- versions


def _version_entry(cmk: Cmk, version: CmkVersion) -> dict:
    return {"KeyId": cmk.key_id, "KeyVersionId": version.version_id, "CreationDate": iso(version.created_at)}


def create_key_version(call: Call) -> dict:
    """Manual rotation: new data keys use the new version; blobs of older versions still open."""
    cmk = key_param(call)
    require_user_key(cmk)
    if cmk.origin != Cmk.Origin.KMS:
        raise errors.unsupported_origin(cmk.origin)
    require_state(cmk, Cmk.State.ENABLED)
    version = keystore.add_version(cmk, os.urandom(keystore.MATERIAL_SIZES[cmk.spec]))
    return {"KeyVersion": _version_entry(cmk, version)}


def list_key_versions(call: Call) -> dict:
    cmk = key_param(call)
    page = call.params.page()
    versions = cmk.versions.order_by("created_at", "id")
    entries = [_version_entry(cmk, version) for version in page.slice(versions)]
    return {"KeyVersions": {"KeyVersion": entries}, **page.envelope(versions.count())}


# ---------------------------------------------------------------- tags


def _tag_key_valid(key) -> bool:
    return isinstance(key, str) and 1 <= len(key) <= 128 and not key.lower().startswith(RESERVED_TAG_PREFIXES)


def _tags(params: Params, name: str) -> dict[str, str]:
    """`[{"TagKey": "k", "TagValue": "v"}, ...]` as a dict; keys starting acs: or aliyun are reserved."""
    tags = {}
    for item in params.json(name, list) or []:
        key = item.get("TagKey") if isinstance(item, dict) else None
        value = item.get("TagValue", "") if isinstance(item, dict) else None
        if not _tag_key_valid(key) or not isinstance(value, str) or len(value) > 128:
            raise errors.invalid(name, "Tags are TagKey (1-128 characters, not acs: or aliyun) and TagValue (0-128).")
        tags[key] = value
    return tags


def tag_resource(call: Call) -> dict:
    cmk = key_param(call)
    require_user_key(cmk)
    call.params.required("Tags")
    tags = {**cmk.tags, **_tags(call.params, "Tags")}
    if len(tags) > MAX_TAGS:
        raise errors.invalid("Tags", f"A key carries at most {MAX_TAGS} tags.")
    cmk.tags = tags
    cmk.save(update_fields=["tags"])
    return {}


def untag_resource(call: Call) -> dict:
    cmk = key_param(call)
    require_user_key(cmk)
    call.params.required("TagKeys")
    names = call.params.json("TagKeys", list)
    if not all(isinstance(name, str) for name in names):
        raise errors.invalid("TagKeys", "It is a JSON array of tag keys.")
    cmk.tags = {key: value for key, value in cmk.tags.items() if key not in names}
    cmk.save(update_fields=["tags"])
    return {}


def list_resource_tags(call: Call) -> dict:
    cmk = key_param(call)
    entries = [{"KeyId": cmk.key_id, "TagKey": key, "TagValue": value} for key, value in sorted(cmk.tags.items())]
    return {"Tags": {"Tag": entries}}


ACTIONS = {
    "CreateKey": create_key,
    "DescribeKey": describe_key,
    "ListKeys": list_keys,
    "UpdateKeyDescription": update_key_description,
    "EnableKey": enable_key,
    "DisableKey": disable_key,
    "ScheduleKeyDeletion": schedule_key_deletion,
    "CancelKeyDeletion": cancel_key_deletion,
    "UpdateRotationPolicy": update_rotation_policy,
    "DescribeRegions": describe_regions,
    "CreateAlias": create_alias,
    "UpdateAlias": update_alias,
    "DeleteAlias": delete_alias,
    "ListAliases": list_aliases,
    "ListAliasesByKeyId": list_aliases_by_key_id,
    "GenerateDataKey": generate_data_key,
    "GenerateDataKeyWithoutPlaintext": generate_data_key_without_plaintext,
    "Encrypt": encrypt,
    "Decrypt": decrypt,
    "ReEncrypt": re_encrypt,
    "CreateKeyVersion": create_key_version,
    "ListKeyVersions": list_key_versions,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListResourceTags": list_resource_tags,
}
