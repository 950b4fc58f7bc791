"""The API tokens pages: every user lists, creates and revokes their own tokens; Admins see and revoke anyone's
from the Users page. A new token is shown once, on a page no cache keeps."""

from datetime import timedelta

from django.contrib.messages import get_messages
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken
from audit.models import AuditEvent


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_every_user_reaches_their_tokens_from_every_page(client_as, viewer):
    assert b'href="/users/me/tokens/"' in client_as(viewer).get("/").content


def test_the_list_shows_label_prefix_and_dates_but_never_a_token(client_as, viewer):
    issued = services.issue_api_token(actor=viewer, user=viewer, label="backup script")
    ApiToken.objects.filter(pk=issued.token.pk).update(last_used=timezone.now() - timedelta(hours=1))

    page = client_as(viewer).get("/users/me/tokens/").content.decode()

    assert "backup script" in page
    assert f"{issued.token.prefix}…" in page
    assert issued.token.expires.strftime("%Y-%m-%d") in page
    assert issued.key not in page


def test_an_expired_token_is_marked_expired(client_as, viewer):
    issued = services.issue_api_token(actor=viewer, user=viewer)
    ApiToken.objects.filter(pk=issued.token.pk).update(expires=timezone.now() - timedelta(seconds=1))

    assert "expired</span>" in client_as(viewer).get("/users/me/tokens/").content.decode()


def test_creating_a_token_shows_it_once_uncached_and_it_authenticates(client_as, api_client, viewer):
    response = client_as(viewer).post("/users/me/tokens/new/", {"label": "laptop"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=viewer, label="laptop")
    key = response.content.decode().split('<code class="secret">', 1)[1].split("</code>", 1)[0]
    assert services.api_token_user(key) == viewer
    assert key not in client_as(viewer).get("/users/me/tokens/").content.decode()
    assert messages_of(response) == [f"API token {token.prefix}… created; it expires {token.expires:%Y-%m-%d}."]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/v1/me/").status_code == 200


def test_a_too_long_label_is_shown_as_a_problem_to_fix(client_as, viewer):
    response = client_as(viewer).post("/users/me/tokens/new/", {"label": "x" * 101})

    assert "One problem to fix" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_owner_revokes_own_token_and_is_told_so(client_as, viewer):
    token = services.issue_api_token(actor=viewer, user=viewer).token

    response = client_as(viewer).post(f"/users/tokens/{token.pk}/revoke/")

    assert response.status_code == 302
    assert response["Location"] == "/users/me/tokens/"
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert messages_of(response) == [f"API token {token.prefix}… of {viewer.username} revoked; it no longer works."]
    assert AuditEvent.objects.filter(action="token.revoke", actor=viewer).exists()


def test_nobody_but_an_admin_sees_or_revokes_another_users_tokens(client_as, operator, viewer):
    theirs = services.issue_api_token(actor=viewer, user=viewer).token
    client = client_as(operator)

    assert client.get(f"/users/{viewer.pk}/tokens/").status_code == 403
    assert client.post(f"/users/tokens/{theirs.pk}/revoke/").status_code == 404
    assert theirs.prefix not in client.get("/users/me/tokens/").content.decode()
    assert ApiToken.objects.filter(pk=theirs.pk).exists()


def test_admin_sees_a_users_tokens_from_the_users_page_and_revokes_one(client_as, admin, operator):
    token = services.issue_api_token(actor=operator, user=operator, label="deploy").token
    client = client_as(admin)

    assert f'href="/users/{operator.pk}/tokens/"' in client.get("/users/").content.decode()
    assert "deploy" in client.get(f"/users/{operator.pk}/tokens/").content.decode()
    response = client.post(f"/users/tokens/{token.pk}/revoke/")

    assert response["Location"] == f"/users/{operator.pk}/tokens/"
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_create_and_revoke_need_post(client_as, viewer):
    token = services.issue_api_token(actor=viewer, user=viewer).token
    client = client_as(viewer)

    assert client.get("/users/me/tokens/new/").status_code == 405
    assert client.get(f"/users/tokens/{token.pk}/revoke/").status_code == 405
