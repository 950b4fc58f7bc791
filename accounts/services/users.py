"""Users, roles, API tokens, sign-in and the second factor, shared by the login page, the Users and API tokens
pages, the API and the commands."""

import hashlib
import secrets
import unicodedata
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiToken, SignInFailures
from accounts.roles import ADMIN, OPERATOR, ROLES
from audit.models import AuditEvent
from audit.services import record
from cloud.errors import Conflict, NotFound, ServiceError

User = get_user_model()


@dataclass(frozen=True)
class CreatedUser:
    user: User
    generated_password: str | None


def role_of(user) -> str | None:
    """The user's role name; superusers count as Admin."""
    if user.is_superuser:
        return ADMIN
    names = {group.name for group in user.groups.all()}
    return next((role for role in reversed(ROLES) if role in names), None)


def _role_group(role: str) -> Group:
    name = role.capitalize()
    if name not in ROLES:
        raise ServiceError(f"Unknown role {role!r}; choose one of {', '.join(r.lower() for r in ROLES)}.")
    return Group.objects.get(name=name)


def _validate_password(password: str, user) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ServiceError(" ".join(error.messages)) from None


def _validate_username(username: str) -> None:
    """Django's own rules (letters, digits and @.+-_, at most 150 characters): a name shows up in pages, logs
    and audit events, so nothing that could pass for markup or a control character gets in."""
    if not username:
        raise ServiceError("A username is required.")
    try:
        User._meta.get_field(User.USERNAME_FIELD).run_validators(username)
    except ValidationError as error:
        raise ServiceError(" ".join(error.messages)) from None


def create_user(*, actor, username: str, role: str, password: str | None = None, email: str = "") -> CreatedUser:
    """Create an active user holding one role; a password is generated when none is given."""
    username = username.strip()
    _validate_username(username)
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"A user named {username!r} already exists.")
    group = _role_group(role)
    generated = None
    user = User(username=username, email=email)
    if password is None:
        generated = password = secrets.token_urlsafe(18)
    _validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save()
        user.groups.set([group])
        record("user.create", actor=actor, target=user.username, after={"role": group.name, "email": email})
    return CreatedUser(user=user, generated_password=generated)


def _ensure_not_self_lockout(actor, user, *, action: str) -> None:
    if actor is not None and actor.pk == user.pk:
        raise ServiceError(f"You cannot {action} your own account; ask another Admin.")


def set_role(*, actor, user, role: str):
    """Give the user exactly one role."""
    group = _role_group(role)
    if group.name != ADMIN:
        _ensure_not_self_lockout(actor, user, action="remove the Admin role from")
    before = role_of(user)
    with transaction.atomic():
        user.groups.set([group])
        record("user.role", actor=actor, target=user.username, before={"role": before}, after={"role": group.name})
        if user.is_superuser and group.name != ADMIN:
            user.is_superuser = False
            user.save(update_fields=["is_superuser"])
    return user


def deactivate_user(*, actor, user):
    """Block the user's logins and API tokens; nothing of theirs is deleted."""
    _ensure_not_self_lockout(actor, user, action="deactivate")
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        ApiToken.objects.filter(user=user).delete()
        record("user.deactivate", actor=actor, target=user.username, before={"active": True}, after={"active": False})
    return user


def activate_user(*, actor, user):
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        record("user.activate", actor=actor, target=user.username, before={"active": False}, after={"active": True})
    return user


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


def ensure_admin(*, username: str, password: str | None) -> CreatedUser | None:
    """The bootstrap admin: created when missing; its password follows `password` when one is given."""
    user = User.objects.filter(username=username).first()
    if user is None:
        created = create_user(actor=None, username=username, role=ADMIN, password=password)
        created.user.is_superuser = created.user.is_staff = True
        created.user.save(update_fields=["is_superuser", "is_staff"])
        return created
    if password is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
    return None


class SignInLocked(ServiceError):
    """Sign-in refused without looking at the password: too many recent failures for the name or the address."""

    status_code = 403


def client_address(request) -> str:
    """Who is asking, by the rule the API throttles use (settings TRUSTED_PROXY_COUNT)."""
    return BaseThrottle().get_ident(request) or ""


def _account_key(username: str) -> str:
    # Names are unique whatever their case (create_user), so "Ada" and "ada" share one count.
    return unicodedata.normalize("NFKC", username).casefold()[:150]


def _until(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%H:%M} ({local.tzname()})"


def _refusal(lock: SignInFailures) -> SignInLocked:
    if lock.kind == SignInFailures.ACCOUNT:
        return SignInLocked(
            f"This account is locked after {settings.LOGIN_FAILURE_LIMIT} failed sign-ins until "
            f"{_until(lock.locked_until)}. Try again then, or ask an Admin to unlock it."
        )
    return SignInLocked(
        f"Too many failed sign-ins from your address: signing in from it is locked until {_until(lock.locked_until)}."
    )


def _locks_of(account_key: str, address: str):
    return SignInFailures.objects.filter(
        Q(kind=SignInFailures.ACCOUNT, key=account_key) | Q(kind=SignInFailures.CLIENT, key=address)
    )


def _count_failure(kind: str, key: str, now: datetime) -> SignInFailures | None:
    """Add one failure; the row when this one starts a lockout."""
    limit = settings.LOGIN_FAILURE_LIMIT if kind == SignInFailures.ACCOUNT else settings.LOGIN_CLIENT_FAILURE_LIMIT
    window = timedelta(minutes=settings.LOCKOUT_MINUTES)
    with transaction.atomic():
        count, _ = SignInFailures.objects.select_for_update().get_or_create(
            kind=kind, key=key, defaults={"first_failure_at": now}
        )
        if count.first_failure_at <= now - window or (count.locked_until and count.locked_until <= now):
            count.failures, count.first_failure_at, count.locked_until = 0, now, None
        count.failures += 1
        starts_lockout = count.locked_until is None and count.failures >= limit
        if starts_lockout:
            count.locked_until = now + window
        count.save()
    return count if starts_lockout else None


@sensitive_variables("password")
def sign_in(request, *, username: str, password: str) -> User | None:
    """The one gate of the login page and the token endpoint: the user, or None for wrong credentials.

    Raises SignInLocked while the name or the client address is locked out, then without checking the password,
    so guesses during a lockout learn nothing. The failure that reaches a limit starts the lockout, is audited
    as user.lockout or client.lockout, and is answered as locked already. For a user with a second factor the
    login page goes on to verify_sign_in_code.
    """
    now = timezone.now()
    account_key, address = _account_key(username), client_address(request)
    _refuse_while_locked(account_key, address, now)
    user = authenticate(request, username=username, password=password)
    if user is not None:
        # With a second factor the count is forgotten only after the code: a known password must not wipe out
        # the wrong codes tried with it.
        if not has_two_factor(user):
            SignInFailures.objects.filter(kind=SignInFailures.ACCOUNT, key=account_key).delete()
        return user
    _count_failed_sign_in(username, account_key, address, now)
    return None


def _refuse_while_locked(account_key: str, address: str, now: datetime) -> None:
    lock = _locks_of(account_key, address).filter(locked_until__gt=now).order_by("-locked_until").first()
    if lock is not None:
        raise _refusal(lock)


def _count_failed_sign_in(username: str, account_key: str, address: str, now: datetime) -> None:
    """One more failure for the name and the address; raises SignInLocked when it starts a lockout."""
    lockouts_started = []
    for kind, key, action, target in (
        (SignInFailures.ACCOUNT, account_key, "user.lockout", username[:150]),
        (SignInFailures.CLIENT, address, "client.lockout", address),
    ):
        started = _count_failure(kind, key, now)
        if started is not None:
            after = {"failures": started.failures, "locked_until": started.locked_until.isoformat(), "client": address}
            record(action, target=target, after=after)
            lockouts_started.append(started)
    _forget_stale_counts(now)
    if lockouts_started:
        raise _refusal(lockouts_started[0])


def _forget_stale_counts(now: datetime) -> None:
    # Every name and address ever tried gets a row; those whose window and lockout are over would only restart
    # from zero, so dropping them keeps the table to the last LOCKOUT_MINUTES of guessing.
    window_start = now - timedelta(minutes=settings.LOCKOUT_MINUTES)
    SignInFailures.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now), first_failure_at__lte=window_start
    ).delete()


def account_lockouts(users) -> dict[int, datetime]:
    """User id -> end of the account lockout, for those of `users` locked now."""
    ids_by_key = {_account_key(user.get_username()): user.pk for user in users}
    locked = SignInFailures.objects.filter(
        kind=SignInFailures.ACCOUNT, key__in=ids_by_key, locked_until__gt=timezone.now()
    ).values_list("key", "locked_until")
    return {ids_by_key[key]: until for key, until in locked}


def unlock_user(*, actor, user):
    """End the user's account lockout and forget their failed sign-ins; a locked client address stays locked."""
    until = account_lockouts([user]).get(user.pk)
    with transaction.atomic():
        SignInFailures.objects.filter(kind=SignInFailures.ACCOUNT, key=_account_key(user.get_username())).delete()
        record(
            "user.unlock",
            actor=actor,
            target=user.username,
            before={"locked_until": until.isoformat() if until else None},
            after={"locked_until": None},
        )
    return user


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
def _matching_device(user, code: str):
    """The confirmed device that accepts the code (a recovery code is used up by it), or None."""
    code = _normalized(code)
    return next((device for device in devices_for_user(user, confirmed=True) if device.verify_token(code)), None)


@sensitive_variables("code")
def verify_sign_in_code(request, *, user, code: str):
    """The second step of signing in: the device that accepted the code.

    A wrong code counts toward the same lockouts as a wrong password (and raises SignInLocked when it starts
    one); while the account or the address is locked no code is checked.
    """
    now = timezone.now()
    account_key, address = _account_key(user.get_username()), client_address(request)
    _refuse_while_locked(account_key, address, now)
    device = _matching_device(user, code)
    if device is None:
        record("user.two_factor_code", actor=user, target=user.username, outcome=AuditEvent.FAILURE, error="wrong code")
        _count_failed_sign_in(user.get_username(), account_key, address, now)
        raise WrongCode("That code is not right. Type the code your authenticator app shows now, or a recovery code.")
    SignInFailures.objects.filter(kind=SignInFailures.ACCOUNT, key=account_key).delete()
    if isinstance(device, StaticDevice):
        left = device.token_set.count()
        record("user.two_factor_recovery_code", actor=user, target=user.username, after={"recovery_codes_left": left})
    return device


class SecondFactorNeeded(ServiceError):
    """The password was right, but the account signs in with a second factor that the request did not prove."""

    status_code = 401


@sensitive_variables("code")
def check_second_factor_for_token(request, *, user, code: str) -> None:
    """An API token is a sign-in that lasts: it asks for the same second factor as the login page, so a password
    alone never yields one for an account that has (or whose role requires) two-factor sign-in."""
    if has_two_factor(user):
        if not code:
            raise SecondFactorNeeded("This account signs in with a second factor: send its current code as `code`.")
        try:
            verify_sign_in_code(request, user=user, code=code)
        except WrongCode as wrong:
            raise SecondFactorNeeded(wrong.message) from None
    elif two_factor_required(user):
        raise SecondFactorNeeded("Your role signs in with a second factor: set it up in the console first.")


@sensitive_variables("code")
def disable_two_factor(*, user, code: str) -> None:
    """Turn the user's own second factor off, proved by a code from it (or a recovery code)."""
    if two_factor_required(user):
        raise ServiceError("Your role must sign in with a second factor, so it cannot be turned off.")
    if _matching_device(user, code) is None:
        record(
            "user.two_factor_disable", actor=user, target=user.username, outcome=AuditEvent.FAILURE, error="wrong code"
        )
        raise WrongCode("That code is not right; two-factor sign-in stays on.")
    _remove_second_factor("user.two_factor_disable", actor=user, user=user, had=True)


def reset_two_factor(*, actor, user):
    """Remove another user's second factor (a lost phone): they sign in with the password alone, or are asked to
    set up a new authenticator where their role requires one."""
    _ensure_not_self_lockout(actor, user, action="reset the second factor of")
    _remove_second_factor("user.two_factor_reset", actor=actor, user=user, had=has_two_factor(user))
    return user


def _remove_second_factor(action: str, *, actor, user, had: bool) -> None:
    with transaction.atomic():
        _delete_devices(user)
        record(action, actor=actor, target=user.username, before={"two_factor": had}, after={"two_factor": False})


def _delete_devices(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
