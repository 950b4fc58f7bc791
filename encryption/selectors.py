"""What the encryption forms offer and how keys are named, read from KMS for a connection and region."""

from __future__ import annotations

from dataclasses import dataclass, field

from cloud.errors import CloudError
from cloud.kms import DEFAULT_OSS_ALIAS, KeyInfo, KmsClient

ENCRYPTION_KEY_SPECS = ("Aliyun_AES_256", "Aliyun_SM4")


@dataclass
class KeyChoices:
    """The key chooser: `alias/acs/oss(CMK ID)` first (value ""), then the Enabled keys as `alias/<name>(<CMK ID>)`.

    `error` says why the list is short when KMS could not be asked; the default key is offered anyway.
    """

    choices: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""


def default_key_label(default: KeyInfo | None) -> str:
    return f"{DEFAULT_OSS_ALIAS}({default.key_id})" if default else f"{DEFAULT_OSS_ALIAS} (OSS creates it on first use)"


def _usable_for_encryption(key: KeyInfo) -> bool:
    return (
        key.state == "Enabled"
        and not key.is_default_oss_key
        and key.usage in ("", "ENCRYPT/DECRYPT")
        and key.spec in ENCRYPTION_KEY_SPECS
    )


def key_choices(connection, region: str) -> KeyChoices:
    if not region:
        return KeyChoices([("", default_key_label(None))])
    try:
        keys = KmsClient(connection, region).list_keys()
    except CloudError as error:
        return KeyChoices([("", default_key_label(None))], error.message)
    default = next((key for key in keys if key.is_default_oss_key), None)
    usable = sorted((key for key in keys if _usable_for_encryption(key)), key=lambda key: key.display_name)
    return KeyChoices([("", default_key_label(default))] + [(key.key_id, key.display_name) for key in usable])


def key_names(connection, region: str) -> dict[str, str]:
    """Key id -> `alias/<name>(<CMK ID>)` for the region, for labels; empty when KMS cannot be asked."""
    if not region:
        return {}
    try:
        client = KmsClient(connection, region)
        aliases = client.aliases_by_key()
    except CloudError:
        return {}
    return {key_id: f"{names[0]}({key_id})" for key_id, names in aliases.items()}


KEY_STATES = {"PendingDeletion": "pending deletion", "PendingImport": "pending import"}


def selection_key_label(key: KeyInfo) -> str:
    """`alias/<name>(<CMK ID>)` as the key chooser names keys, with the state of a key that is not Enabled."""
    if key.state == "Enabled":
        return key.display_name
    return f"{key.display_name}, {KEY_STATES.get(key.state, key.state.lower())}"


def selection_keys(connection, region: str) -> KeyChoices:
    """The keys objects may be encrypted under, to select them by: alias/acs/oss first, then every symmetric key of
    the region whatever its state (objects stay under a key that was disabled), marked with its state."""
    if not region:
        return KeyChoices([], "The bucket's region is not known, so its KMS keys cannot be listed.")
    try:
        keys = KmsClient(connection, region).list_keys()
    except CloudError as error:
        return KeyChoices([], f"The KMS keys of {region} could not be listed: {error.message}")
    default = [key for key in keys if key.is_default_oss_key]
    named = sorted(
        (
            key
            for key in keys
            if not key.is_default_oss_key and key.spec in ENCRYPTION_KEY_SPECS and key.usage in ("", "ENCRYPT/DECRYPT")
        ),
        key=lambda key: key.display_name,
    )
    return KeyChoices([(key.key_id, selection_key_label(key)) for key in default + named])
