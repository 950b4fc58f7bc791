"""Access keys localcloud accepts: the pair from the environment, and keys created by `localcloud_key`."""

import secrets
import threading
import time

from django.conf import settings

from localcloud import sealing
from localcloud.models import AccessKey

_PURPOSE = "access-key-secret"
# Every request looks its key up: a few seconds of memory spare the database and the unsealing each time.
# A key deactivated by another process is refused within this many seconds; in this process at once.
CACHE_SECONDS = 5.0
_cache: dict[str, tuple[float, str | None]] = {}
_cache_lock = threading.Lock()


def create_access_key(description: str = "") -> tuple[str, str]:
    """A new pair; the secret is returned this once and stored sealed."""
    access_key_id = "LTAI" + secrets.token_hex(10)
    secret = secrets.token_urlsafe(24)
    AccessKey.objects.create(
        access_key_id=access_key_id,
        sealed_secret=sealing.seal(_PURPOSE, secret.encode(), access_key_id),
        description=description,
    )
    return access_key_id, secret


def lookup_secret(access_key_id: str) -> str | None:
    """The secret of an active key, or None; used only to verify signatures."""
    if settings.LOCALCLOUD_ACCESS_KEY_ID and access_key_id == settings.LOCALCLOUD_ACCESS_KEY_ID:
        return settings.LOCALCLOUD_ACCESS_KEY_SECRET
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(access_key_id)
    if cached and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    row = AccessKey.objects.filter(access_key_id=access_key_id, is_active=True).first()
    secret = sealing.unseal(_PURPOSE, row.sealed_secret, access_key_id).decode() if row else None
    with _cache_lock:
        _cache[access_key_id] = (now, secret)
    return secret


def deactivate_access_key(access_key_id: str) -> bool:
    with _cache_lock:
        _cache.pop(access_key_id, None)
    return AccessKey.objects.filter(access_key_id=access_key_id).update(is_active=False) == 1
