import pytest
from django.contrib.auth.models import Group

from accounts import services
from accounts.models import ApiToken
from accounts.roles import ROLES
from cloud.errors import Conflict, ServiceError


def test_role_groups_exist_after_migrate(db):
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)


def test_only_admin_may_manage_users(viewer, operator, admin):
    for perm in ("auth.view_user", "auth.add_user", "auth.change_user"):
        assert admin.has_perm(perm)
        assert not operator.has_perm(perm)
        assert not viewer.has_perm(perm)


def test_role_permissions_nest_viewer_within_operator_within_admin(db):
    viewer, operator, admin = (set(Group.objects.get(name=role).permissions.all()) for role in ROLES)
    assert viewer <= operator <= admin


def test_create_user_gives_exactly_one_role(db):
    created = services.create_user(actor=None, username="nina", role="operator", password="Lantern-Blue-77")

    assert services.role_of(created.user) == "Operator"
    assert created.generated_password is None
    assert created.user.check_password("Lantern-Blue-77")


def test_create_user_generates_a_strong_password_when_none_given(db):
    created = services.create_user(actor=None, username="nina", role="viewer")

    assert len(created.generated_password) >= 20
    assert created.user.check_password(created.generated_password)


def test_duplicate_username_is_a_conflict_whatever_the_case(viewer):
    with pytest.raises(Conflict, match="already exists"):
        services.create_user(actor=None, username=viewer.username.upper(), role="viewer")


def test_weak_password_is_refused_with_the_validator_message(db):
    with pytest.raises(ServiceError, match="too short"):
        services.create_user(actor=None, username="nina", role="viewer", password="abc")


def test_unknown_role_is_refused(db):
    with pytest.raises(ServiceError, match="Unknown role 'root'"):
        services.create_user(actor=None, username="nina", role="root")


def test_set_role_replaces_the_previous_role(admin, viewer):
    services.set_role(actor=admin, user=viewer, role="operator")

    viewer.refresh_from_db()
    assert list(viewer.groups.values_list("name", flat=True)) == ["Operator"]


def test_admin_cannot_demote_or_deactivate_themselves(admin):
    with pytest.raises(ServiceError, match="cannot remove the Admin role"):
        services.set_role(actor=admin, user=admin, role="viewer")
    with pytest.raises(ServiceError, match="cannot deactivate your own account"):
        services.deactivate_user(actor=admin, user=admin)


def test_deactivation_revokes_the_api_tokens_and_keeps_the_account(admin, operator):
    services.issue_api_token(actor=operator, user=operator)

    services.deactivate_user(actor=admin, user=operator)

    operator.refresh_from_db()
    assert not operator.is_active
    assert not ApiToken.objects.filter(user=operator).exists()


def test_ensure_admin_is_idempotent_and_follows_the_given_password(db):
    first = services.ensure_admin(username="root-admin", password=None)
    again = services.ensure_admin(username="root-admin", password="Another-Secret-99")

    assert first.user.is_superuser
    assert services.role_of(first.user) == "Admin"
    assert again is None
    first.user.refresh_from_db()
    assert first.user.check_password("Another-Secret-99")
