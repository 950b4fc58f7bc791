"""The second factor: an authenticator app (TOTP) and its recovery codes."""

from base64 import b32encode
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.views.decorators.debug import sensitive_variables
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import ADMIN, OPERATOR, ROLES
from accounts.services.users import refuse_own_account, role_of
from audit.models import AuditEvent
from audit.services import record
from cloud.errors import Conflict, ServiceError

# Roles that must sign in with a second factor, by CONSOLE_REQUIRE_2FA.
TWO_FACTOR_ROLES = {"none": (), "admin": (ADMIN,), "operator": (OPERATOR, ADMIN), "all": ROLES}
RECOVERY_CODE_COUNT = 10


class WrongCode(ServiceError):
    """The code matches none of the user's devices; the message never repeats it."""


@dataclass(frozen=True)
class Authenticator:
    """What an authenticator app needs to be set up: the secret as base32 and as an otpauth:// URI."""

    secret: str
    uri: str


def has_two_factor(user) -> bool:
    return user_has_device(user, confirmed=True)


def two_factor_required(user) -> bool:
    if settings.CONSOLE_REQUIRE_2FA == "all":
        return True
    return role_of(user) in TWO_FACTOR_ROLES[settings.CONSOLE_REQUIRE_2FA]


def users_with_two_factor(users) -> set[int]:
    """Ids of those of `users` who sign in with a second factor."""
    return set(TOTPDevice.objects.filter(user__in=users, confirmed=True).values_list("user_id", flat=True))


def _authenticator(device: TOTPDevice) -> Authenticator:
    return Authenticator(secret=b32encode(device.bin_key).decode(), uri=device.config_url)


def begin_two_factor(*, user) -> Authenticator:
    """A new authenticator secret for the user, inactive until confirm_two_factor sees a code made from it."""
    if has_two_factor(user):
        raise Conflict("Two-factor sign-in is already on; turn it off first to set up another authenticator.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return _authenticator(device)


def pending_authenticator(*, user) -> Authenticator | None:
    """The secret begin_two_factor gave, while it waits for its first code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return _authenticator(device) if device else None


@sensitive_variables("code")
def confirm_two_factor(*, user, code: str) -> tuple[TOTPDevice, list[str]]:
    """Turn the pending authenticator on once a code from it is right; returns it and new recovery codes."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise ServiceError("There is no authenticator waiting for a code; start the set-up again.")
    if not device.verify_token(_normalized(code)):
        record(
            "user.two_factor_enrol",
            actor=user,
            target=user.username,
            outcome=AuditEvent.FAILURE,
            error="wrong code",
        )
        raise WrongCode("That code is not right. Check the device's clock and type the code it shows now.")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        recovery_codes = _new_recovery_codes(user)
        record("user.two_factor_enrol", actor=user, target=user.username, after={"two_factor": True})
    return device, recovery_codes


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _normalized(code: str) -> str:
    # Apps show codes in groups ("123 456") and recovery codes are made lower case.
    return "".join(code.split()).lower()


@sensitive_variables("code")
def matching_device(user, code: str):
    """The confirmed device that accepts the code (a recovery code is used up by it), or None."""
    code = _normalized(code)
    return next((device for device in devices_for_user(user, confirmed=True) if device.verify_token(code)), None)


@sensitive_variables("code")
def disable_two_factor(*, user, code: str) -> None:
    """Turn the user's own second factor off, proved by a code from it (or a recovery code)."""
    if two_factor_required(user):
        raise ServiceError("Your role must sign in with a second factor, so it cannot be turned off.")
    if matching_device(user, code) is None:
        record(
            "user.two_factor_disable", actor=user, target=user.username, outcome=AuditEvent.FAILURE, error="wrong code"
        )
        raise WrongCode("That code is not right; two-factor sign-in stays on.")
    _remove_second_factor("user.two_factor_disable", actor=user, user=user, had=True)


def reset_two_factor(*, actor, user):
    """Remove another user's second factor (a lost phone): they sign in with the password alone, or are asked to
    set up a new authenticator where their role requires one."""
    refuse_own_account(actor, user, action="reset the second factor of")
    _remove_second_factor("user.two_factor_reset", actor=actor, user=user, had=has_two_factor(user))
    return user


def _remove_second_factor(action: str, *, actor, user, had: bool) -> None:
    with transaction.atomic():
        _delete_devices(user)
        record(action, actor=actor, target=user.username, before={"two_factor": had}, after={"two_factor": False})


def _delete_devices(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
