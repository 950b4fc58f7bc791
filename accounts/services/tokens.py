"""API tokens: issued once as a secret, stored as a digest, revoked at once."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import ApiToken
from audit.services import record
from cloud.errors import NotFound, ServiceError

User = get_user_model()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # the secret: shown to its holder once, stored nowhere


# The digest is looked up on every API request, so it is the only form of the key the database holds.
def _token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# A used token's last_used is written at most this often, not on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


@sensitive_variables("key")
def issue_api_token(*, actor, user, label: str = "") -> IssuedToken:
    """A new API token for `user`, valid for API_TOKEN_DAYS; each call makes another one."""
    if not user.is_active:
        raise ServiceError("Inactive users cannot hold an API token.")
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        # Scripts that ask for a token on every run would otherwise pile up dead rows.
        ApiToken.objects.filter(user=user, expires__lte=now).delete()
        token = ApiToken.objects.create(
            user=user,
            prefix=key[: ApiToken._meta.get_field("prefix").max_length],
            digest=_token_digest(key),
            label=label,
            created=now,
            expires=now + timedelta(days=settings.API_TOKEN_DAYS),
        )
        record("token.create", actor=actor, target=user.username, after=_token_facts(token))
    return IssuedToken(token=token, key=key)


def _token_facts(token: ApiToken) -> dict:
    return {"id": token.pk, "prefix": token.prefix, "label": token.label, "expires": token.expires.isoformat()}


@sensitive_variables("key")
def api_token_user(key: str) -> User | None:
    """The active user holding the unexpired token `key`, or None."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_token_digest(key), expires__gt=now, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    if token.last_used is None or token.last_used <= now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user


def manages_tokens_of_others(user) -> bool:
    """Admins see and revoke every user's tokens; everyone else only their own."""
    return user.has_perm("auth.change_user")


def visible_api_tokens(viewer, *, owner=None):
    """The tokens `viewer` may see, of `owner` when given; someone else's tokens are visible only to Admins."""
    tokens = ApiToken.objects.select_related("user")
    if not manages_tokens_of_others(viewer):
        tokens = tokens.filter(user=viewer)
    return tokens.filter(user=owner) if owner is not None else tokens


def visible_api_token(viewer, pk) -> ApiToken:
    token = visible_api_tokens(viewer).filter(pk=pk).first()
    if token is None:
        raise NotFound("No such API token.")
    return token


def revoke_api_token(*, actor, token: ApiToken) -> None:
    """End the token now; a client still sending it gets 401."""
    with transaction.atomic():
        facts = _token_facts(token)
        token.delete()
        record("token.revoke", actor=actor, target=token.user.username, before=facts)
