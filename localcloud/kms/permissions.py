"""RAM enforcement for the KMS endpoint: every action is `kms:<Action>` on the resources it touches.

`ACTION_RESOURCES` is the one table (a test checks it covers api.ACTIONS): a key is named by its ARN
`acs:kms:<region>:<account>:key/<key id>` (an alias or ARN in the request is resolved to its key), a ciphertext by
the key that sealed it, an alias by `…:alias/<name>`; listing and creating keys act on `…:key`, listing aliases on
`…:alias`. A key with a policy (accesskeys.lookup_policy) is refused, as the POP gateway refuses a RAM user,
with 403 Forbidden.RAM unless its policy allows the action on every resource; keys without one are not checked.
"""

from __future__ import annotations

from collections.abc import Callable

from localcloud import accesskeys, keystore, ram
from localcloud.auth import Identity
from localcloud.kms.actions import ACCOUNT_ID, Call
from localcloud.kms.errors import KmsError

RAM_DENIED = "User not authorized to operate on the specified resource, or this API doesn't support RAM."


def _arn(call: Call, tail: str) -> str:
    return f"acs:kms:{call.region}:{ACCOUNT_ID}:{tail}"


def _key(name: str = "KeyId") -> Callable[[Call], list[str]]:
    def resources(call: Call) -> list[str]:
        reference = call.params.optional(name)
        if not reference or "\0" in reference:
            return []  # the action answers MissingParameter or that no key has such a name
        try:
            cmk = keystore.find_key(reference, call.region)
        except keystore.KeyStoreError:
            # No key to judge the call on: the action answers Forbidden.KeyNotFound / AliasNotFound, as KMS does,
            # so "is there a default key yet?" (DescribeKey alias/acs/oss) keeps its 404.
            return []
        return [f"acs:kms:{cmk.region}:{ACCOUNT_ID}:key/{cmk.key_id}"]

    return resources


def _sealing_key(call: Call) -> list[str]:
    """The key a CiphertextBlob names; a blob that is not one of ours is left to the action to refuse."""
    try:
        key_id, _ = keystore.blob_key_version(call.params.base64("CiphertextBlob"))
    except (KmsError, keystore.KeyStoreError):
        return []
    return [_arn(call, f"key/{key_id}")]


def _alias(call: Call) -> list[str]:
    name = call.params.optional("AliasName")
    return [_arn(call, name)] if name else []


def _fixed(tail: str) -> Callable[[Call], list[str]]:
    return lambda call: [_arn(call, tail)]


def _both(*parts: Callable[[Call], list[str]]) -> Callable[[Call], list[str]]:
    return lambda call: [arn for part in parts for arn in part(call)]


ACTION_RESOURCES: dict[str, Callable[[Call], list[str]]] = {
    "CreateKey": _fixed("key"),
    "ListKeys": _fixed("key"),
    "DescribeRegions": lambda call: ["*"],
    "ListAliases": _fixed("alias"),
    "DescribeKey": _key(),
    "UpdateKeyDescription": _key(),
    "EnableKey": _key(),
    "DisableKey": _key(),
    "ScheduleKeyDeletion": _key(),
    "CancelKeyDeletion": _key(),
    "UpdateRotationPolicy": _key(),
    "CreateAlias": _both(_alias, _key()),
    "UpdateAlias": _both(_alias, _key()),
    "DeleteAlias": _alias,
    "ListAliasesByKeyId": _key(),
    "GenerateDataKey": _key(),
    "GenerateDataKeyWithoutPlaintext": _key(),
    "Encrypt": _key(),
    "Decrypt": _sealing_key,
    "ReEncrypt": _both(_sealing_key, _key("DestinationKeyId")),
    "CreateKeyVersion": _key(),
    "ListKeyVersions": _key(),
    "TagResource": _key(),
    "UntagResource": _key(),
    "ListResourceTags": _key(),
    "GetParametersForImport": _key(),
    "ImportKeyMaterial": _key(),
    "DeleteKeyMaterial": _key(),
}


def denied(action: str, resource: str, decision: str) -> KmsError:
    reason = "an explicit Deny statement refuses it" if decision == ram.EXPLICIT_DENY else "no statement allows it"
    why = f"(RAM policy of the access key: {action} on {resource}: {reason}.)"
    return KmsError(403, "Forbidden.RAM", f"{RAM_DENIED} {why}")


def authorize(identity: Identity, name: str, call: Call) -> None:
    """Refuse unless the signer's policy allows `kms:<name>` on every resource the call touches."""
    policy = accesskeys.lookup_policy(identity.access_key_id)
    if policy is None:
        return
    action = f"kms:{name}"
    for resource in ACTION_RESOURCES[name](call):
        decision = policy.decide(action, resource)
        if decision != ram.ALLOWED:
            raise denied(action, resource, decision)
