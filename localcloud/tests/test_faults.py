"""LOCALCLOUD_FAULTS: injected transient failures as oss2 and the KMS SDK see them, decided before a request has
any effect; parsed from the environment at startup and re-read per request, so each test turns them on."""

import logging
import os
import subprocess
import sys

import oss2
import pytest
import requests
from alibabacloud_kms20160120 import models as kms_models
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.exceptions import ServerException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import RetryError, UnretryableException
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from console.env import env_probabilities, parse_probabilities
from localcloud import faults


def _oss_calls(bucket, service):
    """One call per kind of request: GET, HEAD (error in x-oss-err), PUT, DELETE, a service-level GET."""
    return {
        "GetObject": lambda: bucket.get_object("existing").read(),
        "HeadObject": lambda: bucket.head_object("existing"),
        "PutObject": lambda: bucket.put_object("written-under-faults", b"new"),
        "DeleteObject": lambda: bucket.delete_object("existing"),
        "ListBuckets": lambda: service.list_buckets(),
    }


@pytest.fixture
def existing(bucket):
    bucket.put_object("existing", b"kept")
    return bucket


def test_faults_are_off_by_default(existing, service):
    assert django_settings.LOCALCLOUD_FAULTS == ""

    for _ in range(20):
        assert existing.head_object("existing").content_length == 4
    assert [b.name for b in service.list_buckets().buckets] == [existing.bucket_name]


def test_503_answers_every_request_with_service_unavailable_and_changes_nothing(existing, service, settings):
    settings.LOCALCLOUD_FAULTS = "503:1"

    request_ids = set()
    for name, call in _oss_calls(existing, service).items():
        with pytest.raises(oss2.exceptions.ServerError) as caught:
            call()
        error = caught.value
        assert (error.status, error.code) == (503, "ServiceUnavailable"), name
        assert len(error.request_id) == 24, name
        assert error.details["RequestId"] == error.request_id, name
        request_ids.add(error.request_id)
    assert len(request_ids) == 5

    settings.LOCALCLOUD_FAULTS = ""
    assert existing.get_object("existing").read() == b"kept"
    assert not existing.object_exists("written-under-faults")


def test_500_and_throttle_answer_with_their_oss_errors(existing, settings):
    expected = {
        "500:1": (500, "InternalError", "We encountered an internal error. Please try again."),
        "throttle:1": (503, "Throttling", "Request was denied due to request throttling."),
    }
    for value, (status, code, message) in expected.items():
        settings.LOCALCLOUD_FAULTS = value
        for call in (lambda: existing.put_object("written-under-faults", b"new"), lambda: existing.head_object("x")):
            with pytest.raises(oss2.exceptions.ServerError) as caught:
                call()
            assert (caught.value.status, caught.value.code, caught.value.message) == (status, code, message)
            assert caught.value.request_id

    settings.LOCALCLOUD_FAULTS = ""
    assert not existing.object_exists("written-under-faults")


def test_reset_drops_the_connection_without_a_response(existing, service, localcloud, settings):
    settings.LOCALCLOUD_FAULTS = "reset:1"

    for name, call in _oss_calls(existing, service).items():
        with pytest.raises(oss2.exceptions.RequestError) as caught:
            call()
        assert isinstance(caught.value.exception, requests.ConnectionError), name
    # A large body the server never reads: the client may see the reset while still sending.
    with pytest.raises(oss2.exceptions.RequestError):
        existing.put_object("written-under-faults", b"x" * (4 * 1024 * 1024))
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{localcloud}/", timeout=5)

    settings.LOCALCLOUD_FAULTS = ""
    assert existing.get_object("existing").read() == b"kept"
    assert not existing.object_exists("written-under-faults")


def test_a_seeded_half_fails_about_half_the_requests_reproducibly(existing, settings):
    settings.LOCALCLOUD_FAULTS, settings.LOCALCLOUD_FAULTS_SEED = "503:0.5", 20240611

    def outcomes(count: int) -> list[bool]:
        failed = []
        for _ in range(count):
            try:
                existing.head_object("existing")
                failed.append(False)
            except oss2.exceptions.ServerError as error:
                assert (error.status, error.code) == (503, "ServiceUnavailable")
                failed.append(True)
        return failed

    first = outcomes(200)
    assert 60 <= sum(first) <= 140
    settings.LOCALCLOUD_FAULTS_SEED = 20240611  # setting it again starts the same sequence again
    assert outcomes(200) == first

    written, refused = [], []
    for number in range(30):
        key = f"put-{number}"
        try:
            existing.put_object(key, b"data")
            written.append(key)
        except oss2.exceptions.ServerError as error:
            assert error.status == 503
            refused.append(key)
    assert written and refused
    settings.LOCALCLOUD_FAULTS = ""
    assert all(existing.object_exists(key) for key in written)
    assert not any(existing.object_exists(key) for key in refused)


def test_kms_requests_get_the_kms_error_json(localcloud, credentials, settings):
    kms = Client(
        Config(
            access_key_id=credentials[0],
            access_key_secret=credentials[1],
            endpoint=localcloud.removeprefix("http://"),
            protocol="http",
            region_id=settings.LOCALCLOUD_REGION,
        )
    )
    assert kms.list_keys(kms_models.ListKeysRequest()).status_code == 200

    settings.LOCALCLOUD_FAULTS = "503:1"
    with pytest.raises(ServerException) as caught:
        kms.list_keys(kms_models.ListKeysRequest())
    assert (caught.value.status_code, caught.value.code) == (503, "ServiceUnavailableTemporary")
    assert caught.value.data["RequestId"]
    response = requests.post(f"{localcloud}/", headers={"x-acs-action": "ListKeys"}, timeout=5)
    assert response.status_code == 503
    assert response.json()["RequestId"] == response.headers["x-acs-request-id"]

    settings.LOCALCLOUD_FAULTS = "throttle:1"
    with pytest.raises(ServerException) as caught:
        kms.create_key(kms_models.CreateKeyRequest())
    assert (caught.value.status_code, caught.value.code) == (503, "Throttling")

    settings.LOCALCLOUD_FAULTS = "reset:1"
    with pytest.raises(UnretryableException) as caught:
        kms.create_key(kms_models.CreateKeyRequest())
    assert isinstance(caught.value.inner_exception, RetryError)

    settings.LOCALCLOUD_FAULTS = ""
    assert kms.list_keys(kms_models.ListKeysRequest()).body.total_count == 0


def test_each_fault_is_logged_without_headers_or_query(existing, settings, caplog):
    settings.LOCALCLOUD_FAULTS = "throttle:1"
    url = existing.sign_url("GET", "existing", 60)

    with caplog.at_level(logging.INFO, logger="localcloud"):
        assert requests.get(url, headers={"x-oss-meta-secret": "hush"}, timeout=5).status_code == 503

    lines = [record.getMessage() for record in caplog.records if record.name == "localcloud"]
    assert lines == [f"injected fault throttle: GET /{existing.bucket_name}/existing"]
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "Signature" not in logged and "hush" not in logged


@pytest.mark.parametrize(
    ("value", "entry"),
    [
        ("503", "'503'"),
        ("503:", "'503:'"),
        ("timeout:0.1", "'timeout'"),
        ("503:often", "'503:often'"),
        ("503:1.5", "'503:1.5'"),
        ("500:-0.1", "'500:-0.1'"),
        ("503:nan", "'503:nan'"),
        ("503:0.6,reset:0.6", "'503:0.6,reset:0.6'"),
        ("503:0.1,503:0.2", "'503'"),
    ],
)
def test_malformed_values_are_refused_naming_the_variable_and_entry(monkeypatch, value, entry):
    with pytest.raises(ImproperlyConfigured, match="^LOCALCLOUD_FAULTS: ") as caught:
        parse_probabilities("LOCALCLOUD_FAULTS", value, faults.KINDS)
    assert entry in str(caught.value)

    monkeypatch.setenv("LOCALCLOUD_FAULTS", value)
    with pytest.raises(ImproperlyConfigured, match="^LOCALCLOUD_FAULTS: "):
        env_probabilities("LOCALCLOUD_FAULTS", faults.KINDS)


def test_valid_values_parse():
    assert parse_probabilities("X", " 503:0.05 , reset:0.01,", faults.KINDS) == {"503": 0.05, "reset": 0.01}
    assert parse_probabilities("X", "503:0.25,500:0.25,throttle:0.25,reset:0.25", faults.KINDS)["reset"] == 0.25
    assert parse_probabilities("X", "", faults.KINDS) == {}


def _load_settings(tmp_path, value: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "LOCALCLOUD_FAULTS": value, "CONSOLE_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", "import console.settings"],
        env=environment,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_startup_fails_on_a_bad_value_and_accepts_every_kind(tmp_path):
    failed = _load_settings(tmp_path, "503:0.1,oops:0.1")
    assert failed.returncode != 0
    assert "ImproperlyConfigured: LOCALCLOUD_FAULTS: unknown kind 'oops' in 'oops:0.1'" in failed.stderr

    every_kind = ",".join(f"{kind}:0.1" for kind in faults.KINDS)
    assert _load_settings(tmp_path, every_kind).returncode == 0
