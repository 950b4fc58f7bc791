"""The bucket list across connections: snapshot refresh, labels per encryption state, filters, pages, warnings."""

import pytest
from django.utils import timezone

from buckets.models import Bucket, Connection
from buckets.services.buckets import refresh_buckets
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule, OssClient


@pytest.fixture
def five_states(cloud_connection):
    """One bucket in each encryption state the list distinguishes; returns the expected label per bucket."""
    kms = KmsClient(cloud_connection)
    key, _ = kms.create_key(description="finance")
    kms.create_alias(key.key_id, "alias/finance")
    rules = {
        "plain": None,
        "oss-aes": EncryptionRule("AES256"),
        "oss-sm4": EncryptionRule("SM4"),
        "kms-default": EncryptionRule("KMS"),
        "kms-named": EncryptionRule("KMS", key.key_id, "SM4"),
    }
    oss = OssClient(cloud_connection)
    for name, rule in rules.items():
        oss.create_bucket(name)
        if rule:
            oss.put_encryption(name, rule)
    return {
        "plain": "None",
        "oss-aes": "OSS-managed AES256",
        "oss-sm4": "OSS-managed SM4",
        "kms-default": "KMS AES256 alias/acs/oss",
        "kms-named": f"KMS SM4 alias/finance({key.key_id})",
    }


def _labels() -> dict[str, str]:
    return dict(Bucket.objects.values_list("name", "sse_label"))


def test_refresh_labels_every_encryption_state_as_the_oss_console_does(cloud_connection, five_states):
    outcome = refresh_buckets(cloud_connection)

    assert outcome.error == ""
    assert _labels() == five_states
    named = Bucket.objects.get(name="kms-named")
    assert (named.sse_method, named.sse_algorithm, named.region) == ("kms", "SM4", "cn-hangzhou")
    assert named.created is not None and named.storage_class == "Standard"


def test_refresh_forgets_buckets_that_are_gone_and_updates_changed_ones(cloud_connection):
    OssClient(cloud_connection).create_bucket("kept")
    Bucket.objects.create(connection=cloud_connection, name="deleted-elsewhere", refreshed_at=timezone.now())
    Bucket.objects.create(
        connection=cloud_connection, name="kept", sse_method="oss", sse_label="stale", refreshed_at=timezone.now()
    )

    refresh_buckets(cloud_connection)

    assert _labels() == {"kept": "None"}


def test_list_page_shows_every_label_and_marks_unencrypted_buckets(client_as, viewer, five_states):
    page = client_as(viewer).get("/buckets/")

    assert page.status_code == 200
    html = page.content.decode()
    for name, label in five_states.items():
        assert f">{name}</a>" in html and label in html
    assert '<span class="badge warn">None</span>' in html
    assert '<span class="badge ok">OSS-managed SM4</span>' in html
    assert [(c["state"], c["count"]) for c in page.context["counts"]] == [
        ("none", 1),
        ("oss-aes256", 1),
        ("oss-sm4", 1),
        ("kms-default", 1),
        ("kms-named", 1),
    ]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("encryption=none", {"plain"}),
        ("encryption=oss-aes256", {"oss-aes"}),
        ("encryption=oss-sm4", {"oss-sm4"}),
        ("encryption=kms-default", {"kms-default"}),
        ("encryption=kms-named", {"kms-named"}),
        ("q=KMS", {"kms-default", "kms-named"}),
        ("q=oss&encryption=oss-sm4", {"oss-sm4"}),
    ],
)
def test_list_page_filters_by_encryption_state_and_searches_by_name(client_as, viewer, five_states, query, expected):
    page = client_as(viewer).get(f"/buckets/?{query}")

    assert {bucket.name for bucket in page.context["page"].object_list} == expected


def test_state_counts_follow_the_search_but_not_the_state_filter(client_as, viewer, five_states):
    page = client_as(viewer).get("/buckets/?q=kms&encryption=kms-named")

    counts = {c["state"]: c["count"] for c in page.context["counts"]}
    assert counts == {"none": 0, "oss-aes256": 0, "oss-sm4": 0, "kms-default": 1, "kms-named": 1}


def test_api_lists_with_the_same_filters(api_as, viewer, five_states, cloud_connection):
    client = api_as(viewer)

    def names(query):
        response = client.get(f"/api/v1/buckets/?{query}")
        assert response.status_code == 200
        return {row["name"] for row in response.json()["results"]}

    assert names("") == set(five_states)
    assert names("encryption=kms-named") == {"kms-named"}
    assert names("method=oss&algorithm=SM4") == {"oss-sm4"}
    assert names("method=kms") == {"kms-default", "kms-named"}
    assert names("q=aes") == {"oss-aes"}
    assert names(f"connection={cloud_connection.pk}") == set(five_states)
    row = client.get("/api/v1/buckets/?q=kms-named").json()["results"][0]
    assert row["encryption"]["label"] == five_states["kms-named"]
    assert row["encryption"]["state"] == "kms-named" and row["region_name"] == "China (Hangzhou)"
    assert client.get("/api/v1/buckets/?encryption=sometimes").status_code == 400


def test_a_fresh_snapshot_is_reused_so_a_new_bucket_shows_only_after_a_refresh(client_as, viewer, cloud_connection):
    OssClient(cloud_connection).create_bucket("first")
    client = client_as(viewer)
    client.get("/buckets/")

    OssClient(cloud_connection).create_bucket("second")

    assert [b.name for b in client.get("/buckets/").context["page"].object_list] == ["first"]


def test_refreshing_reads_the_buckets_again_and_goes_back_to_the_list_shown(client_as, viewer, cloud_connection):
    OssClient(cloud_connection).create_bucket("first")
    client = client_as(viewer)
    client.get("/buckets/")
    OssClient(cloud_connection).create_bucket("second")

    refreshed = client.post("/buckets/refresh/", {"next": "/buckets/?q=s"}, follow=True)

    assert refreshed.redirect_chain == [("/buckets/?q=s", 302)]
    assert {b.name for b in refreshed.context["page"].object_list} == {"first", "second"}


def test_the_api_refreshes_the_snapshot_when_asked(api_as, viewer, cloud_connection):
    OssClient(cloud_connection).create_bucket("first")
    client = api_as(viewer)
    client.get("/api/v1/buckets/")
    OssClient(cloud_connection).create_bucket("second")

    listed = client.get("/api/v1/buckets/?refresh=true").json()

    assert {row["name"] for row in listed["results"]} == {"first", "second"}


def test_refresh_goes_back_to_the_list_only(client_as, viewer, db):
    response = client_as(viewer).post("/buckets/refresh/", {"next": "https://elsewhere.example/"})

    assert response.status_code == 302 and response["Location"] == "/buckets/"


@pytest.fixture
def unreachable(db):
    """A connection whose endpoint refuses connections, with a snapshot from an earlier visit."""
    connection = Connection(name="offline", oss_endpoint="http://127.0.0.1:9", region="cn-hangzhou")
    connection.set_credentials("LTAIoffline", "offline-secret-value")
    connection.save()
    Bucket.objects.create(
        connection=connection, name="seen-before", sse_method="oss", sse_algorithm="SM4", sse_label="OSS-managed SM4",
        refreshed_at=timezone.now(),
    )  # fmt: skip
    return connection


def test_a_connection_that_cannot_be_refreshed_warns_and_keeps_its_snapshot(client_as, api_as, viewer, unreachable):
    page = client_as(viewer).get("/buckets/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Connection offline could not be refreshed: OSS RequestError: OSS endpoint unreachable" in html
    assert ">seen-before</a>" in html
    assert "offline-secret-value" not in html

    listed = api_as(viewer).get("/api/v1/buckets/?refresh=true")
    assert listed.status_code == 200
    assert [row["name"] for row in listed.json()["results"]] == ["seen-before"]
    assert listed.json()["refresh_errors"] == [
        {"connection": unreachable.pk, "name": "offline", "error": "OSS RequestError: OSS endpoint unreachable "
         "(ConnectionError)"},
    ]  # fmt: skip
    assert "offline-secret-value" not in listed.content.decode()


def test_the_list_pages_by_50_and_keeps_the_filters(client_as, viewer, unreachable):
    Bucket.objects.bulk_create(
        Bucket(connection=unreachable, name=f"bulk-{number:03}", sse_label="None", refreshed_at=timezone.now())
        for number in range(60)
    )
    client = client_as(viewer)

    first = client.get("/buckets/?encryption=none")
    assert len(first.context["page"].object_list) == 50
    assert 'href="?encryption=none&amp;page=2"' in first.content.decode()
    second = client.get("/buckets/?encryption=none&page=2")
    assert [b.name for b in second.context["page"].object_list] == [f"bulk-{n:03}" for n in range(50, 60)]


def test_outsiders_and_anonymous_users_do_not_see_buckets(client, client_as, api_client, outsider):
    assert client.get("/buckets/").status_code == 302
    assert api_client.get("/api/v1/buckets/").status_code == 401
    assert client_as(outsider).get("/buckets/").status_code == 403
