"""The demo connection and data `make up` seeds into localcloud, read back through the console's client layers."""

import pytest

from audit.models import AuditEvent
from buckets.models import Connection
from buckets.services import objects
from cloud.errors import ServiceError
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule, OssClient
from console import demo
from console.testing.jobs import wait_for
from jobs.models import Job
from jobs.services import demo as first_scan
from localcloud.models import AccessKey


@pytest.fixture(autouse=True)
def few_log_objects(monkeypatch):
    """demo-logs gets 3 access logs instead of DEMO_LOG_OBJECTS (300): the same code path, without 297 uploads
    that took most of each test's seconds; test_the_logs_bucket_is_planned_with_objects_for_a_job_to_watch keeps
    the real number's purpose."""
    monkeypatch.setattr(demo, "DEMO_LOG_OBJECTS", 3)


@pytest.fixture
def seeded(localcloud):
    """The demo seeded as bootstrap does, while the test's localcloud plays the one `make up` starts later."""
    lines = []
    connection = demo.ensure_demo_connection(say=lines.append)
    return connection, lines


def test_the_logs_bucket_is_planned_with_objects_for_a_job_to_watch(monkeypatch):
    monkeypatch.undo()  # the real plan, not the few objects the seeding tests use
    logs = next(bucket for bucket in demo.demo_buckets() if bucket.name == "demo-logs")

    assert len(logs.before_default) == demo.DEMO_LOG_OBJECTS >= 3 * objects.PAGE_SIZE


def test_demo_connection_points_at_localcloud_with_working_credentials(seeded, localcloud, settings):
    connection, _ = seeded

    stored = Connection.objects.get(is_demo=True)
    assert stored == connection and stored.name == "localcloud (demo)"
    assert stored.oss_endpoint == localcloud and stored.region == settings.LOCALCLOUD_REGION
    assert {bucket.name for bucket in OssClient(stored).list_buckets()} >= {
        "demo-plain",
        "demo-aes256",
        "demo-sm4",
        "demo-kms-default",
        "demo-kms-named",
        "demo-versioned",
        "demo-logs",
    }


def test_demo_buckets_have_the_stated_defaults(seeded):
    connection, _ = seeded
    oss, kms = OssClient(connection), KmsClient(connection)
    app_key = kms.describe_key("alias/demo-app")

    assert oss.get_encryption("demo-plain") is None
    assert oss.get_encryption("demo-aes256") == EncryptionRule("AES256")
    assert oss.get_encryption("demo-sm4") == EncryptionRule("SM4")
    assert oss.get_encryption("demo-kms-default") == EncryptionRule("KMS")
    assert oss.get_encryption("demo-kms-named") == EncryptionRule("KMS", app_key.key_id, "SM4")
    assert oss.get_encryption("demo-logs") == EncryptionRule("AES256")


def test_objects_uploaded_before_a_kms_default_stay_unencrypted(seeded):
    connection, _ = seeded
    oss = OssClient(connection)

    before = oss.head_object("demo-kms-default", "logs/2026/11/app-18.log")
    after = oss.head_object("demo-kms-default", "logs/2026/11/app-21.log")
    overridden = oss.head_object("demo-kms-default", "reports/public-summary.html")

    assert before.header("x-oss-server-side-encryption") == ""
    assert after.header("x-oss-server-side-encryption") == "KMS"
    assert overridden.header("x-oss-server-side-encryption") == "AES256"
    assert before.header("content-type") == "text/plain" and before.user_metadata == {"service": "checkout"}
    assert oss.list_objects("demo-kms-default", prefix="logs/2026/").folders == ["logs/2026/11/"]


def test_the_versioned_bucket_keeps_unencrypted_older_versions_under_encrypted_current_ones(seeded):
    connection, _ = seeded
    oss = OssClient(connection)

    versions = oss.list_object_versions("demo-versioned", prefix="ledgers/").versions

    assert oss.versioning("demo-versioned") == "Enabled" and len(versions) == 6
    for version in versions:
        head = oss.head_object("demo-versioned", version.key, version.version_id)
        assert head.header("x-oss-server-side-encryption") == ("KMS" if version.is_latest else "")


def test_the_first_scan_shows_the_versioned_bucket_s_exposed_history_on_the_overview_once(
    seeded, worker, client_as, viewer
):
    scan = wait_for(first_scan.start_first_scan())

    assert scan.bucket == "demo-versioned" and scan.state == Job.COMPLETED
    overview = client_as(viewer).get("/").content.decode()
    assert "Exposed history:" in overview and "3 noncurrent versions" in overview
    assert first_scan.start_first_scan() is None


def test_named_kms_bucket_mixes_per_object_encryption(seeded):
    connection, _ = seeded
    oss = OssClient(connection)
    app_key = KmsClient(connection).describe_key("alias/demo-app")

    legacy = oss.head_object("demo-kms-named", "backups/2026-11-01/db.sql.gz")
    current = oss.head_object("demo-kms-named", "backups/2026-11-20/db.sql.gz")
    default_key = oss.head_object("demo-kms-named", "media/upload-0001.jpg")

    assert legacy.header("x-oss-server-side-encryption") == ""
    assert current.header("x-oss-server-side-encryption") == "KMS"
    assert current.header("x-oss-server-side-encryption-key-id") == app_key.key_id
    assert current.header("x-oss-server-side-data-encryption") == "SM4"
    assert default_key.header("x-oss-server-side-encryption-key-id") != app_key.key_id


def test_one_object_carries_client_side_encryption_metadata_as_crypto_bucket_writes_it(seeded):
    connection, _ = seeded

    head = OssClient(connection).head_object("demo-kms-named", "contracts/2026/acme-master-agreement.pdf")

    metadata = head.user_metadata
    assert metadata["client-side-encryption-cek-alg"] == "AES/CTR/NoPadding"
    assert metadata["client-side-encryption-wrap-alg"] == "RSA/NONE/PKCS1Padding"
    assert metadata["client-side-encryption-key"] and metadata["client-side-encryption-start"]
    assert metadata["client-side-encryption-matdesc"].startswith("{")
    assert metadata["client-side-encryption-unencrypted-content-length"] == str(head.size)


def test_tags_and_metadata_are_seeded(seeded):
    connection, _ = seeded
    oss = OssClient(connection)

    assert oss.object_tags("demo-kms-default", "reports/2026-11-weekly.csv") == {"team": "finance", "retention": "1y"}
    assert oss.object_tags("demo-plain", "exports/customers-2026-10.csv") == {"classification": "confidential"}
    assert oss.head_object("demo-plain", "docs/handbook.md").user_metadata == {"owner": "hr"}


def test_demo_keys_one_enabled_one_disabled(seeded):
    connection, _ = seeded
    kms = KmsClient(connection)

    assert kms.describe_key("alias/demo-app").state == "Enabled"
    assert kms.describe_key("alias/demo-retired").state == "Disabled"


def test_seeding_is_audited_once_without_secrets(seeded):
    connection, _ = seeded

    event = AuditEvent.objects.get(action="demo.seed")
    assert event.actor is None and event.outcome == AuditEvent.SUCCESS and event.connection == connection
    assert event.after["buckets"]["demo-sm4"] == "OSS-managed SM4"
    assert event.after["buckets"]["demo-kms-default"] == "KMS AES256 alias/acs/oss"
    assert connection.access_key_secret not in str(event.before) + str(event.after) + event.error


def test_every_step_prints_one_line_without_the_secret(seeded):
    connection, lines = seeded

    assert any("KMS key alias/demo-app(" in line and "created" in line for line in lines)
    assert any("alias/demo-retired(" in line and "disabled" in line for line in lines)
    assert sum(line.startswith("demo: bucket demo-") for line in lines) == len(demo.demo_buckets()) == 7
    assert lines[-1] == f"demo: connection 'localcloud (demo)' saved for {connection.oss_endpoint} (cn-hangzhou)"
    assert all(connection.access_key_secret not in line for line in lines)


def test_a_second_run_changes_nothing_and_says_so(seeded):
    connection, _ = seeded
    counts = (Connection.objects.count(), AccessKey.objects.count(), AuditEvent.objects.count())
    buckets = OssClient(connection).list_buckets()
    lines = []

    again = demo.ensure_demo_connection(say=lines.append)

    assert again == connection
    assert lines == ["demo: connection 'localcloud (demo)' exists: nothing to do"]
    assert (Connection.objects.count(), AccessKey.objects.count(), AuditEvent.objects.count()) == counts
    assert OssClient(connection).list_buckets() == buckets


def test_a_deleted_demo_connection_comes_back_reusing_the_seeded_data(seeded):
    connection, _ = seeded
    app_key = KmsClient(connection).describe_key("alias/demo-app").key_id
    connection.delete()
    lines = []

    recreated = demo.ensure_demo_connection(say=lines.append)

    assert recreated.is_demo and recreated.pk != connection.pk
    assert f"demo: KMS key alias/demo-app({app_key}) exists" in lines
    assert "demo: bucket demo-kms-named exists: left as it is" in lines
    assert OssClient(recreated).get_encryption("demo-kms-named") == EncryptionRule("KMS", app_key, "SM4")


def test_nothing_is_seeded_when_localcloud_is_disabled(db, settings):
    settings.LOCALCLOUD_ENABLED = False
    lines = []

    assert demo.ensure_demo_connection(say=lines.append) is None

    assert not Connection.objects.exists() and not AccessKey.objects.exists()
    assert lines == ["demo: localcloud is disabled (LOCALCLOUD_ENABLED), so there is no demo connection"]


def test_a_failed_seeding_leaves_no_connection_and_retires_its_access_key(localcloud, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("localcloud cannot store blobs under a file")
    settings.LOCALCLOUD_DATA_DIR = blocker / "localcloud"

    with pytest.raises(ServiceError) as failed:
        demo.ensure_demo_connection(say=lambda line: None)

    assert not Connection.objects.exists()
    assert not AccessKey.objects.filter(is_active=True, description="demo connection").exists()
    event = AuditEvent.objects.get(action="demo.seed")
    assert event.outcome == AuditEvent.FAILURE and event.error == failed.value.message
