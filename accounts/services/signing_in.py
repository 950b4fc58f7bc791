"""Signing in: the password step and the code step, and the lockouts after failed attempts."""

import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from django_otp.plugins.otp_static.models import StaticDevice
from rest_framework.throttling import BaseThrottle

from accounts.models import SignInFailures
from accounts.services.two_factor import WrongCode, has_two_factor, matching_device, two_factor_required
from audit.models import AuditEvent
from audit.services import record
from cloud.errors import ServiceError

User = get_user_model()


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


@sensitive_variables("code")
def verify_sign_in_code(request, *, user, code: str):
    """The second step of signing in: the device that accepted the code.

    A wrong code counts toward the same lockouts as a wrong password (and raises SignInLocked when it starts
    one); while the account or the address is locked no code is checked.
    """
    now = timezone.now()
    account_key, address = _account_key(user.get_username()), client_address(request)
    _refuse_while_locked(account_key, address, now)
    device = matching_device(user, code)
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
