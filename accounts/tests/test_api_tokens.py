"""API tokens: issued new on each request and shown once, stored only as digests, expiring after API_TOKEN_DAYS,
listed and revoked by their owner and by Admins."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken
from audit.models import AuditEvent

PASSWORD = "Correct-Horse-42"


@pytest.fixture(autouse=True)
def token_door_history_starts_empty():
    """The token door's throttle counts in the real cache, which outlives each test's database."""
    cache.delete_many([f"throttle_{scope}_127.0.0.1" for scope in ("anon", "token")])


def ask_token(api_client, user, **extra):
    return api_client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD, **extra}, format="json"
    )


def calling_with(api_client, key):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api_client


def later(**delta):
    return mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(**delta))


def every_stored_value() -> str:
    """Every row of every table, as text: what someone who copies the database reads."""
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(dump)


def test_the_database_holds_no_issued_token(api_client, operator):
    key = ask_token(api_client, operator).json()["token"]

    assert key not in every_stored_value()
    assert key[:8] in every_stored_value()  # the display prefix, to tell tokens apart


def test_the_issued_token_authenticates_and_is_shown_with_its_expiry_uncached(api_client, operator):
    response = ask_token(api_client, operator, label="nightly backup check")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    issued = response.json()
    assert issued["label"] == "nightly backup check"
    assert issued["prefix"] == issued["token"][:8]
    assert timezone.datetime.fromisoformat(issued["expires"]) > timezone.now() + timedelta(days=29)
    me = calling_with(api_client, issued["token"]).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == operator.username


def test_each_request_issues_a_new_token(api_client, operator):
    first, second = (ask_token(api_client, operator).json()["token"] for _ in range(2))

    assert first != second
    assert ApiToken.objects.filter(user=operator).count() == 2


def test_issuing_is_audited_without_the_token(api_client, operator):
    key = ask_token(api_client, operator).json()["token"]

    event = AuditEvent.objects.get(action="token.create")
    assert event.actor == operator
    assert event.target == operator.username
    assert event.after["prefix"] == key[:8]
    assert key not in repr(event.__dict__)


def test_a_token_expires_after_api_token_days(api_client, operator, settings):
    settings.API_TOKEN_DAYS = 7
    key = services.issue_api_token(actor=operator, user=operator).key

    with later(days=6, hours=23):
        assert calling_with(api_client, key).get("/api/v1/me/").status_code == 200
    with later(days=7, seconds=1):
        assert calling_with(api_client, key).get("/api/v1/me/").status_code == 401


def test_issuing_forgets_the_users_expired_tokens(operator):
    expired = services.issue_api_token(actor=operator, user=operator).token
    ApiToken.objects.filter(pk=expired.pk).update(expires=timezone.now() - timedelta(seconds=1))

    services.issue_api_token(actor=operator, user=operator)

    assert not ApiToken.objects.filter(pk=expired.pk).exists()


def test_an_unknown_token_gets_401(api_client, db):
    assert calling_with(api_client, "not-a-token").get("/api/v1/me/").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(api_client, operator):
    issued = services.issue_api_token(actor=operator, user=operator)
    client = calling_with(api_client, issued.key)

    client.get("/api/v1/me/")
    first_use = ApiToken.objects.get(pk=issued.token.pk).last_used
    with later(seconds=30):
        client.get("/api/v1/me/")
    unchanged = ApiToken.objects.get(pk=issued.token.pk).last_used
    with later(minutes=2):
        client.get("/api/v1/me/")
    moved = ApiToken.objects.get(pk=issued.token.pk).last_used

    assert first_use is not None
    assert unchanged == first_use
    assert moved > first_use


def test_owner_lists_own_tokens_without_secrets(api_as, operator, viewer):
    own = services.issue_api_token(actor=operator, user=operator, label="ci")
    services.issue_api_token(actor=viewer, user=viewer)

    listed = api_as(operator).get("/api/v1/tokens/").json()["results"]

    assert [(token["id"], token["label"], token["user"]) for token in listed] == [
        (own.token.pk, "ci", operator.username)
    ]
    assert "token" not in listed[0] and "digest" not in listed[0]


def test_asking_for_another_users_tokens_shows_a_non_admin_nothing(api_as, operator, viewer):
    services.issue_api_token(actor=viewer, user=viewer)

    listed = api_as(operator).get(f"/api/v1/tokens/?user={viewer.pk}").json()["results"]

    assert listed == []


def test_owner_revokes_own_token_and_it_stops_working(api_client, operator):
    issued = services.issue_api_token(actor=operator, user=operator)
    client = calling_with(api_client, issued.key)

    response = client.delete(f"/api/v1/tokens/{issued.token.pk}/")

    assert response.status_code == 204
    assert client.get("/api/v1/me/").status_code == 401
    event = AuditEvent.objects.get(action="token.revoke")
    assert (event.actor, event.target, event.before["prefix"]) == (operator, operator.username, issued.token.prefix)


def test_nobody_but_an_admin_revokes_another_users_token(api_as, operator, viewer):
    theirs = services.issue_api_token(actor=viewer, user=viewer)

    response = api_as(operator).delete(f"/api/v1/tokens/{theirs.token.pk}/")

    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=theirs.token.pk).exists()


def test_admin_lists_everyones_or_one_users_tokens_and_revokes_them(api_as, admin, operator, viewer):
    operators = services.issue_api_token(actor=operator, user=operator)
    viewers = services.issue_api_token(actor=viewer, user=viewer)
    client = api_as(admin)

    everyone = {token["id"] for token in client.get("/api/v1/tokens/").json()["results"]}
    one_user = [token["id"] for token in client.get(f"/api/v1/tokens/?user={viewer.pk}").json()["results"]]
    revoked = client.delete(f"/api/v1/tokens/{operators.token.pk}/")

    assert everyone == {operators.token.pk, viewers.token.pk}
    assert one_user == [viewers.token.pk]
    assert revoked.status_code == 204
    assert not ApiToken.objects.filter(pk=operators.token.pk).exists()


def test_tokens_are_listed_only_to_the_signed_in(api_client, db):
    assert api_client.get("/api/v1/tokens/").status_code == 401


def test_deactivating_a_user_deletes_their_tokens(api_client, admin, operator):
    key = services.issue_api_token(actor=operator, user=operator).key

    services.deactivate_user(actor=admin, user=operator)

    assert not ApiToken.objects.filter(user=operator).exists()
    assert calling_with(api_client, key).get("/api/v1/me/").status_code == 401


def test_inactive_users_get_no_token(admin, operator):
    services.deactivate_user(actor=admin, user=operator)

    with pytest.raises(services.ServiceError, match="Inactive users"):
        services.issue_api_token(actor=admin, user=operator)
