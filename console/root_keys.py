"""The root key the stored secrets are sealed under (CONSOLE_ROOT_KEY): knowing at start whether a process holds
it, and rotating it.

A check value is sealed under the root key once, after the first migrate: a process whose root key does not open
it would fail on every stored secret, so it refuses to start instead (console/checks.py). A rotation re-seals
every stored secret under a new key, one row at a time, and the check value last.
"""

import socket
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.services import record
from cloud.errors import ServiceError
from console import secrets
from console.env import decode_key_b64, given_secret
from console.models import RootKeyCheck
from console.startup import StartRefused

CHECK_PURPOSE = "root key check"
CHECK_CONTEXT = "console-root-key-check"
CHECK_VALUE = "the console's root key"
# Stored secrets tried when there is no check value yet (an install from before it): enough that one row written
# by hand or tampered with does not decide, few enough to keep a start fast.
SECRETS_TRIED_PER_FIELD = 5
HOW_TO_FIX = (
    "Give every host the same CONSOLE_ROOT_KEY, the one the secrets were sealed under (docs/operations.md, "
    '"Secrets"). During a rotation, a host given the new key also needs the old one as CONSOLE_PREVIOUS_ROOT_KEY.'
)


# The check value


def wrong_root_key_message() -> str:
    """Why the root key of this process cannot be the stored secrets' key; "" when it can, or when there is nothing
    to tell by: no table yet (before migrate), or no database reachable (the process then fails on that, saying so)."""
    try:
        if RootKeyCheck._meta.db_table not in connection.introspection.table_names():
            return ""
        check = RootKeyCheck.objects.filter(pk=RootKeyCheck.ONLY).first()
        if check is None:
            return _stored_secrets_message()
    except DatabaseError:
        return ""
    if any(_check_opens(check.sealed_value, root_key) for root_key in secrets.known_root_keys()):
        return ""
    return (
        f"CONSOLE_ROOT_KEY is not the key the stored secrets were sealed under: the check value sealed on host "
        f"{check.sealed_on_host} at {check.sealed_at:%Y-%m-%d %H:%M:%S %Z} does not open with it. {HOW_TO_FIX}"
    )


def seal_check_value() -> None:
    """Seal the check value under the root key, unless it is there already. Refused when stored secrets exist
    and the root key opens none of them: the check value would then vouch for a wrong key."""
    if RootKeyCheck._meta.db_table not in connection.introspection.table_names():
        return
    if RootKeyCheck.objects.filter(pk=RootKeyCheck.ONLY).exists():
        return
    message = _stored_secrets_message()
    if message:
        raise StartRefused(message)
    RootKeyCheck.objects.get_or_create(pk=RootKeyCheck.ONLY, defaults=_check_value_under(None))


def _check_value_under(root_key: bytes | None) -> dict:
    return {
        "sealed_value": secrets.seal(CHECK_PURPOSE, CHECK_VALUE, CHECK_CONTEXT, root_key=root_key),
        "sealed_at": timezone.now(),
        "sealed_on_host": socket.gethostname(),
    }


def _check_opens(sealed_value: str, root_key: bytes) -> bool:
    return secrets.opens_under(CHECK_PURPOSE, sealed_value, CHECK_CONTEXT, root_key)


def _stored_secrets_message() -> str:
    tried = opened = 0
    for sealed in secrets.SEALED_FIELDS:
        for row in sealed.model.objects.exclude(**{sealed.field: ""})[:SECRETS_TRIED_PER_FIELD]:
            tried += 1
            token, context = getattr(row, sealed.field), sealed.context(row)
            opened += any(
                secrets.opens_under(sealed.purpose, token, context, root_key) for root_key in secrets.known_root_keys()
            )
    if tried and not opened:
        return (
            f"CONSOLE_ROOT_KEY is not the key the stored secrets were sealed under: none of the {tried} stored "
            f"secrets tried opens with it. {HOW_TO_FIX}"
        )
    return ""


def adopt_root_key() -> dict[str, int]:
    """After the key the stored secrets were sealed under is lost: seal the check value under the root key, so
    that processes holding it start again. Secrets under the lost key stay unreadable, and say so where they are
    used, until entered again; how many per kind is returned and audited."""
    unreadable = Counter()
    for sealed in secrets.SEALED_FIELDS:
        for row in sealed.model.objects.exclude(**{sealed.field: ""}):
            token, context = getattr(row, sealed.field), sealed.context(row)
            if not any(
                secrets.opens_under(sealed.purpose, token, context, root_key) for root_key in secrets.known_root_keys()
            ):
                unreadable[sealed.label] += 1
    counts = dict(sorted(unreadable.items()))
    with transaction.atomic():
        RootKeyCheck.objects.update_or_create(pk=RootKeyCheck.ONLY, defaults=_check_value_under(None))
        record("rootkey.adopt", target="CONSOLE_ROOT_KEY", after={"unreadable": counts})
    return counts


# Rotation

RESEALED, ALREADY, UNREADABLE, GONE = "resealed", "already under the new key", "unreadable", "gone"


@dataclass
class Rotation:
    """What a rotation did, per sealed field (app.Model.field): counts only, never a secret."""

    outcomes: dict[tuple[str, int], str] = field(default_factory=dict)

    def note(self, label: str, pk: int, outcome: str) -> None:
        # A row re-sealed in an earlier pass is found under the new key in the next: it stays counted as re-sealed.
        if not (outcome == ALREADY and self.outcomes.get((label, pk)) == RESEALED):
            self.outcomes[(label, pk)] = outcome

    def counts(self, outcome: str) -> dict[str, int]:
        return dict(sorted(Counter(label for (label, _), done in self.outcomes.items() if done == outcome).items()))

    def unreadable_rows(self) -> list[str]:
        return sorted(f"{label} of row {pk}" for (label, pk), done in self.outcomes.items() if done == UNREADABLE)

    def as_dict(self) -> dict:
        return {
            "resealed": self.counts(RESEALED),
            "already_under_new_key": self.counts(ALREADY),
            "unreadable": self.counts(UNREADABLE),
        }


def new_root_key(key_file: str | None) -> bytes:
    """The key a rotation seals under: read from `key_file` or CONSOLE_NEW_ROOT_KEY (a file's trailing newline
    ignored); with neither, CONSOLE_ROOT_KEY itself when CONSOLE_PREVIOUS_ROOT_KEY is given (the switch-over
    is then finished by re-sealing what is still under the previous key)."""
    try:
        given = given_secret("CONSOLE_NEW_ROOT_KEY")
        if given and key_file:
            raise ServiceError("Give the new key once: --new-key-file or CONSOLE_NEW_ROOT_KEY, not both.")
        if key_file:
            try:
                given = Path(key_file).read_text().rstrip("\r\n")
            except OSError as error:
                raise ServiceError(f"The new key file {key_file} cannot be read: {error.strerror}.") from None
            return decode_key_b64("the new key file", given)
        if given:
            return decode_key_b64("CONSOLE_NEW_ROOT_KEY", given)
    except StartRefused as refusal:
        raise ServiceError(str(refusal)) from None
    if settings.CONSOLE_PREVIOUS_ROOT_KEY:
        return settings.CONSOLE_ROOT_KEY
    raise ServiceError("Give the new key: --new-key-file PATH or CONSOLE_NEW_ROOT_KEY (base64 of 32 bytes).")


def rotate_root_key(*, new_key: bytes) -> Rotation:
    """Re-seal every stored secret and then the check value under `new_key`, and audit it.

    A secret opens under any known key (console.secrets.known_root_keys) and is re-sealed in a statement of its
    own, only if its row still holds what was read; one already under `new_key` is left as it is. So a rotation
    that was interrupted finishes when run again, and one running while hosts still write secrets under the old
    key loses none: passes repeat until one finds nothing left to re-seal. The check value goes last, so until
    then processes holding the old key still start.
    """
    old_keys = [root_key for root_key in secrets.known_root_keys() if root_key != new_key]
    if not old_keys:
        raise ServiceError(
            "The new key is CONSOLE_ROOT_KEY itself and no CONSOLE_PREVIOUS_ROOT_KEY is given: nothing to re-seal."
        )
    check = RootKeyCheck.objects.filter(pk=RootKeyCheck.ONLY).first()
    if check and not any(_check_opens(check.sealed_value, root_key) for root_key in [*old_keys, new_key]):
        # Run with a wrong key (its start check skipped), it would find every secret unreadable and then seal the
        # check value under the new key, locking out the hosts that hold the right one.
        raise ServiceError(wrong_root_key_message())
    rotation = Rotation()
    while _reseal_pass(rotation, new_key, old_keys):
        pass
    with transaction.atomic():
        RootKeyCheck.objects.update_or_create(pk=RootKeyCheck.ONLY, defaults=_check_value_under(new_key))
        record("rootkey.rotate", target="CONSOLE_ROOT_KEY", after=rotation.as_dict())
    return rotation


def _reseal_pass(rotation: Rotation, new_key: bytes, old_keys: list[bytes]) -> int:
    """Go over every stored secret once; how many it re-sealed."""
    resealed = 0
    for sealed in secrets.SEALED_FIELDS:
        pks = sealed.model.objects.exclude(**{sealed.field: ""}).order_by("pk").values_list("pk", flat=True)
        for pk in pks:
            outcome = _reseal_row(sealed, pk, new_key, old_keys)
            rotation.note(sealed.label, pk, outcome)
            resealed += outcome == RESEALED
    return resealed


def _reseal_row(sealed: secrets.SealedField, pk: int, new_key: bytes, old_keys: list[bytes]) -> str:
    rows = sealed.model.objects.filter(pk=pk)
    while True:
        row = rows.first()
        token = getattr(row, sealed.field) if row else ""
        if not token:
            return GONE
        context = sealed.context(row)
        if secrets.opens_under(sealed.purpose, token, context, new_key):
            return ALREADY
        try:
            secret = secrets.unseal(sealed.purpose, token, context, root_keys=old_keys)
        except secrets.SecretUnreadable:
            return UNREADABLE
        resealed = secrets.seal(sealed.purpose, secret, context, root_key=new_key)
        # Changed by another process since it was read: read it again.
        if rows.filter(**{sealed.field: token}).update(**{sealed.field: resealed}):
            return RESEALED
