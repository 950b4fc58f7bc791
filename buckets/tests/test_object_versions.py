"""An object's versions in the console and the API (issue 18): each version with its own encryption, delete markers,
the current one marked, against localcloud's versioning through the console's client."""

from buckets.services import objects as services
from buckets.views.objects import object_url
from cloud.oss import OssClient
from cloud.sse import Sse
from console.testing.cloud import new_bucket, versioned_bucket
from console.testing.objects import named_key, put

VERSION_ID = "x-oss-version-id"


def versions_api(bucket) -> str:
    return f"/api/v1/buckets/{bucket.pk}/objects/versions/"


def three_versions(bucket, key: str, kms_key_id: str) -> list[str]:
    """Written unencrypted, then OSS-managed, then under a named CMK: the version ids, oldest first."""
    writes = [
        put(bucket, key, b"first"),
        put(bucket, key, b"second", Sse("oss", "AES256").request_headers()),
        put(bucket, key, b"third", Sse("kms", "SM4", kms_key_id).request_headers()),
    ]
    return [{name.lower(): value for name, value in written.headers.items()}[VERSION_ID] for written in writes]


def test_the_api_lists_every_version_newest_first_each_with_its_own_encryption(cloud_connection, api_as, viewer):
    bucket = versioned_bucket(cloud_connection, "versions-api")
    key_id = named_key(cloud_connection)
    oldest, middle, newest = three_versions(bucket, "docs/q1.csv", key_id)

    answer = api_as(viewer).get(versions_api(bucket), {"key": "docs/q1.csv"})

    body = answer.json()
    assert answer.status_code == 200 and body["key"] == "docs/q1.csv" and body["more"] is False
    versions = body["versions"]
    assert [v["version_id"] for v in versions] == [newest, middle, oldest]
    assert [v["is_latest"] for v in versions] == [True, False, False]
    assert [v["encryption"]["label"] for v in versions] == [
        f"KMS SM4 alias/reports({key_id})",
        "OSS-managed AES256",
        "None",
    ]
    assert [v["size"] for v in versions] == [5, 6, 5] and not any(v["delete_marker"] for v in versions)


def test_a_deleted_object_shows_its_delete_marker_above_the_versions_it_hides(cloud_connection, api_as, viewer):
    bucket = versioned_bucket(cloud_connection, "versions-deleted")
    put(bucket, "gone.txt", b"kept in history")
    OssClient(cloud_connection).delete_object(bucket.name, "gone.txt")

    versions = api_as(viewer).get(versions_api(bucket), {"key": "gone.txt"}).json()["versions"]

    marker, hidden = versions
    assert marker["delete_marker"] and marker["is_latest"] and marker["encryption"] is None
    assert not hidden["delete_marker"] and not hidden["is_latest"] and hidden["encryption"]["label"] == "None"


def test_only_the_key_asked_for_is_listed_not_the_keys_it_begins(cloud_connection, api_as, viewer):
    bucket = versioned_bucket(cloud_connection, "versions-prefix")
    put(bucket, "report", b"a")
    put(bucket, "report", b"b")
    put(bucket, "report-2", b"c")

    versions = api_as(viewer).get(versions_api(bucket), {"key": "report"}).json()["versions"]

    assert len(versions) == 2 and {v["size"] for v in versions} == {1}


def test_at_most_a_hundred_versions_are_listed_and_the_answer_says_there_are_more(cloud_connection):
    bucket = versioned_bucket(cloud_connection, "versions-many")
    for number in range(services.MAX_VERSIONS_SHOWN + 1):
        put(bucket, "busy.log", f"{number}".encode())

    history = services.object_versions(bucket, "busy.log")

    assert len(history.rows) == services.MAX_VERSIONS_SHOWN and history.more
    assert history.rows[0].version.is_latest and history.rows[0].version.size == 3  # b"100", the newest


def test_the_object_page_lists_the_versions_with_the_current_one_marked(cloud_connection, client_as, viewer):
    bucket = versioned_bucket(cloud_connection, "versions-page")
    key_id = named_key(cloud_connection)
    three_versions(bucket, "docs/q1.csv", key_id)

    page = client_as(viewer).get(object_url("buckets:object_detail", bucket, key="docs/q1.csv"))

    html = page.content.decode()
    assert page.status_code == 200 and 'id="versions-heading"' in html
    assert "2 older versions kept" in html and html.count('<span class="badge">current</span>') == 1
    rows = page.context["versions"].rows
    assert [row.encryption.label for row in rows] == [
        f"KMS SM4 alias/reports({key_id})",
        "OSS-managed AES256",
        "None",
    ]


def test_an_object_of_a_bucket_without_versioning_has_no_versions_section(cloud_connection, client_as, viewer):
    bucket = new_bucket(cloud_connection, "versions-none")
    put(bucket, "plain.txt")

    page = client_as(viewer).get(object_url("buckets:object_detail", bucket, key="plain.txt"))

    assert page.status_code == 200 and 'id="versions-heading"' not in page.content.decode()
    assert "versions" not in page.context


def test_outsiders_cannot_list_versions(cloud_connection, api_as, outsider):
    bucket = versioned_bucket(cloud_connection, "versions-outsider")
    put(bucket, "secret.txt")

    assert api_as(outsider).get(versions_api(bucket), {"key": "secret.txt"}).status_code == 403
