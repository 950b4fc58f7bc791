"""Access keys localcloud accepts: the pair from the environment, and keys created by `localcloud_key`."""

import secrets

from django.conf import settings

from localcloud import sealing
from localcloud.models import AccessKey

_PURPOSE = "access-key-secret"


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
    row = AccessKey.objects.filter(access_key_id=access_key_id, is_active=True).first()
    if row is None:
        return None
    return sealing.unseal(_PURPOSE, row.sealed_secret, access_key_id).decode()


def deactivate_access_key(access_key_id: str) -> bool:
    return AccessKey.objects.filter(access_key_id=access_key_id).update(is_active=False) == 1
