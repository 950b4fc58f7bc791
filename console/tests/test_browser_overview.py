"""The Overview in a real browser: the real state on the very first visit, read from the cloud after the page."""

from collections import Counter

from playwright.sync_api import expect

from accounts.services import create_user
from buckets.models import Bucket
from cloud.oss import EncryptionRule, OssClient
from console.testing.browser import assert_accessible, log_in
from console.testing.cloud import named_key

PASSWORD = "Browser-Overview-Passw0rd"


def test_the_first_visit_shows_every_bucket_of_the_cloud_by_default_encryption(page, console_server, cloud_connection):
    oss = OssClient(cloud_connection)
    key_id = named_key(cloud_connection, "alias/overview")
    rules = {
        "plain-a": None,
        "plain-b": None,
        "oss-sm4": EncryptionRule("SM4"),
        "kms-default": EncryptionRule("KMS"),
        "kms-named": EncryptionRule("KMS", key_id, "SM4"),
    }
    for name, rule in rules.items():
        oss.create_bucket(name)
        if rule is not None:
            oss.put_encryption(name, rule)
    assert not Bucket.objects.exists()  # the console has never listed this connection
    create_user(actor=None, username="vera", role="viewer", password=PASSWORD)

    log_in(page, console_server, "vera", PASSWORD)

    card = page.locator("section", has=page.get_by_role("heading", name="Bucket default encryption"))
    expect(card).not_to_have_attribute("aria-busy", "true")
    shown = {
        row.locator("td").nth(0).inner_text(): int(row.locator("td").nth(1).inner_text())
        for row in card.locator("tbody tr").all()
    }
    in_the_cloud = Counter(_label(oss.get_encryption(bucket.name), key_id) for bucket in oss.list_buckets())
    assert shown == dict(in_the_cloud)
    assert shown == {
        "None": 2,
        "OSS-managed SM4": 1,
        "KMS AES256 alias/acs/oss": 1,
        f"KMS SM4 alias/overview({key_id})": 1,
    }
    assert_accessible(page)


def _label(rule: EncryptionRule | None, key_id: str) -> str:
    if rule is None:
        return "None"
    if rule.algorithm != "KMS":
        return f"OSS-managed {rule.algorithm}"
    key = f"alias/overview({key_id})" if rule.kms_key_id == key_id else "alias/acs/oss"
    return f"KMS {rule.kms_data_encryption or 'AES256'} {key}"


def test_the_system_status_names_a_missing_worker_without_holding_up_the_page(page, console_server, cloud_connection):
    from console import worker_presence

    worker_presence.redis_client(timeout=1).delete(worker_presence.PRESENCE_KEY)
    create_user(actor=None, username="adam", role="admin", password=PASSWORD)

    log_in(page, console_server, "adam", PASSWORD)

    status = page.locator("section", has=page.get_by_role("heading", name="System status"))
    expect(status.get_by_text("attention needed")).to_be_visible()
    expect(status.get_by_role("row", name="worker")).to_contain_text("no Celery worker seen in the last 30 s")
    expect(status.get_by_role("row", name="localcloud")).to_contain_text("ok")
