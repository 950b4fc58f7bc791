"""encryption.services for KMS keys, against localcloud's KMS over HTTP: what the Keys pages and the API do."""

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from buckets.models import Bucket
from cloud.errors import CloudError, Conflict, ServiceError
from cloud.kms import KmsClient
from cloud.oss import OssClient
from encryption.services import keys as services

REGION = "cn-hangzhou"
DEFAULT_KMS_UPLOAD = {"x-oss-server-side-encryption": "KMS"}


@pytest.fixture
def key(cloud_connection, admin):
    change = services.create_key(
        actor=admin, connection=cloud_connection, region=REGION, spec="Aliyun_AES_256", alias="alias/app-data"
    )
    return change.key


@pytest.fixture
def scope(cloud_connection, admin, key):
    """The keyword arguments every change of `key` takes."""
    return {"actor": admin, "connection": cloud_connection, "region": REGION, "key_id": key.key_id}


def snapshot_bucket(connection, name: str, sse_key_id: str = "") -> Bucket:
    """A real bucket, and the console's snapshot of it with SSE-KMS as its default encryption."""
    OssClient(connection).create_bucket(name)
    return Bucket.objects.create(
        connection=connection,
        name=name,
        region=REGION,
        sse_method="kms",
        sse_key_id=sse_key_id,
        refreshed_at=timezone.now(),
    )


def default_oss_key(connection):
    return next(row for row in services.list_keys(connection, REGION) if row.key.is_default_oss_key)


def last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).first()


# Reading


def test_keys_are_listed_with_aliases_state_spec_and_origin(cloud_connection, admin, key):
    external = services.create_key(
        actor=admin, connection=cloud_connection, region=REGION, spec="Aliyun_SM4", origin="EXTERNAL"
    ).key
    listed = {row.key.key_id: row.key for row in services.list_keys(cloud_connection, REGION)}
    assert (listed[key.key_id].aliases, listed[key.key_id].state) == (("alias/app-data",), "Enabled")
    assert (listed[key.key_id].spec, listed[key.key_id].origin) == ("Aliyun_AES_256", "Aliyun_KMS")
    assert listed[key.key_id].display_name == f"alias/app-data({key.key_id})"
    assert (listed[external.key_id].aliases, listed[external.key_id].state) == ((), "PendingImport")
    assert (listed[external.key_id].spec, listed[external.key_id].origin) == ("Aliyun_SM4", "EXTERNAL")


def test_keys_belong_to_their_region(cloud_connection, admin, key):
    shanghai = services.create_key(actor=admin, connection=cloud_connection, region="cn-shanghai", spec="Aliyun_SM4")
    assert [row.key.key_id for row in services.list_keys(cloud_connection, "cn-shanghai")] == [shanghai.key.key_id]
    assert shanghai.key.arn.startswith("acs:kms:cn-shanghai:")
    assert shanghai.key.key_id not in [row.key.key_id for row in services.list_keys(cloud_connection, REGION)]


def test_a_region_the_connection_cannot_use_is_refused(cloud_connection):
    with pytest.raises(ServiceError, match="mars-north-1"):
        services.list_keys(cloud_connection, "mars-north-1")
    assert services.key_regions(cloud_connection)[0] == REGION


def test_used_by_names_the_buckets_whose_default_encryption_uses_the_key(cloud_connection, key):
    snapshot_bucket(cloud_connection, "by-id", key.key_id)
    snapshot_bucket(cloud_connection, "by-alias", "alias/app-data")
    snapshot_bucket(cloud_connection, "by-arn", key.arn)
    snapshot_bucket(cloud_connection, "default-key")
    rows = {row.key.key_id: row for row in services.list_keys(cloud_connection, REGION)}
    assert rows[key.key_id].used_by == ("by-alias", "by-arn", "by-id")
    assert services.get_key(cloud_connection, REGION, key.key_id).used_by == ("by-alias", "by-arn", "by-id")


def test_buckets_with_the_default_key_count_for_alias_acs_oss_once_it_exists(cloud_connection):
    snapshot_bucket(cloud_connection, "default-key")
    assert not any(row.key.is_default_oss_key for row in services.list_keys(cloud_connection, REGION))
    OssClient(cloud_connection).put_object("default-key", "k", b"x", DEFAULT_KMS_UPLOAD)
    row = default_oss_key(cloud_connection)
    assert row.key.aliases == ("alias/acs/oss",)
    assert row.used_by == ("default-key",)


# Changing: every change returns the key as KMS now describes it, and is audited


def test_every_change_works_and_is_audited_with_the_kms_request_id(cloud_connection, admin, key, scope):
    changes = [
        ("key.disable", services.disable_key(**scope), "Disabled"),
        ("key.enable", services.enable_key(**scope), "Enabled"),
        ("key.rotate", services.rotate_key(**scope), "Enabled"),
        ("key.alias.add", services.add_alias(**scope, alias="alias/second"), "Enabled"),
        ("key.alias.remove", services.remove_alias(**scope, alias="alias/second"), "Enabled"),
        ("key.deletion.schedule", services.schedule_deletion(**scope, pending_days=7), "PendingDeletion"),
        ("key.deletion.cancel", services.cancel_deletion(**scope), "Enabled"),
    ]
    for action, change, state in changes:
        event = last_event(action)
        assert change.key.state == state
        assert (event.outcome, event.target, event.request_id) == ("success", key.key_id, change.request_id)
        assert (event.actor, event.connection) == (admin, cloud_connection)
        assert event.after["state"] == state
    assert last_event("key.alias.add").after["aliases"] == ["alias/app-data", "alias/second"]
    assert last_event("key.deletion.schedule").after["pending_days"] == 7
    assert last_event("key.deletion.schedule").after["deletion_date"]
    assert last_event("key.disable").before["state"] == "Enabled"
    assert last_event("key.disable").before["aliases"] == ["alias/app-data"]
    assert KmsClient(cloud_connection).describe_key(key.key_id).last_rotation


def test_creating_a_key_with_an_alias_is_audited_as_both(cloud_connection, admin):
    change = services.create_key(
        actor=admin, connection=cloud_connection, region=REGION, spec="Aliyun_SM4", alias="alias/reports"
    )
    assert change.key.aliases == ("alias/reports",) and change.key.spec == "Aliyun_SM4"
    created = last_event("key.create")
    assert (created.outcome, created.target) == ("success", change.key.key_id)
    assert created.request_id and created.after["origin"] == "Aliyun_KMS" and created.after["region"] == REGION
    assert last_event("key.alias.add").request_id == change.request_id


def test_an_external_key_waits_for_its_material(cloud_connection, admin):
    change = services.create_key(
        actor=admin, connection=cloud_connection, region=REGION, spec="Aliyun_AES_256", origin="EXTERNAL"
    )
    assert (change.key.origin, change.key.state) == ("EXTERNAL", "PendingImport")


# Refusals: raised, and audited as failures


def test_kms_refusing_a_change_is_raised_and_audited_with_its_request_id(key, scope):
    services.schedule_deletion(**scope, pending_days=7)
    with pytest.raises(CloudError) as refused:
        services.enable_key(**scope)
    event = last_event("key.enable")
    assert (event.outcome, event.target) == ("failure", key.key_id)
    assert event.request_id == refused.value.request_id != ""
    assert event.error == refused.value.message
    assert KmsClient(scope["connection"]).describe_key(key.key_id).state == "PendingDeletion"


def test_an_alias_kms_would_not_take_is_refused_and_audited(key, scope):
    refusals = {
        "no-prefix": "starts with alias/",
        "alias/acs/mine": "belong to Alibaba Cloud services",
        "alias/has space": "letters, digits",
    }
    for alias, complaint in refusals.items():
        with pytest.raises(ServiceError, match=complaint):
            services.add_alias(**scope, alias=alias)
        event = last_event("key.alias.add")
        assert (event.outcome, event.target) == ("failure", key.key_id) and complaint in event.error
    assert KmsClient(scope["connection"]).describe_key(key.key_id).aliases == ("alias/app-data",)


def test_removing_an_alias_of_another_key_is_refused(cloud_connection, admin, scope):
    services.create_key(actor=admin, connection=cloud_connection, region=REGION, spec="Aliyun_SM4", alias="alias/b")
    with pytest.raises(ServiceError, match="not an alias of key"):
        services.remove_alias(**scope, alias="alias/b")
    assert KmsClient(cloud_connection).describe_key("alias/b").aliases == ("alias/b",)


def test_a_waiting_period_outside_7_to_366_days_is_refused(key, scope):
    for pending_days in (6, 367):
        with pytest.raises(ServiceError, match="7 to 366 days"):
            services.schedule_deletion(**scope, pending_days=pending_days)
        assert last_event("key.deletion.schedule").outcome == "failure"
    assert KmsClient(scope["connection"]).describe_key(key.key_id).state == "Enabled"


def test_a_taken_alias_refuses_the_new_key_before_it_is_created(cloud_connection, admin, key):
    keys_before = len(services.list_keys(cloud_connection, REGION))
    with pytest.raises(Conflict, match="alias/app-data is already taken"):
        services.create_key(
            actor=admin, connection=cloud_connection, region=REGION, spec="Aliyun_SM4", alias="alias/app-data"
        )
    assert len(services.list_keys(cloud_connection, REGION)) == keys_before
    event = last_event("key.create")
    assert (event.outcome, event.target) == ("failure", "alias/app-data")


def test_a_key_kms_does_not_know_is_a_cloud_error(cloud_connection, admin):
    scope = {"actor": admin, "connection": cloud_connection, "region": REGION}
    with pytest.raises(CloudError) as refused:
        services.disable_key(**scope, key_id="00000000-0000-4000-8000-000000000000")
    assert refused.value.status_code == 404
    assert last_event("key.disable").outcome == "failure"


def test_the_service_key_alias_acs_oss_is_never_changed(cloud_connection, admin):
    OssClient(cloud_connection).create_bucket("default-key")
    OssClient(cloud_connection).put_object("default-key", "k", b"x", DEFAULT_KMS_UPLOAD)
    service_key = default_oss_key(cloud_connection).key
    scope = {"actor": admin, "connection": cloud_connection, "region": REGION, "key_id": service_key.key_id}
    refusals = [
        ("key.disable", lambda: services.disable_key(**scope)),
        ("key.deletion.schedule", lambda: services.schedule_deletion(**scope, pending_days=7)),
        ("key.alias.add", lambda: services.add_alias(**scope, alias="alias/mine")),
        ("key.rotate", lambda: services.rotate_key(**scope)),
    ]
    for action, change in refusals:
        with pytest.raises(ServiceError, match="only the service changes it"):
            change()
        assert last_event(action).outcome == "failure"
    assert KmsClient(cloud_connection).describe_key(service_key.key_id) == service_key
