"""Databases made before tokens were hashed keep their clients working: 0003_api_tokens hashes each plaintext
token of rest_framework.authtoken into accounts.ApiToken with a fresh expiry and deletes the plaintext."""

import importlib
from datetime import timedelta
from types import SimpleNamespace

from django.apps import apps
from django.db import connection
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken

migration = importlib.import_module("accounts.migrations.0003_api_tokens")
OLD_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"


def run_data_migration():
    # All it needs of a schema editor is the connection; SQLite opens no real one inside a test's transaction.
    migration.hash_old_tokens(apps, SimpleNamespace(connection=connection))


def old_token_table_holding(key, user):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token"
            " (key varchar(40) PRIMARY KEY, created timestamp with time zone, user_id integer)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [key, timezone.now(), user.pk])


def test_plaintext_tokens_become_hashed_tokens_with_a_fresh_expiry(operator, settings):
    old_token_table_holding(OLD_KEY, operator)

    run_data_migration()

    assert services.api_token_user(OLD_KEY) == operator
    token = ApiToken.objects.get(user=operator)
    assert token.expires > timezone.now() + timedelta(days=settings.API_TOKEN_DAYS - 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)


def test_a_database_without_the_old_table_migrates_as_it_is(db):
    run_data_migration()

    assert not ApiToken.objects.exists()
