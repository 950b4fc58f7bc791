"""Passwords: changing one's own, an Admin's reset to a generated one, and the change a generated one calls for.

A generated password is seen by someone other than its holder (the Admin who created the user or reset the
password, the operator running `createuser`), so it only opens the way to choosing one's own.
"""

import secrets

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import PasswordChangeDue
from audit.models import AuditEvent
from audit.services import record
from cloud.errors import ServiceError


class WrongPassword(ServiceError):
    """The current password given to prove who is changing it is not right."""


class PasswordChangeRequired(ServiceError):
    """The account's password was generated for it and must be changed before it opens anything else."""

    status_code = 403


PASSWORD_CHANGE_REQUIRED = (
    "Your password was generated for you: choose your own before going on "
    "(Change password page in the console, or POST /api/v1/me/password/)."
)


def generate_password() -> str:
    return secrets.token_urlsafe(18)


@sensitive_variables("password")
def validate_password(password: str, user) -> None:
    """Django's password validators (AUTH_PASSWORD_VALIDATORS), their messages as one ServiceError."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ServiceError(" ".join(error.messages)) from None


def password_change_required(user) -> bool:
    return user.is_authenticated and PasswordChangeDue.objects.filter(user_id=user.pk).exists()


def users_owing_password_change(users) -> set[int]:
    """Ids of those of `users` whose generated password is still to be changed."""
    return set(PasswordChangeDue.objects.filter(user__in=users).values_list("user_id", flat=True))


def require_password_change(user) -> None:
    PasswordChangeDue.objects.update_or_create(user=user, defaults={"since": timezone.now()})


def forget_password_change(user) -> None:
    PasswordChangeDue.objects.filter(user=user).delete()


@sensitive_variables("current_password", "new_password")
def change_own_password(*, user, current_password: str, new_password: str) -> None:
    """Replace the user's password after checking the current one; ends a password change that was due.

    The caller keeps the session going (update_session_auth_hash); the user's other sessions end, as Django
    ends every session whose password hash changed."""
    where = {"actor": user, "target": user.get_username()}
    if not user.check_password(current_password):
        record("user.password_change", **where, outcome=AuditEvent.FAILURE, error="wrong current password")
        raise WrongPassword("Your current password is not right; the password is unchanged.")
    if new_password == current_password:
        raise ServiceError("The new password is the one you have now: choose another.")
    validate_password(new_password, user)
    was_due = password_change_required(user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        forget_password_change(user)
        record("user.password_change", **where, before={"change_required": was_due}, after={"change_required": False})


def reset_password(*, actor, user) -> str:
    """Give another user a generated password, shown this once to the Admin, which the user must change at their
    next sign-in; their sessions end. The audit event says it happened, never what the password is."""
    if actor is not None and actor.pk == user.pk:
        raise ServiceError("You cannot reset your own password; change it on the Change password page.")
    if not user.is_active:
        raise ServiceError(f"{user.get_username()} is deactivated: activate the account before resetting its password.")
    password = generate_password()
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        require_password_change(user)
        record(
            "user.password_reset",
            actor=actor,
            target=user.get_username(),
            after={"change_required": True},
        )
    return password
