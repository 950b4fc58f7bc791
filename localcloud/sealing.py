"""Secrets at rest under localcloud's root key: access-key secrets, CMK material, SSE-OSS master keys.

Each kind of secret gets its own sub-key of the root key (HKDF purpose), and each sealed value is
bound to the row it belongs to (context), so a sealed value moved to another row does not open.
"""

from django.conf import settings

from localcloud import crypto


def _sealing_key(purpose: str) -> dict[int, bytes]:
    return {1: crypto.derive_key(settings.LOCALCLOUD_ROOT_KEY, purpose)}


def seal(purpose: str, secret: bytes, context: str) -> bytes:
    return crypto.wrap_key(_sealing_key(purpose), secret, context.encode())


def unseal(purpose: str, sealed: bytes, context: str) -> bytes:
    return crypto.unwrap_key(_sealing_key(purpose), bytes(sealed), context.encode())
