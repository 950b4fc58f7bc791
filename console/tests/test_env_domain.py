"""LOCALCLOUD_DOMAIN is read as a DNS name that bucket and KMS labels go in front of, or refused at startup."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from console.env import env_domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("localcloud.internal", "localcloud.internal"),
        (" OSS.LocalCloud.Test. ", "oss.localcloud.test"),
        ("localcloud", "localcloud"),
    ],
)
def test_a_domain_is_read_lower_cased_without_its_trailing_dot(monkeypatch, raw, expected):
    monkeypatch.setenv("LOCALCLOUD_DOMAIN", raw)
    assert env_domain("LOCALCLOUD_DOMAIN") == expected


def test_an_unset_domain_is_empty(monkeypatch):
    monkeypatch.delenv("LOCALCLOUD_DOMAIN", raising=False)
    assert env_domain("LOCALCLOUD_DOMAIN") == ""


@pytest.mark.parametrize(
    "raw", ["127.0.0.1", "http://localcloud.test", "localcloud.test:9900", "bad_name.test", "a..b", "-x.test"]
)
def test_anything_but_a_host_name_is_refused_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("LOCALCLOUD_DOMAIN", raw)
    with pytest.raises(ImproperlyConfigured, match="LOCALCLOUD_DOMAIN"):
        env_domain("LOCALCLOUD_DOMAIN")
