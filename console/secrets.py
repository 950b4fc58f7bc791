"""The console's secrets at rest (AccessKey secrets, STS tokens, CSE private keys) under CONSOLE_ROOT_KEY.

AES-256-GCM with a sub-key per purpose (HKDF), and the row the secret belongs to as associated data, so
a sealed value copied into another row or another purpose does not open.
"""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from cloud.errors import ServiceError

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SecretUnreadable(ServiceError):
    """A sealed secret does not open under the current root key (changed key, or a tampered row).

    A ServiceError, so every page and endpoint that uses the connection says so instead of failing.
    """


def _key(purpose: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"console-secret:" + purpose.encode())
    return hkdf.derive(settings.CONSOLE_ROOT_KEY)


def seal(purpose: str, secret: str, context: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(purpose)).encrypt(nonce, secret.encode(), context.encode())
    return base64.b64encode(_VERSION + nonce + sealed).decode()


def unseal(purpose: str, token: str, context: str) -> str:
    try:
        raw = base64.b64decode(token.encode(), validate=True)
        if raw[:1] != _VERSION:
            raise ValueError("unknown version")
        nonce, sealed = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
        return AESGCM(_key(purpose)).decrypt(nonce, sealed, context.encode()).decode()
    except (InvalidTag, ValueError):
        raise SecretUnreadable(
            f"The stored {purpose} does not open under the current CONSOLE_ROOT_KEY: enter it again."
        ) from None
