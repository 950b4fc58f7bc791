import io
import os
import stat

import pytest
from django.core.management import CommandError, call_command

from accounts import services
from accounts.services import role_of
from console.management.commands import bootstrap as bootstrap_command


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_createuser_with_role_password_and_token(db):
    output = run("createuser", "nina", "--role", "operator", "--password", "Lantern-Blue-77", "--print-token")

    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="nina")
    assert role_of(user) == "Operator"
    assert user.check_password("Lantern-Blue-77")
    token = output.split("token: ", 1)[1].split()[0]
    assert services.api_token_user(token) == user
    assert "Lantern-Blue-77" not in output


def test_createuser_prints_a_generated_password(db):
    output = run("createuser", "nina", "--role", "viewer")

    assert "password: " in output


def test_createuser_refuses_a_duplicate(viewer):
    with pytest.raises(CommandError, match="already exists"):
        run("createuser", viewer.username, "--role", "viewer")


def test_createuser_refuses_an_unknown_role(db):
    with pytest.raises(CommandError, match="invalid choice"):
        run("createuser", "nina", "--role", "root")


def test_bootstrap_creates_the_admin_with_a_password_file_and_is_idempotent(db, settings, tmp_path, monkeypatch):
    monkeypatch.delenv("CONSOLE_ADMIN_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path
    settings.CONSOLE_ADMIN_USER = "boot-admin"
    settings.LOCALCLOUD_ENABLED = False  # the demo data has its own test (console/tests/test_bootstrap.py)
    # Nor are migrate and collectstatic this test's business: console/tests/test_bootstrap.py runs them for real.
    monkeypatch.setattr(bootstrap_command, "call_command", lambda *args, **options: None)

    first = run("bootstrap")
    second = run("bootstrap")

    password_file = tmp_path / "admin-password"
    assert "created; its password is in" in first
    assert "exists" in second
    assert stat.S_IMODE(os.stat(password_file).st_mode) == 0o600
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username="boot-admin")
    assert admin.check_password(password_file.read_text().strip())
    assert password_file.read_text().strip() not in first
