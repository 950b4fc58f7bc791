"""Where a connection may point, and what moving it takes: the console calls a connection's endpoints with
its credentials on any user's behalf, so a metadata address or a private range must not be one of them,
and a stored secret is never sent to a host it was not entered for."""

import pytest
from django.urls import reverse

from buckets.models import Connection
from buckets.services import connections as services
from cloud.endpoints import EndpointNotAllowed, allowed
from cloud.oss import OssClient

SECRET = "Endpoint-secret-that-must-never-travel-5150"
DEFAULT_PATTERNS = ["*.aliyuncs.com", "loopback"]


@pytest.fixture
def connection(db):
    return services.create_connection(
        actor=None,
        name="hangzhou",
        oss_endpoint="https://oss-cn-hangzhou.aliyuncs.com",
        region="cn-hangzhou",
        access_key_id="LTAI5tTestKeyId",
        access_key_secret=SECRET,
        save_anyway=True,  # out of this machine's reach; these rules need no cloud
    )


@pytest.mark.parametrize(
    ("host", "allowed_by_default"),
    [
        ("oss-cn-hangzhou.aliyuncs.com", True),
        ("KMS.CN-HANGZHOU.ALIYUNCS.COM", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("100.100.100.200", False),  # Alibaba Cloud's instance metadata service
        ("169.254.169.254", False),
        ("10.0.0.5", False),
        ("192.168.1.1", False),
        ("aliyuncs.com.attacker.example", False),
        ("evilaliyuncs.com", False),
    ],
)
def test_the_default_allow_list_is_alibaba_cloud_and_this_machine(host, allowed_by_default):
    assert allowed(host, DEFAULT_PATTERNS) is allowed_by_default


@pytest.mark.parametrize(
    "endpoint", ["http://100.100.100.200", "http://169.254.169.254:80", "https://10.0.0.5", "100.100.100.200"]
)
def test_an_admin_cannot_point_a_new_connection_at_a_metadata_address_or_private_range(db, endpoint):
    with pytest.raises(services.InvalidConnectionField) as refused:
        services.create_connection(
            actor=None,
            name="inside",
            oss_endpoint=endpoint,
            region="cn-hangzhou",
            access_key_id="LTAI5tTestKeyId",
            access_key_secret=SECRET,
        )

    assert refused.value.field == "oss_endpoint" and "CONSOLE_ENDPOINT_ALLOW" in refused.value.message
    assert not Connection.objects.exists()


def test_a_connection_stored_before_the_allow_list_changed_is_never_called(connection, settings):
    settings.CONSOLE_ENDPOINT_ALLOW = ["oss.internal.example"]

    with pytest.raises(EndpointNotAllowed):
        OssClient(connection)


def test_a_viewer_testing_such_a_connection_gets_a_refusal_not_a_request_to_it(client_as, viewer, connection, settings):
    Connection.objects.filter(pk=connection.pk).update(oss_endpoint="http://169.254.169.254")

    response = client_as(viewer).post(reverse("buckets:connection_test", args=[connection.pk]), follow=True)

    assert "CONSOLE_ENDPOINT_ALLOW" in response.content.decode()


def test_the_allow_list_can_name_a_private_endpoint(db, settings):
    settings.CONSOLE_ENDPOINT_ALLOW = ["oss.internal.example", "loopback"]

    created = services.create_connection(
        actor=None,
        name="private",
        oss_endpoint="https://oss.internal.example",
        region="cn-hangzhou",
        access_key_id="LTAI5tTestKeyId",
        access_key_secret=SECRET,
        save_anyway=True,
    )

    assert created.oss_endpoint == "https://oss.internal.example"


@pytest.mark.parametrize("field", ["oss_endpoint", "kms_endpoint"])
def test_moving_a_connection_needs_the_secret_again(connection, field):
    moved_to = {"oss_endpoint": "https://oss-cn-shanghai.aliyuncs.com", "kms_endpoint": "https://kms-vpc.aliyuncs.com"}

    with pytest.raises(services.InvalidConnectionField) as refused:
        services.update_connection(actor=None, connection=connection, **{field: moved_to[field]})

    assert refused.value.field == "access_key_secret"
    assert Connection.objects.get(pk=connection.pk).oss_endpoint == "https://oss-cn-hangzhou.aliyuncs.com"


def test_moving_a_connection_with_an_sts_token_needs_the_token_again_or_cleared(connection):
    services.update_connection(actor=None, connection=connection, sts_token="sts-token-for-hangzhou", save_anyway=True)

    with pytest.raises(services.InvalidConnectionField) as refused:
        services.update_connection(
            actor=None, connection=connection, oss_endpoint="http://127.0.0.1:9", access_key_secret=SECRET
        )
    moved = services.update_connection(
        actor=None,
        connection=connection,
        oss_endpoint="http://127.0.0.1:9",
        access_key_secret=SECRET,
        clear_sts_token=True,
        save_anyway=True,
    )

    assert refused.value.field == "sts_token"
    assert moved.oss_endpoint == "http://127.0.0.1:9" and not moved.sts_token


def test_an_edit_that_keeps_the_endpoints_keeps_the_stored_secret(connection):
    services.update_connection(
        actor=None, connection=connection, name="hangzhou-prod", region="cn-shanghai", save_anyway=True
    )

    assert Connection.objects.get(pk=connection.pk).access_key_secret == SECRET


def test_an_endpoint_written_as_alibaba_cloud_lists_it_gets_https(db):
    created = services.create_connection(
        actor=None,
        name="hangzhou",
        oss_endpoint="oss-cn-hangzhou.aliyuncs.com",
        region="cn-hangzhou",
        access_key_id="LTAI5tTestKeyId",
        access_key_secret=SECRET,
        kms_endpoint="kms.cn-hangzhou.aliyuncs.com",
        save_anyway=True,
    )

    assert (created.oss_endpoint, created.kms_endpoint) == (
        "https://oss-cn-hangzhou.aliyuncs.com",
        "https://kms.cn-hangzhou.aliyuncs.com",
    )
