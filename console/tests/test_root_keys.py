"""Issue 17: a process whose CONSOLE_ROOT_KEY cannot open the stored secrets refuses to start, and
`manage.py rotate_root_key` re-seals every stored secret under a new key: resumable, audited."""

import base64
import json
import os
import subprocess
import sys

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from buckets.models import Connection
from cloud.errors import ServiceError
from console import checks, root_keys, secrets
from console.env import generate_key_b64
from console.models import RootKeyCheck
from console.startup import StartRefused
from encryption.services import master_keys

pytestmark = pytest.mark.django_db


def new_key() -> bytes:
    return os.urandom(32)


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def check_value_opens_under(key: bytes) -> bool:
    return secrets.opens_under(
        root_keys.CHECK_PURPOSE, RootKeyCheck.objects.get().sealed_value, root_keys.CHECK_CONTEXT, key
    )


def every_stored_secret() -> list[tuple[secrets.SealedField, object, str]]:
    return [
        (sealed, row, getattr(row, sealed.field))
        for sealed in secrets.SEALED_FIELDS
        for row in sealed.model.objects.exclude(**{sealed.field: ""})
    ]


def opens_under(key: bytes) -> list[bool]:
    return [
        secrets.opens_under(sealed.purpose, token, sealed.context(row), key)
        for sealed, row, token in every_stored_secret()
    ]


@pytest.fixture
def stored_secrets(admin):
    """One of each kind of stored secret: two connections' AccessKey secrets, one's STS token, an RSA master key."""
    for name, sts_token in (("with-sts", "sts-token-value"), ("plain", "")):
        connection = Connection(name=name, oss_endpoint="http://127.0.0.1:9", region="cn-hangzhou")
        connection.set_credentials(f"AK-{name}", f"secret-of-{name}", sts_token)
        connection.save()
    master_keys.generate_rsa(actor=admin, name="finance", bits=2048)
    assert {sealed.label for sealed, _, _ in every_stored_secret()} == {
        "buckets.Connection.sealed_secret",
        "buckets.Connection.sealed_sts_token",
        "encryption.MasterKey.sealed_private_key",
    }


def test_every_model_field_holding_a_sealed_secret_is_registered_for_rotation():
    """localcloud, the stand-in for the cloud, seals its own data under LOCALCLOUD_ROOT_KEY; the check value is
    re-sealed apart, last."""
    sealed_fields = {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label != "localcloud" and model is not RootKeyCheck
        for field in model._meta.get_fields()
        if field.name.startswith("sealed_")
    }

    assert sealed_fields == {sealed.label for sealed in secrets.SEALED_FIELDS}


# The check value


def test_migrate_seals_the_check_value_under_the_root_key_and_the_right_key_passes():
    assert check_value_opens_under(settings.CONSOLE_ROOT_KEY)
    assert root_keys.wrong_root_key_message() == ""
    checks.refuse_to_start()


def test_a_wrong_root_key_refuses_to_start_naming_where_the_check_value_was_sealed_never_a_key(settings):
    sealed = RootKeyCheck.objects.get()
    right_key = settings.CONSOLE_ROOT_KEY
    settings.CONSOLE_ROOT_KEY = new_key()

    with pytest.raises(StartRefused) as refusal:
        checks.refuse_to_start()

    message = str(refusal.value)
    assert message.startswith("console.E002 CONSOLE_ROOT_KEY is not the key the stored secrets were sealed under")
    assert f"sealed on host {sealed.sealed_on_host} at {sealed.sealed_at:%Y-%m-%d %H:%M:%S}" in message
    for key in (right_key, settings.CONSOLE_ROOT_KEY):
        assert b64(key) not in message and base64.b64encode(key).decode() not in message
    assert [error.id for error in checks.check_root_key()] == [checks.WRONG_ROOT_KEY]


def test_during_a_switch_over_the_old_key_given_as_previous_root_key_passes(settings):
    settings.CONSOLE_PREVIOUS_ROOT_KEY = settings.CONSOLE_ROOT_KEY
    settings.CONSOLE_ROOT_KEY = new_key()

    assert root_keys.wrong_root_key_message() == ""


def test_without_a_check_value_stored_secrets_that_none_opens_refuse_the_key(settings, stored_secrets):
    RootKeyCheck.objects.all().delete()
    settings.CONSOLE_ROOT_KEY = new_key()

    assert "none of the 4 stored secrets tried opens with it" in root_keys.wrong_root_key_message()
    with pytest.raises(StartRefused):
        root_keys.seal_check_value()
    assert not RootKeyCheck.objects.exists()


def test_without_a_check_value_a_key_that_opens_the_stored_secrets_seals_one(stored_secrets):
    RootKeyCheck.objects.all().delete()

    root_keys.seal_check_value()

    assert check_value_opens_under(settings.CONSOLE_ROOT_KEY)


@pytest.mark.slow
def test_a_real_start_with_another_root_key_is_refused_and_one_before_migrate_is_not(tmp_path):
    """As processes start: `manage.py` on a fresh database (no table yet), migrate under one key, then a host
    with another key and one with the right key; and once the other key is adopted (the first taken as lost), the
    other way round."""
    right_key, wrong_key = generate_key_b64(), generate_key_b64()

    def manage(root_key: str, *arguments: str) -> subprocess.CompletedProcess:
        env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
        env |= {"CONSOLE_VAR_DIR": str(tmp_path / "var"), "CONSOLE_ROOT_KEY": root_key}
        command = [sys.executable, "manage.py", *arguments]
        return subprocess.run(command, env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=300)

    assert manage(wrong_key, "check").returncode == 0
    assert manage(right_key, "migrate", "--verbosity", "0").returncode == 0

    refused = manage(wrong_key, "migrate")
    started = manage(right_key, "check")

    assert refused.returncode == 1
    assert "(console.E002) CONSOLE_ROOT_KEY is not the key the stored secrets were sealed under" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert started.returncode == 0, started.stderr
    assert manage(wrong_key, "adopt_root_key", "--secrets-are-lost").returncode == 0
    assert manage(wrong_key, "check").returncode == 0
    assert manage(right_key, "check").returncode == 1


# Rotation


def test_rotation_reseals_every_stored_secret_and_the_check_value_under_the_new_key_only(settings, stored_secrets):
    old_key, rotated_to = settings.CONSOLE_ROOT_KEY, new_key()

    rotation = root_keys.rotate_root_key(new_key=rotated_to)

    assert rotation.as_dict() == {
        "resealed": {
            "buckets.Connection.sealed_secret": 2,
            "buckets.Connection.sealed_sts_token": 1,
            "encryption.MasterKey.sealed_private_key": 1,
        },
        "already_under_new_key": {},
        "unreadable": {},
    }
    assert opens_under(rotated_to) == [True] * 4
    assert opens_under(old_key) == [False] * 4
    assert check_value_opens_under(rotated_to) and not check_value_opens_under(old_key)
    settings.CONSOLE_ROOT_KEY = rotated_to
    with_sts = Connection.objects.get(name="with-sts")
    assert (with_sts.access_key_secret, with_sts.sts_token) == ("secret-of-with-sts", "sts-token-value")
    assert "PRIVATE KEY" in secrets.unseal(master_keys._PURPOSE, *_sealed_master_key())
    assert root_keys.wrong_root_key_message() == ""


def _sealed_master_key() -> tuple[str, str]:
    key = master_keys.list_master_keys().get(name="finance")
    return key.sealed_private_key, master_keys._context(key)


def test_rotation_is_audited_with_counts_and_no_secret(settings, stored_secrets):
    rotated_to = new_key()

    root_keys.rotate_root_key(new_key=rotated_to)

    event = AuditEvent.objects.get(action="rootkey.rotate")
    assert (event.outcome, event.target, event.action_label) == (
        AuditEvent.SUCCESS,
        "CONSOLE_ROOT_KEY",
        "Stored secrets re-sealed under a new root key",
    )
    assert event.after["resealed"]["buckets.Connection.sealed_secret"] == 2
    recorded = json.dumps([event.before, event.after, event.error])
    for secret in ("secret-of-with-sts", "sts-token-value", b64(rotated_to), b64(settings.CONSOLE_ROOT_KEY)):
        assert secret not in recorded
    assert all(token not in recorded for _, _, token in every_stored_secret())


def test_an_interrupted_rotation_finishes_when_run_again_and_old_key_hosts_start_until_then(
    settings, stored_secrets, monkeypatch
):
    old_key, rotated_to = settings.CONSOLE_ROOT_KEY, new_key()
    reseal_row, calls = root_keys._reseal_row, []

    def killed_after_two_rows(*arguments):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(arguments)
        return reseal_row(*arguments)

    monkeypatch.setattr(root_keys, "_reseal_row", killed_after_two_rows)
    with pytest.raises(KeyboardInterrupt):
        root_keys.rotate_root_key(new_key=rotated_to)
    monkeypatch.setattr(root_keys, "_reseal_row", reseal_row)

    assert sorted(opens_under(rotated_to)) == [False, False, True, True]
    assert check_value_opens_under(old_key)
    assert root_keys.wrong_root_key_message() == ""
    assert not AuditEvent.objects.filter(action="rootkey.rotate").exists()

    rotation = root_keys.rotate_root_key(new_key=rotated_to)

    assert sum(rotation.counts(root_keys.ALREADY).values()) == 2
    assert sum(rotation.counts(root_keys.RESEALED).values()) == 2
    assert opens_under(rotated_to) == [True] * 4
    assert check_value_opens_under(rotated_to)


def test_a_secret_written_under_the_old_key_while_rotating_is_resealed_too(settings, stored_secrets, monkeypatch):
    """A host not yet told of the rotation adds a connection meanwhile: the passes repeat until none is left."""
    rotated_to = new_key()
    reseal_pass, passes = root_keys._reseal_pass, []

    def another_host_writes_during_the_first_pass(*arguments):
        if not passes:
            late = Connection(name="late", oss_endpoint="http://127.0.0.1:9", region="cn-hangzhou")
            late.set_credentials("AK-late", "secret-of-late")
            late.save()
        passes.append(reseal_pass(*arguments))
        return passes[-1]

    monkeypatch.setattr(root_keys, "_reseal_pass", another_host_writes_during_the_first_pass)
    root_keys.rotate_root_key(new_key=rotated_to)

    assert passes[-1] == 0
    assert opens_under(rotated_to) == [True] * 5


def test_a_secret_no_known_key_opens_is_reported_and_left_as_it_is(settings, stored_secrets):
    lost = Connection.objects.get(name="plain")
    Connection.objects.filter(pk=lost.pk).update(
        sealed_secret=secrets.seal("access-key-secret", "x", "connection:AK-plain", root_key=new_key())
    )

    rotation = root_keys.rotate_root_key(new_key=new_key())

    assert rotation.unreadable_rows() == [f"buckets.Connection.sealed_secret of row {lost.pk}"]
    assert rotation.counts(root_keys.UNREADABLE) == {"buckets.Connection.sealed_secret": 1}


def test_a_rotation_run_with_a_wrong_current_key_changes_nothing(settings, stored_secrets):
    """As `manage.py rotate_root_key --skip-checks` would run on a host holding another key."""
    right_key = settings.CONSOLE_ROOT_KEY
    settings.CONSOLE_ROOT_KEY = new_key()

    with pytest.raises(ServiceError, match="CONSOLE_ROOT_KEY is not the key the stored secrets were sealed under"):
        root_keys.rotate_root_key(new_key=new_key())

    assert opens_under(right_key) == [True] * 4
    assert check_value_opens_under(right_key)


# The command


def test_the_command_reads_the_new_key_from_a_file_and_says_what_to_do_next(settings, stored_secrets, tmp_path, capsys):
    rotated_to = new_key()
    key_file = tmp_path / "new-root-key"
    key_file.write_text(b64(rotated_to) + "\n")

    call_command("rotate_root_key", new_key_file=str(key_file))

    output = capsys.readouterr().out
    assert "buckets.Connection.sealed_secret: 2 resealed" in output
    assert "Next: set CONSOLE_ROOT_KEY to the new key on every host and restart its processes" in output
    assert b64(rotated_to) not in output
    assert opens_under(rotated_to) == [True] * 4


def test_the_command_takes_the_new_key_from_the_environment(stored_secrets, monkeypatch):
    rotated_to = new_key()
    monkeypatch.setenv("CONSOLE_NEW_ROOT_KEY", b64(rotated_to))

    call_command("rotate_root_key")

    assert opens_under(rotated_to) == [True] * 4


def test_the_command_refuses_a_key_given_twice_or_not_at_all(stored_secrets, tmp_path, monkeypatch):
    key_file = tmp_path / "new-root-key"
    key_file.write_text(b64(new_key()))

    with pytest.raises(CommandError, match="Give the new key: --new-key-file PATH or CONSOLE_NEW_ROOT_KEY"):
        call_command("rotate_root_key")
    monkeypatch.setenv("CONSOLE_NEW_ROOT_KEY", b64(new_key()))
    with pytest.raises(CommandError, match="Give the new key once"):
        call_command("rotate_root_key", new_key_file=str(key_file))
    assert opens_under(settings.CONSOLE_ROOT_KEY) == [True] * 4


def test_after_hosts_switched_to_the_new_key_the_command_finishes_the_switch_over(settings, stored_secrets, capsys):
    """Zero-downtime: hosts restart with the new key and the old one as previous, then the command re-seals what
    is still under the previous key."""
    old_key, rotated_to = settings.CONSOLE_ROOT_KEY, new_key()
    settings.CONSOLE_ROOT_KEY, settings.CONSOLE_PREVIOUS_ROOT_KEY = rotated_to, old_key
    added_meanwhile = Connection(name="added-meanwhile", oss_endpoint="http://127.0.0.1:9", region="cn-hangzhou")
    added_meanwhile.set_credentials("AK-meanwhile", "secret-meanwhile")
    added_meanwhile.save()
    assert Connection.objects.get(name="plain").access_key_secret == "secret-of-plain"

    call_command("rotate_root_key")

    assert "Next: remove CONSOLE_PREVIOUS_ROOT_KEY on every host" in capsys.readouterr().out
    assert opens_under(rotated_to) == [True] * 5
    assert check_value_opens_under(rotated_to)
    event = AuditEvent.objects.get(action="rootkey.rotate")
    assert event.after["already_under_new_key"] == {"buckets.Connection.sealed_secret": 1}


def test_after_the_key_is_lost_adopting_a_new_one_lets_hosts_holding_it_start(settings, stored_secrets, capsys):
    settings.CONSOLE_ROOT_KEY = new_key()
    assert root_keys.wrong_root_key_message()

    with pytest.raises(CommandError, match="--secrets-are-lost"):
        call_command("adopt_root_key")
    assert root_keys.wrong_root_key_message()
    call_command("adopt_root_key", secrets_are_lost=True)

    assert root_keys.wrong_root_key_message() == ""
    assert "buckets.Connection.sealed_secret: 2 unreadable, to be entered again" in capsys.readouterr().out
    event = AuditEvent.objects.get(action="rootkey.adopt")
    assert event.after["unreadable"] == {
        "buckets.Connection.sealed_secret": 2,
        "buckets.Connection.sealed_sts_token": 1,
        "encryption.MasterKey.sealed_private_key": 1,
    }
    with pytest.raises(secrets.SecretUnreadable):
        Connection.objects.get(name="plain").access_key_secret  # noqa: B018 - opening it is the point
