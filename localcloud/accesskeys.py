"""Access keys localcloud accepts: the pair from the environment, and keys created by `localcloud_key`.

A key may carry a RAM policy (localcloud/ram.py): then it may do only what the policy allows. A key without one
is the account owner's and may do everything, as the environment's pair always does."""

import json
import secrets
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from localcloud import ram, sealing
from localcloud.models import AccessKey

_PURPOSE = "access-key-secret"
# Every request looks its key up: a few seconds of memory spare the database, the unsealing and the policy parsing
# each time. A key deactivated or given another policy by another process is affected within this many seconds;
# in this process at once.
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class _Entry:
    secret: str | None
    policy: ram.Policy | None


_cache: dict[str, tuple[float, _Entry]] = {}
_cache_lock = threading.Lock()


def create_access_key(description: str = "", policy: dict | None = None) -> tuple[str, str]:
    """A new pair, limited by `policy` when given; the secret is returned this once and stored sealed."""
    if policy is not None:
        ram.parse(policy)
    access_key_id = "LTAI" + secrets.token_hex(10)
    secret = secrets.token_urlsafe(24)
    AccessKey.objects.create(
        access_key_id=access_key_id,
        sealed_secret=sealing.seal(_PURPOSE, secret.encode(), access_key_id),
        description=description,
        policy=policy,
    )
    return access_key_id, secret


def _entry(access_key_id: str) -> _Entry:
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(access_key_id)
    if cached and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    row = AccessKey.objects.filter(access_key_id=access_key_id, is_active=True).first()
    if row is None:
        entry = _Entry(None, None)
    else:
        secret = sealing.unseal(_PURPOSE, row.sealed_secret, access_key_id).decode()
        entry = _Entry(secret, ram.parse(row.policy) if row.policy is not None else None)
    with _cache_lock:
        _cache[access_key_id] = (now, entry)
    return entry


def _is_environment_key(access_key_id: str) -> bool:
    return bool(settings.LOCALCLOUD_ACCESS_KEY_ID) and access_key_id == settings.LOCALCLOUD_ACCESS_KEY_ID


def lookup_secret(access_key_id: str) -> str | None:
    """The secret of an active key, or None; used only to verify signatures."""
    if _is_environment_key(access_key_id):
        return settings.LOCALCLOUD_ACCESS_KEY_SECRET
    return _entry(access_key_id).secret


def lookup_policy(access_key_id: str) -> ram.Policy | None:
    """The parsed RAM policy of a key, or None for a key that may do everything (the owner's)."""
    if _is_environment_key(access_key_id):
        return None
    return _entry(access_key_id).policy


def _forget(access_key_id: str) -> None:
    with _cache_lock:
        _cache.pop(access_key_id, None)


def set_policy(access_key_id: str, policy: dict | str | None) -> bool:
    """Limit a key to `policy` (a document or its JSON text), or lift the limit with None. False: no such key.
    Raises ram.PolicyError for a document localcloud cannot enforce, before anything changes."""
    if isinstance(policy, str):
        policy = _document(policy)
    if policy is not None:
        ram.parse(policy)
    _forget(access_key_id)
    return AccessKey.objects.filter(access_key_id=access_key_id).update(policy=policy) == 1


def _document(text: str) -> dict:
    ram.parse(text)  # refuses what is not JSON, with the parser's own message
    return json.loads(text)


def deactivate_access_key(access_key_id: str) -> bool:
    _forget(access_key_id)
    return AccessKey.objects.filter(access_key_id=access_key_id).update(is_active=False) == 1
