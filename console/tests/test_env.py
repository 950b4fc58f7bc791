import os
import stat

import pytest
from django.core.exceptions import ImproperlyConfigured

from console.env import (
    decode_key_b64,
    env_bool,
    env_choice,
    env_int,
    env_rate,
    generate_key_b64,
    persistent_secret,
)


def test_generated_secret_is_written_with_mode_0600_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("TEST_SECRET", raising=False)
    path = tmp_path / "var" / "secret"

    first = persistent_secret("TEST_SECRET", path, generate_key_b64)
    second = persistent_secret("TEST_SECRET", path, generate_key_b64)

    assert first == second
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]


def test_secret_from_environment_wins_and_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SECRET", "from-env")
    path = tmp_path / "secret"

    assert persistent_secret("TEST_SECRET", path, generate_key_b64) == "from-env"
    assert not path.exists()


def test_malformed_root_key_error_names_the_variable_but_not_the_value():
    with pytest.raises(ImproperlyConfigured) as error:
        decode_key_b64("CONSOLE_ROOT_KEY", "c2hvcnQta2V5LXZhbHVl")
    assert "CONSOLE_ROOT_KEY" in str(error.value)
    assert "c2hvcnQta2V5LXZhbHVl" not in str(error.value)


def test_root_key_round_trips_as_32_bytes():
    assert len(decode_key_b64("CONSOLE_ROOT_KEY", generate_key_b64())) == 32


@pytest.mark.parametrize("raw, expected", [("1", True), ("yes", True), ("off", False), ("", False)])
def test_env_bool_reads_common_words(monkeypatch, raw, expected):
    monkeypatch.setenv("TEST_FLAG", raw)
    assert env_bool("TEST_FLAG") is expected


def test_env_bool_refuses_unknown_words(monkeypatch):
    monkeypatch.setenv("TEST_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="TEST_FLAG"):
        env_bool("TEST_FLAG")


def test_env_choice_takes_one_of_its_words_whatever_the_case(monkeypatch):
    monkeypatch.setenv("CONSOLE_REQUIRE_2FA", " Operator ")
    assert env_choice("CONSOLE_REQUIRE_2FA", "none", ("admin", "operator", "all", "none")) == "operator"


def test_env_choice_is_its_default_when_unset(monkeypatch):
    monkeypatch.delenv("CONSOLE_REQUIRE_2FA", raising=False)
    assert env_choice("CONSOLE_REQUIRE_2FA", "none", ("admin", "operator", "all", "none")) == "none"


def test_env_choice_refuses_other_words_naming_the_choices(monkeypatch):
    monkeypatch.setenv("CONSOLE_REQUIRE_2FA", "admins")
    with pytest.raises(ImproperlyConfigured, match="CONSOLE_REQUIRE_2FA must be one of admin, operator, all, none"):
        env_choice("CONSOLE_REQUIRE_2FA", "none", ("admin", "operator", "all", "none"))


def test_env_int_refuses_out_of_range_port(monkeypatch):
    monkeypatch.setenv("TEST_PORT", "70000")
    with pytest.raises(ImproperlyConfigured, match="between 1 and 65535"):
        env_int("TEST_PORT", 8000, minimum=1, maximum=65535)


@pytest.mark.parametrize("raw", ["10 per minute", "ten/minute", "10/fortnight", "10"])
def test_env_rate_refuses_what_drf_could_not_read(monkeypatch, raw):
    monkeypatch.setenv("API_TOKEN_THROTTLE_RATE", raw)

    with pytest.raises(ImproperlyConfigured, match="API_TOKEN_THROTTLE_RATE must be a count per"):
        env_rate("API_TOKEN_THROTTLE_RATE", "10/minute")


def test_env_rate_takes_a_count_per_period(monkeypatch):
    monkeypatch.setenv("API_TOKEN_THROTTLE_RATE", "3/hour")

    assert env_rate("API_TOKEN_THROTTLE_RATE", "10/minute") == "3/hour"
