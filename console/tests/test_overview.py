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
