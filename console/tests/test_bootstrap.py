"""`manage.py bootstrap`, the first step of `make up`: the demo connection and its data, once."""

import io

import pytest
from django.core.management import call_command

from buckets.models import Connection
from cloud.oss import OssClient
from console import demo


@pytest.fixture
def bootstrap(localcloud, settings, tmp_path, monkeypatch):
    """Runs the command as `make up` does; the test's localcloud stands in for the one honcho starts next."""
    monkeypatch.delenv("CONSOLE_ADMIN_PASSWORD", raising=False)
    # 3 access logs in demo-logs instead of 300: the same seeding, without 297 uploads (buckets/tests/test_demo.py).
    monkeypatch.setattr(demo, "DEMO_LOG_OBJECTS", 3)
    settings.VAR_DIR = tmp_path
    settings.CONSOLE_ADMIN_USER = "boot-admin"

    def run() -> tuple[str, str]:
        out, err = io.StringIO(), io.StringIO()
        call_command("bootstrap", stdout=out, stderr=err)
        return out.getvalue(), err.getvalue()

    return run


def test_bootstrap_creates_the_demo_connection_with_its_buckets_then_has_nothing_to_do(bootstrap):
    first, first_errors = bootstrap()
    second, second_errors = bootstrap()

    demo = Connection.objects.get(is_demo=True)
    buckets = {bucket.name for bucket in OssClient(demo).list_buckets()}
    assert {"demo-plain", "demo-aes256", "demo-sm4", "demo-kms-default", "demo-kms-named"} <= buckets
    assert "demo: localcloud AccessKey created for the demo connection" in first
    assert "demo: connection 'localcloud (demo)' saved for" in first
    assert [line for line in second.splitlines() if line.startswith("demo:")] == [
        "demo: connection 'localcloud (demo)' exists: nothing to do"
    ]
    assert first_errors == second_errors == ""
    assert demo.access_key_secret not in first + second


def test_bootstrap_reports_a_failed_seeding_and_still_finishes(bootstrap, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("localcloud cannot store blobs under a file")
    settings.LOCALCLOUD_DATA_DIR = blocker / "localcloud"

    output, errors = bootstrap()

    assert "admin account 'boot-admin' created" in output
    assert errors.startswith("demo data not created: OSS InternalError")
    assert errors.rstrip().endswith("the next bootstrap tries again")
    assert not Connection.objects.exists()


def test_bootstrap_skips_the_demo_without_localcloud(bootstrap, settings):
    settings.LOCALCLOUD_ENABLED = False

    output, _ = bootstrap()

    assert "demo: localcloud is disabled (LOCALCLOUD_ENABLED), so there is no demo connection" in output
    assert not Connection.objects.exists()
