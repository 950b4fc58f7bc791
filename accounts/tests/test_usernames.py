"""Every way in that creates a user (service, Users page, API, createuser, bootstrap) takes only names Django's
username validator accepts: letters, digits and @.+-_, at most 150 characters."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.services import create_user
from cloud.errors import ServiceError

User = get_user_model()

BAD_NAMES = ["ada lovelace", "ada\x07bell", "<script>alert(1)</script>", "a" * 151]


@pytest.mark.parametrize("username", BAD_NAMES)
def test_the_service_refuses_a_name_django_would_not_accept(db, username):
    with pytest.raises(ServiceError, match="username|150 characters"):
        create_user(actor=None, username=username, role="viewer")

    assert not User.objects.exists()


@pytest.mark.parametrize("username", BAD_NAMES)
def test_the_api_answers_400_and_creates_nobody(api_as, admin, username):
    response = api_as(admin).post("/api/v1/users/", {"username": username, "role": "viewer"}, format="json")

    assert response.status_code == 400
    assert not User.objects.filter(username=username).exists()


def test_the_users_page_shows_the_refusal(client_as, admin):
    response = client_as(admin).post("/users/new/", {"username": "<script>x</script>", "role": "viewer"})

    assert response.status_code == 200
    assert b"Enter a valid username" in response.content
    assert b"<script>x</script>" not in response.content
    assert not User.objects.filter(username__contains="script").exists()


def test_createuser_refuses_a_name_with_a_space(db):
    with pytest.raises(CommandError, match="Enter a valid username"):
        call_command("createuser", "ada lovelace", "--role", "viewer", stdout=io.StringIO())


def test_bootstrap_refuses_an_admin_name_with_a_control_character(db, settings, tmp_path, monkeypatch):
    monkeypatch.delenv("CONSOLE_ADMIN_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path
    settings.CONSOLE_ADMIN_USER = "boot\x1badmin"

    with pytest.raises(CommandError, match="CONSOLE_ADMIN_USER.*Enter a valid username"):
        call_command("bootstrap", stdout=io.StringIO(), stderr=io.StringIO())

    assert not User.objects.exists()


def test_a_name_with_dots_at_signs_and_dashes_is_fine(db):
    assert create_user(actor=None, username="ada.l+ops@example-1", role="viewer").user.pk
