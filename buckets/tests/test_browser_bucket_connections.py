"""Create bucket lands on the connection chosen in the form's select, checked on the cloud side.

localcloud is one account: every active key sees every bucket. So that only the chosen connection can have
made the bucket, the key of the connection not chosen is disabled in localcloud before each create: a
PutBucket signed with it would be refused (InvalidAccessKeyId) and no bucket would appear.
"""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.services import create_user
from buckets.models import Bucket, Connection
from cloud.oss import OssClient
from console.testing.browser import log_in
from localcloud.accesskeys import create_access_key, deactivate_access_key

PASSWORD = "Browser-Bucket-Connections-Passw0rd"


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def localcloud_connection(name: str, endpoint: str) -> Connection:
    connection = Connection(name=name, oss_endpoint=endpoint, region=settings.LOCALCLOUD_REGION)
    connection.set_credentials(*create_access_key(f"connection {name}"))
    connection.save()
    return connection


def give_a_new_key(connection: Connection) -> None:
    connection.set_credentials(*create_access_key(f"connection {connection.name}, new key"))
    connection.save()


def create_bucket_on(page, console_server: str, connection: Connection, name: str) -> None:
    page.goto(f"{console_server}/buckets/new/")
    page.get_by_label("Connection", exact=True).select_option(label=f"{connection.name} ({connection.region})")
    expect(page.get_by_label("Connection", exact=True)).to_have_value(str(connection.pk))
    page.get_by_label("Bucket name").fill(name)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=f"Bucket {name}")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Bucket {name} created on {connection.name}.")


def test_each_bucket_is_created_on_the_connection_chosen_in_the_select_and_switching_back_works(
    page, console_server, localcloud
):
    first = localcloud_connection("alpha", localcloud)
    second = localcloud_connection("beta", localcloud)
    create_user(actor=None, username="admin-in-browser", role="admin", password=PASSWORD)
    log_in(page, console_server, "admin-in-browser", PASSWORD)

    deactivate_access_key(first.access_key_id)
    create_bucket_on(page, console_server, second, "made-through-beta")

    assert OssClient(second).bucket_details("made-through-beta").summary.name == "made-through-beta"
    assert Bucket.objects.get(name="made-through-beta").connection == second

    give_a_new_key(first)
    deactivate_access_key(second.access_key_id)
    create_bucket_on(page, console_server, first, "made-through-alpha")

    assert OssClient(first).bucket_details("made-through-alpha").summary.name == "made-through-alpha"
    assert Bucket.objects.get(name="made-through-alpha").connection == first
    assert sorted(bucket.name for bucket in OssClient(first).list_buckets()) == [
        "made-through-alpha",
        "made-through-beta",
    ]
