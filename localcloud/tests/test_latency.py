"""LOCALCLOUD_LATENCY_MS: a simulated network that delays every OSS and KMS answer, off by default and read per
request, so a test or a benchmark turns it on while localcloud runs."""

import time

import pytest
from alibabacloud_kms20160120 import models as kms_models
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.utils_models import Config
from django.conf import settings as django_settings

from localcloud import latency


@pytest.fixture
def existing(bucket):
    bucket.put_object("existing", b"kept")
    return bucket


@pytest.fixture
def kms(localcloud, credentials, settings):
    return Client(
        Config(
            access_key_id=credentials[0],
            access_key_secret=credentials[1],
            endpoint=localcloud.removeprefix("http://"),
            protocol="http",
            region_id=settings.LOCALCLOUD_REGION,
        )
    )


@pytest.fixture
def sleeps(monkeypatch):
    """The waits the knob asks for, still slept."""
    asked = []

    def sleep(seconds):
        asked.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(latency, "sleep", sleep)
    return asked


def _elapsed(call) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def test_latency_is_off_by_default_and_no_request_waits_for_it(existing, kms, sleeps):
    assert (django_settings.LOCALCLOUD_LATENCY_MS, django_settings.LOCALCLOUD_LATENCY_JITTER_MS) == (0, 0)

    existing.head_object("existing")
    kms.list_keys(kms_models.ListKeysRequest())

    assert latency.delay_seconds() == 0
    assert sleeps == []


def test_with_50_ms_of_latency_an_oss_head_and_a_kms_call_each_take_at_least_50_ms(existing, kms, settings, sleeps):
    settings.LOCALCLOUD_LATENCY_MS = 50

    assert _elapsed(lambda: existing.head_object("existing")) >= 0.05
    assert _elapsed(lambda: kms.list_keys(kms_models.ListKeysRequest())) >= 0.05
    assert sleeps == [0.05, 0.05]

    settings.LOCALCLOUD_LATENCY_MS = 0
    existing.head_object("existing")
    assert len(sleeps) == 2


def test_jitter_moves_each_wait_within_plus_or_minus_its_value_never_below_zero(settings):
    settings.LOCALCLOUD_LATENCY_MS, settings.LOCALCLOUD_LATENCY_JITTER_MS = 20, 5
    assert all(0.015 <= latency.delay_seconds() <= 0.025 for _ in range(200))

    settings.LOCALCLOUD_LATENCY_MS, settings.LOCALCLOUD_LATENCY_JITTER_MS = 0, 10
    waits = [latency.delay_seconds() for _ in range(200)]
    assert all(0 <= wait <= 0.01 for wait in waits)
    assert any(wait == 0 for wait in waits)
