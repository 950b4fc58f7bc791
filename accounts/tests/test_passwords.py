"""Passwords: a user changes their own; an Admin resets another's to a generated one, shown once; a generated
password opens nothing but the password change until the user has chosen their own."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts import services
from accounts.models import PasswordChangeDue
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

CURRENT = "Correct-Horse-42"  # conftest's make_user
NEW = "Another-Battery-Staple-7"


def sign_in(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def change(client, current: str, new: str, again: str | None = None, next_page: str = ""):
    data = {"current_password": current, "new_password": new, "new_password_again": new if again is None else again}
    return client.post(f"/accounts/password/?next={next_page}" if next_page else "/accounts/password/", data)


def reset_by(client, admin, user) -> str:
    """The generated password the reset page shows."""
    client.force_login(admin)
    answer = client.post(f"/users/{user.pk}/reset-password/")
    assert answer.status_code == 200 and answer["Cache-Control"].startswith("max-age=0")
    html = answer.content.decode()
    return html.split('<code class="secret">')[1].split("</code>")[0]


def events(action: str):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def no_password_in(event, *passwords) -> bool:
    recorded = json.dumps([event.before, event.after, event.error, event.target])
    return not any(password in recorded for password in passwords)


# -- Changing one's own --------------------------------------------------------------------------------


def test_a_user_changes_their_password_stays_signed_in_and_signs_in_with_the_new_one(client, viewer):
    client.force_login(viewer)

    answer = change(client, CURRENT, NEW)

    assert answer.status_code == 302 and answer["Location"] == "/"
    assert client.get("/").status_code == 200  # the session survived the new hash
    client.logout()
    assert sign_in(client, viewer.username, CURRENT).status_code == 200  # the form again: refused
    assert sign_in(client, viewer.username, NEW)["Location"] == "/"
    event = events("user.password_change")[-1]
    assert (event.outcome, event.actor_name, event.target) == ("success", viewer.username, viewer.username)
    assert no_password_in(event, CURRENT, NEW)


def test_a_wrong_current_password_is_refused_and_recorded_and_changes_nothing(client, viewer):
    client.force_login(viewer)

    answer = change(client, "Not-The-Password-1", NEW)

    assert answer.status_code == 200
    assert "Your current password is not right; the password is unchanged." in answer.content.decode()
    viewer.refresh_from_db()
    assert viewer.check_password(CURRENT)
    event = events("user.password_change")[-1]
    assert (event.outcome, event.error) == ("failure", "wrong current password")


@pytest.mark.parametrize(
    "new, again, message",
    [
        ("short-1", None, "This password is too short. It must contain at least 10 characters."),
        ("1234567890123", None, "This password is entirely numeric."),
        (NEW, "Something-Else-99", "The two new passwords differ; type the same one twice."),
        (CURRENT, None, "The new password is the one you have now: choose another."),
    ],
)
def test_a_new_password_the_rules_refuse_is_not_taken(client, viewer, new, again, message):
    client.force_login(viewer)

    answer = change(client, CURRENT, new, again)

    assert answer.status_code == 200 and message in answer.content.decode()
    viewer.refresh_from_db()
    assert viewer.check_password(CURRENT)


def test_the_api_changes_the_callers_own_password(api_as, viewer):
    refused = api_as(viewer).post("/api/v1/me/password/", {"current_password": "wrong", "new_password": NEW})
    changed = api_as(viewer).post("/api/v1/me/password/", {"current_password": CURRENT, "new_password": NEW})

    assert refused.status_code == 400
    assert refused.json() == {"detail": "Your current password is not right; the password is unchanged."}
    assert changed.status_code == 204
    viewer.refresh_from_db()
    assert viewer.check_password(NEW)


def test_the_layout_links_the_password_page_for_every_signed_in_user(client, viewer):
    client.force_login(viewer)

    assert '<a href="/accounts/password/"' in client.get("/").content.decode()


# -- An Admin's reset and the change it calls for -------------------------------------------------------


def test_after_an_admin_reset_the_user_must_choose_a_password_before_anything_else(client, admin, operator):
    generated = reset_by(client, admin, operator)
    client.logout()
    event = events("user.password_reset")[-1]
    assert (event.actor_name, event.target) == (admin.username, operator.username)
    assert event.after == {"change_required": True}
    assert no_password_in(event, generated)

    assert sign_in(client, operator.username, generated)["Location"] == "/"
    for page in ("/", "/buckets/", "/jobs/", "/users/me/tokens/"):
        assert client.get(page)["Location"] == f"/accounts/password/?next={page.replace('/', '%2F')}"
    forced = client.get("/accounts/password/?next=/buckets/")
    assert forced.status_code == 200
    assert "Your password was generated for you" in forced.content.decode()
    assert '<a href="/buckets/"' not in forced.content.decode()  # no menu leads elsewhere meanwhile

    answer = change(client, generated, NEW, next_page="/buckets/")

    assert answer["Location"] == "/buckets/"
    assert client.get("/buckets/").status_code == 200
    assert not PasswordChangeDue.objects.filter(user=operator).exists()


def test_an_api_session_with_a_generated_password_gets_403_except_to_change_it(client, admin, operator):
    generated = reset_by(client, admin, operator)
    client.logout()
    sign_in(client, operator.username, generated)

    refused = client.get("/api/v1/buckets/")
    changed = client.post(
        "/api/v1/me/password/",
        {"current_password": generated, "new_password": NEW},
        content_type="application/json",
    )

    assert refused.status_code == 403
    assert refused.json()["detail"] == services.PASSWORD_CHANGE_REQUIRED
    assert changed.status_code == 204
    assert client.get("/api/v1/buckets/").status_code == 200


def test_a_generated_password_gives_no_api_token_but_tokens_already_held_keep_working(
    client, api_client, admin, operator
):
    held = services.issue_api_token(actor=operator, user=operator).key
    generated = reset_by(client, admin, operator)

    exchanged = api_client.post("/api/v1/auth/token/", {"username": operator.username, "password": generated})
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {held}")
    with_held_token = api_client.get("/api/v1/buckets/")

    assert exchanged.status_code == 403 and exchanged.json()["detail"] == services.PASSWORD_CHANGE_REQUIRED
    assert with_held_token.status_code == 200
    operator.refresh_from_db()
    services.change_own_password(user=operator, current_password=generated, new_password=NEW)
    api_client.credentials()
    after_change = api_client.post("/api/v1/auth/token/", {"username": operator.username, "password": NEW})
    assert after_change.status_code == 200 and after_change.json()["token"]


def test_the_users_page_shows_whose_password_is_to_change(client, admin, operator):
    reset_by(client, admin, operator)

    assert "password to change" in client.get("/users/").content.decode()


def test_an_admin_resets_through_the_api_and_the_answer_is_not_stored(api_as, admin, viewer):
    answer = api_as(admin).post(f"/api/v1/users/{viewer.pk}/reset-password/")

    body = answer.json()
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    assert body["username"] == viewer.username and body["password_change_required"] is True
    viewer.refresh_from_db()
    assert viewer.check_password(body["generated_password"])


def test_nobody_resets_their_own_password_and_only_admins_reset_others(client, api_as, admin, operator, viewer):
    own = api_as(admin).post(f"/api/v1/users/{admin.pk}/reset-password/")
    by_operator = api_as(operator).post(f"/api/v1/users/{viewer.pk}/reset-password/")

    assert own.status_code == 400
    assert own.json()["detail"] == "You cannot reset your own password; change it on the Change password page."
    assert by_operator.status_code == 403
    client.force_login(operator)
    assert client.post(f"/users/{viewer.pk}/reset-password/").status_code == 403
    viewer.refresh_from_db()
    assert viewer.check_password(CURRENT)


# -- Where generated passwords come from -----------------------------------------------------------------


def test_a_user_created_with_a_generated_password_must_change_it_and_one_with_a_given_password_need_not(db):
    generated = services.create_user(actor=None, username="gen", role="viewer").user
    chosen = services.create_user(actor=None, username="chosen", role="viewer", password=NEW).user

    assert services.password_change_required(generated) is True
    assert services.password_change_required(chosen) is False


def test_createuser_flags_the_password_it_prints_and_not_one_it_is_given(db, capsys):
    call_command("createuser", "printed", "--role", "viewer")
    call_command("createuser", "given", "--role", "viewer", "--password", NEW)

    users = {user.username: user for user in get_user_model().objects.filter(username__in=["printed", "given"])}
    assert services.password_change_required(users["printed"]) is True
    assert services.password_change_required(users["given"]) is False


def test_the_bootstrap_admins_generated_password_goes_to_the_operator_alone_and_needs_no_change(db):
    created = services.ensure_admin(username="root-admin", password=None)

    assert created.generated_password and services.password_change_required(created.user) is False
