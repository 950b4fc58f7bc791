"""The console's secrets at rest (AccessKey secrets, STS tokens, CSE private keys) under CONSOLE_ROOT_KEY.

AES-256-GCM with a sub-key per purpose (HKDF), and the row the secret belongs to as associated data, so
a sealed value copied into another row or another purpose does not open.

Every model field holding a sealed secret is registered here (`register_sealed_field`), so that a root key
rotation (console/root_keys.py) re-seals them all.
"""

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

from cloud.errors import ServiceError

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SecretUnreadable(ServiceError):
    """A sealed secret does not open under the current root key (changed key, or a tampered row).

    A ServiceError, so every page and endpoint that uses the connection says so instead of failing.
    """


def known_root_keys() -> list[bytes]:
    """The keys a sealed secret may be under: the root key, and during a rotation the one it replaces."""
    previous = settings.CONSOLE_PREVIOUS_ROOT_KEY
    return [settings.CONSOLE_ROOT_KEY, *([previous] if previous else [])]


def _key(purpose: str, root_key: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"console-secret:" + purpose.encode())
    return hkdf.derive(root_key)


def seal(purpose: str, secret: str, context: str, *, root_key: bytes | None = None) -> str:
    """`secret` sealed under `root_key`, by default the root key."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(purpose, root_key or settings.CONSOLE_ROOT_KEY)).encrypt(
        nonce, secret.encode(), context.encode()
    )
    return base64.b64encode(_VERSION + nonce + sealed).decode()


def unseal(purpose: str, token: str, context: str, *, root_keys: list[bytes] | None = None) -> str:
    """The secret in `token`, opened under the first of `root_keys` (by default the known root keys) it opens under."""
    for root_key in known_root_keys() if root_keys is None else root_keys:
        try:
            return _open(purpose, token, context, root_key)
        except (InvalidTag, ValueError):
            continue
    raise SecretUnreadable(f"The stored {purpose} does not open under the current CONSOLE_ROOT_KEY: enter it again.")


def opens_under(purpose: str, token: str, context: str, root_key: bytes) -> bool:
    try:
        _open(purpose, token, context, root_key)
    except (InvalidTag, ValueError):
        return False
    return True


def _open(purpose: str, token: str, context: str, root_key: bytes) -> str:
    raw = base64.b64decode(token.encode(), validate=True)
    if raw[:1] != _VERSION:
        raise ValueError("unknown version")
    nonce, sealed = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
    return AESGCM(_key(purpose, root_key)).decrypt(nonce, sealed, context.encode()).decode()


@dataclass(frozen=True)
class SealedField:
    """A model field holding secrets sealed with `purpose`, each row's under the context `context(row)` gives;
    blank where the row has no such secret."""

    model: type[models.Model]
    field: str
    purpose: str
    context: Callable[[models.Model], str]

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field}"


SEALED_FIELDS: list[SealedField] = []


def register_sealed_field(model: type[models.Model], field: str, purpose: str, context) -> None:
    SEALED_FIELDS.append(SealedField(model, field, purpose, context))
