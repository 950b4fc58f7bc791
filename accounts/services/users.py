"""Users and their roles: creating, changing the role, deactivating, and the bootstrap admin."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import ApiToken
from accounts.roles import ADMIN, ROLES
from accounts.services.passwords import (
    forget_password_change,
    generate_password,
    require_password_change,
    validate_password,
)
from audit.services import record
from cloud.errors import Conflict, ServiceError

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
    """Create an active user holding one role; a password is generated when none is given, and the user must
    change it at their first sign-in."""
    return _create_user(actor, username, role, password, email, change_generated=True)


def _create_user(actor, username: str, role: str, password: str | None, email: str, *, change_generated: bool):
    username = username.strip()
    _validate_username(username)
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"A user named {username!r} already exists.")
    group = _role_group(role)
    generated = None
    user = User(username=username, email=email)
    if password is None:
        generated = password = generate_password()
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save()
        user.groups.set([group])
        if generated and change_generated:
            require_password_change(user)
        record("user.create", actor=actor, target=user.username, after={"role": group.name, "email": email})
    return CreatedUser(user=user, generated_password=generated)


def refuse_own_account(actor, user, *, action: str) -> None:
    if actor is not None and actor.pk == user.pk:
        raise ServiceError(f"You cannot {action} your own account; ask another Admin.")


def set_role(*, actor, user, role: str):
    """Give the user exactly one role."""
    group = _role_group(role)
    if group.name != ADMIN:
        refuse_own_account(actor, user, action="remove the Admin role from")
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
    refuse_own_account(actor, user, action="deactivate")
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


def ensure_admin(*, username: str, password: str | None) -> CreatedUser | None:
    """The bootstrap admin: created when missing; its password follows `password` when one is given.

    A password generated here goes to the operator alone (bootstrap writes it to a file only they can read), so,
    unlike one generated for another person, it need not be changed at the first sign-in."""
    user = User.objects.filter(username=username).first()
    if user is None:
        created = _create_user(None, username, ADMIN, password, "", change_generated=False)
        created.user.is_superuser = created.user.is_staff = True
        created.user.save(update_fields=["is_superuser", "is_staff"])
        return created
    if password is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
        forget_password_change(user)
    return None
