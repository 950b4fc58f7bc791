"""A session ends after SESSION_IDLE_MINUTES (60) without a request, and SESSION_MAX_HOURS (12) after sign-in
however busy it is; both on pages and on the API called with the session cookie."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

SIGNED_IN = timezone.now()


@pytest.fixture
def signed_in(client, operator):
    with at(minutes=0):
        client.post("/accounts/login/", {"username": operator.username, "password": "Correct-Horse-42"})
        assert client.get("/").status_code == 200
    return client


def at(*, minutes=0, hours=0):
    """The clock `minutes` and `hours` after the sign-in."""
    return mock.patch("django.utils.timezone.now", return_value=SIGNED_IN + timedelta(minutes=minutes, hours=hours))


def is_signed_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_page_after_61_idle_minutes_asks_to_sign_in_again(signed_in):
    with at(minutes=61):
        assert is_signed_out(signed_in.get("/"))
    with at(minutes=62):
        assert is_signed_out(signed_in.get("/"))


def test_each_request_restarts_the_idle_clock(signed_in):
    for minutes in (50, 100, 150):
        with at(minutes=minutes):
            assert signed_in.get("/").status_code == 200


def test_a_busy_session_still_ends_twelve_hours_after_sign_in(signed_in):
    for minutes in range(30, 12 * 60, 30):
        with at(minutes=minutes):
            assert signed_in.get("/users/").status_code == 403  # an Operator: signed in, not an Admin

    with at(hours=12, minutes=1):
        assert is_signed_out(signed_in.get("/"))


def test_the_api_with_an_idle_session_cookie_answers_401(signed_in):
    with at(minutes=59):
        assert signed_in.get("/api/v1/me/").status_code == 200
    with at(minutes=59 + 61):
        assert signed_in.get("/api/v1/me/").status_code == 401


def test_idle_minutes_follow_the_setting(signed_in, settings):
    settings.SESSION_IDLE_MINUTES = 5

    with at(minutes=6):
        assert is_signed_out(signed_in.get("/"))
