"""Guessing passwords: both doors (the login page and POST /api/v1/auth/token/) lock an account after
LOGIN_FAILURE_LIMIT failures and a client address after LOGIN_CLIENT_FAILURE_LIMIT; the token door is throttled."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.models import SignInFailures
from audit.models import AuditEvent

PASSWORD = "Correct-Horse-42"
ATTACKER = "203.0.113.66"
USERS_OWN_ADDRESS = "192.0.2.10"


def sign_in_page(client, username, password, address=USERS_OWN_ADDRESS):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def ask_token(api_client, username, password, address=USERS_OWN_ADDRESS):
    return api_client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture(autouse=True)
def token_door_history_starts_empty():
    """The throttle counts in the real cache, which outlives each test's database."""
    addresses = [ATTACKER, USERS_OWN_ADDRESS, *(f"198.51.100.{n}" for n in range(40))]
    cache.delete_many([f"throttle_{scope}_{address}" for scope in ("anon", "token") for address in addresses])


def guess_from_many_addresses(door, client, username, guesses=30):
    for n in range(guesses):
        door(client, username, f"wrong-guess-{n}", address=f"198.51.100.{n}")


def later(minutes):
    return mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=minutes))


def test_thirty_wrong_passwords_then_the_right_one_is_refused_on_the_login_page(client, operator):
    guess_from_many_addresses(sign_in_page, client, operator.username)

    response = sign_in_page(client, operator.username, PASSWORD)

    assert not signed_in(client)
    assert "This account is locked after 5 failed sign-ins until" in response.content.decode()


def test_thirty_wrong_passwords_then_the_right_one_gets_no_token(api_client, operator):
    guess_from_many_addresses(ask_token, api_client, operator.username)

    response = ask_token(api_client, operator.username, PASSWORD)

    assert response.status_code == 403
    assert "token" not in response.json()
    assert "This account is locked after 5 failed sign-ins until" in response.json()["detail"]


def test_failures_on_one_door_lock_the_other(client, api_client, operator):
    guess_from_many_addresses(ask_token, api_client, operator.username, guesses=5)

    sign_in_page(client, operator.username, PASSWORD)

    assert not signed_in(client)


def test_one_address_guessing_many_names_is_locked_out_whatever_name_it_tries(client, operator, settings):
    settings.LOGIN_CLIENT_FAILURE_LIMIT = 3
    for n in range(3):
        sign_in_page(client, f"guessed-name-{n}", "wrong", address=ATTACKER)

    response = sign_in_page(client, operator.username, PASSWORD, address=ATTACKER)

    assert not signed_in(client)
    assert "Too many failed sign-ins from your address" in response.content.decode()
    sign_in_page(client, operator.username, PASSWORD, address=USERS_OWN_ADDRESS)
    assert signed_in(client)


def test_the_page_says_until_when_in_the_console_time_zone(client, operator, settings):
    settings.TIME_ZONE = "UTC"
    frozen = timezone.now().replace(hour=9, minute=30)
    with mock.patch("django.utils.timezone.now", return_value=frozen):
        guess_from_many_addresses(sign_in_page, client, operator.username, guesses=5)
        response = sign_in_page(client, operator.username, PASSWORD)

    assert "locked after 5 failed sign-ins until 09:45 (UTC)" in response.content.decode()


def test_a_name_nobody_holds_is_locked_with_the_same_words(client, operator):
    frozen = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=frozen):
        guess_from_many_addresses(sign_in_page, client, operator.username, guesses=6)
        guess_from_many_addresses(sign_in_page, client, "nobody-by-this-name", guesses=6)
        known = sign_in_page(client, operator.username, "wrong", address=ATTACKER)
        unknown = sign_in_page(client, "nobody-by-this-name", "wrong", address=ATTACKER)

    assert known.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()


def test_each_lockout_is_audited_once_without_the_guessed_passwords(client, operator):
    guess_from_many_addresses(sign_in_page, client, operator.username, guesses=12)

    lockout = AuditEvent.objects.get(action="user.lockout")
    assert lockout.target == operator.username
    assert lockout.after["failures"] == 5
    assert "wrong-guess" not in str(lockout.after)


def test_a_client_lockout_is_audited_with_the_address(client, db, settings):
    settings.LOGIN_CLIENT_FAILURE_LIMIT = 3
    for n in range(4):
        sign_in_page(client, f"guessed-name-{n}", "wrong", address=ATTACKER)

    lockout = AuditEvent.objects.get(action="client.lockout")
    assert (lockout.target, lockout.after["failures"]) == (ATTACKER, 3)


def test_a_right_password_before_the_limit_starts_the_count_again(client, operator):
    guess_from_many_addresses(sign_in_page, client, operator.username, guesses=4)
    sign_in_page(client, operator.username, PASSWORD)
    client.logout()
    guess_from_many_addresses(sign_in_page, client, operator.username, guesses=4)

    sign_in_page(client, operator.username, PASSWORD)

    assert signed_in(client)


def test_a_lockout_ends_after_lockout_minutes(client, operator):
    guess_from_many_addresses(sign_in_page, client, operator.username, guesses=5)

    with later(minutes=14):
        sign_in_page(client, operator.username, PASSWORD)
        assert not signed_in(client)
    with later(minutes=16):
        sign_in_page(client, operator.username, PASSWORD)
        assert signed_in(client)


def test_an_admin_unlocks_a_user_on_the_users_page(client, client_as, admin, operator):
    guess_from_many_addresses(sign_in_page, client, operator.username, guesses=5)
    admin_client = client_as(admin)
    assert b"locked until" in admin_client.get(reverse("accounts:user_list")).content

    response = admin_client.post(reverse("accounts:user_unlock", args=[operator.pk]))

    assert response.status_code == 302
    admin_client.logout()
    sign_in_page(client, operator.username, PASSWORD)
    assert signed_in(client)
    unlock = AuditEvent.objects.get(action="user.unlock")
    assert (unlock.actor, unlock.target) == (admin, operator.username)


def test_an_admin_unlocks_a_user_through_the_api(api_client, operator, admin):
    guess_from_many_addresses(ask_token, api_client, operator.username, guesses=5)

    api_client.force_authenticate(admin)
    assert api_client.get(f"/api/v1/users/{operator.pk}/").json()["locked_until"]
    unlocked = api_client.post(f"/api/v1/users/{operator.pk}/unlock/")
    api_client.force_authenticate(None)

    assert unlocked.status_code == 200
    assert unlocked.json()["locked_until"] is None
    assert ask_token(api_client, operator.username, PASSWORD).status_code == 200
    assert AuditEvent.objects.get(action="user.unlock").channel == "api"


def test_only_an_admin_may_unlock(api_as, client_as, viewer, operator):
    assert api_as(viewer).post(f"/api/v1/users/{operator.pk}/unlock/").status_code == 403
    assert client_as(viewer).post(reverse("accounts:user_unlock", args=[operator.pk])).status_code == 403


def test_the_token_door_answers_429_with_retry_after_once_an_address_asks_too_often(api_client, operator):
    answers = [ask_token(api_client, operator.username, PASSWORD, address=ATTACKER) for _ in range(11)]

    assert [answer.status_code for answer in answers[:10]] == [200] * 10
    assert answers[10].status_code == 429
    assert int(answers[10]["Retry-After"]) > 0


def test_a_forged_forwarded_for_header_does_not_escape_the_throttle(api_client, operator):
    answers = [
        api_client.post(
            "/api/v1/auth/token/",
            {"username": operator.username, "password": PASSWORD},
            format="json",
            REMOTE_ADDR=ATTACKER,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
        for n in range(11)
    ]

    assert answers[10].status_code == 429


def test_the_token_answer_is_not_stored_by_caches(api_client, operator):
    response = ask_token(api_client, operator.username, PASSWORD)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_counts_whose_window_is_over_are_forgotten_at_the_next_failure(client, db):
    guess_from_many_addresses(sign_in_page, client, "someone-once", guesses=3)
    with later(minutes=16):
        sign_in_page(client, "someone-else-later", "wrong", address=ATTACKER)

    assert set(SignInFailures.objects.values_list("key", flat=True)) == {"someone-else-later", ATTACKER}
