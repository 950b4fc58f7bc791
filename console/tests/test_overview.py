"""The Overview page: bucket default encryption at a glance and the latest changes, for those who may see them."""

import pytest
from django.utils import timezone

from audit.services import record
from buckets.models import Bucket, Connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def buckets():
    connection = Connection(name="prod", oss_endpoint="https://oss-cn-hangzhou.aliyuncs.com", region="cn-hangzhou")
    connection.set_credentials("LTAIexample", "never-shown-secret")
    connection.save()
    for name, method, label in [("a", "none", "None"), ("b", "none", "None"), ("c", "kms", "KMS SM4 alias/app(k1)")]:
        Bucket.objects.create(
            connection=connection, name=name, sse_method=method, sse_label=label, refreshed_at=timezone.now()
        )


def test_viewers_see_buckets_per_default_encryption_unencrypted_first(client_as, viewer, buckets):
    page = client_as(viewer).get("/").content.decode()
    assert page.index("None") < page.index("KMS SM4 alias/app(k1)")
    assert "never-shown-secret" not in page


def test_the_latest_changes_are_listed_with_failures_marked(client_as, viewer, admin):
    record("key.disable", actor=admin, target="key-7", outcome="failure", error="refused")
    page = client_as(viewer).get("/").content.decode()
    assert "key.disable" in page and "key-7" in page and "failure" in page


def test_a_user_without_a_role_sees_neither(client_as, outsider, buckets):
    page = client_as(outsider).get("/").content.decode()
    assert "Bucket default encryption" not in page and "Recent changes" not in page


def test_the_overview_answers_from_the_snapshot_and_marks_a_stale_one_for_reading_after_the_page(
    client_as, viewer, cloud_connection
):
    from cloud.oss import EncryptionRule, OssClient

    oss = OssClient(cloud_connection)
    oss.create_bucket("first-visit")
    oss.put_encryption("first-visit", EncryptionRule("SM4"))
    client = client_as(viewer)

    page = client.get("/").content.decode()

    assert 'data-refresh="/overview/buckets/"' in page
    assert not Bucket.objects.exists()
    card = client.get("/overview/buckets/").content.decode()
    assert "OSS-managed SM4" in card
    assert Bucket.objects.get(name="first-visit").sse_label == "OSS-managed SM4"
    assert "data-refresh" not in client.get("/").content.decode()


def test_the_bucket_card_is_for_those_who_may_see_buckets(client_as, outsider):
    assert client_as(outsider).get("/overview/buckets/").status_code == 403
