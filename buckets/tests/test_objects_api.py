"""/api/v1/buckets/{id}/objects/... against localcloud: the same services as the pages, as JSON."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule
from cloud.sse import Sse
from console.testing.cloud import new_bucket
from console.testing.objects import KEEP_HEADERS, content_of, named_key, put


def api(bucket, path: str = "") -> str:
    return f"/api/v1/buckets/{bucket.pk}/objects/{path}"


def test_listing_pages_with_tokens_and_gives_each_objects_encryption(cloud_connection, api_as, viewer):
    bucket = new_bucket(cloud_connection, "api-list")
    put(bucket, "in/a-folder/x.txt")
    for number in range(5):
        put(bucket, f"in/object-{number}.txt", headers=Sse("oss", "SM4").request_headers())
    client = api_as(viewer)

    first = client.get(api(bucket), {"prefix": "in/", "max_keys": 3}).json()
    second = client.get(api(bucket), {"prefix": "in/", "max_keys": 3, "token": first["next_token"]}).json()

    assert first["folders"] == ["in/a-folder/"] and [o["key"] for o in first["objects"]] == [
        "in/object-0.txt",
        "in/object-1.txt",
    ]
    assert [o["key"] for o in second["objects"]] == ["in/object-2.txt", "in/object-3.txt", "in/object-4.txt"]
    assert second["next_token"] == ""
    assert first["objects"][0]["encryption"] == {
        "method": "oss",
        "algorithm": "SM4",
        "key_id": "",
        "key_name": "",
        "label": "OSS-managed SM4",
    }
    assert first["objects"][0]["client_side_encryption"] is None and first["objects"][0]["size"] == 5


def test_listing_refuses_a_page_size_above_1000(cloud_connection, api_as, viewer):
    bucket = new_bucket(cloud_connection, "api-list-size")

    answer = api_as(viewer).get(api(bucket), {"max_keys": 5000})

    assert answer.status_code == 400 and "max_keys" in answer.json()


def test_listing_an_unknown_bucket_id_is_404(cloud_connection, api_as, viewer):
    assert api_as(viewer).get("/api/v1/buckets/999999/objects/").status_code == 404


def test_detail_by_key_in_the_query_string(cloud_connection, api_as, viewer):
    bucket = new_bucket(cloud_connection, "api-detail")
    key_id = named_key(cloud_connection)
    put(bucket, "docs/q1.csv", b"a,b\n", {**KEEP_HEADERS, **Sse("kms", "SM4", key_id).request_headers()})

    answer = api_as(viewer).get(api(bucket, "detail/"), {"key": "docs/q1.csv"})

    detail = answer.json()
    name = f"alias/reports({key_id})"
    assert answer.status_code == 200 and detail["key"] == "docs/q1.csv" and detail["size"] == 4
    assert detail["encryption"]["key_name"] == name and detail["encryption"]["label"] == f"KMS SM4 {name}"
    assert detail["sse_headers"]["x-oss-server-side-encryption-key-id"] == key_id  # verbatim
    assert detail["user_metadata"] == {"owner": "finance", "review": "2024-q1"}
    assert detail["content_headers"]["Cache-Control"] == "no-cache" and detail["acl"] == "default"
    assert detail["crc64"] and detail["request_id"]


def test_detail_of_a_missing_object_is_404_with_the_cloud_code(cloud_connection, api_as, viewer):
    bucket = new_bucket(cloud_connection, "api-detail-missing")

    answer = api_as(viewer).get(api(bucket, "detail/"), {"key": "nope.txt"})

    assert answer.status_code == 404 and answer.json()["code"] == "NoSuchKey"


def test_upload_with_an_object_setting_wins_over_the_bucket_default(cloud_connection, api_as, operator):
    bucket = new_bucket(cloud_connection, "api-upload", EncryptionRule("KMS"))

    answer = api_as(operator).post(
        api(bucket),
        {
            "file": SimpleUploadedFile("x.bin", b"uploaded"),
            "key": "in/x.bin",
            "method": "oss",
            "algorithm": "SM4",
            "metadata": ["owner=finance", "stage=draft"],
        },
        format="multipart",
    )

    body = answer.json()
    assert answer.status_code == 201 and body["source"] == "object" and body["encryption"]["label"] == "OSS-managed SM4"
    assert body["bucket_default"]["label"] == "KMS AES256 alias/acs/oss" and body["request_id"]
    assert content_of(bucket, "in/x.bin") == b"uploaded"
    assert AuditEvent.objects.get(action="object.upload").channel == "api"


def test_upload_with_the_default_and_with_a_named_key(cloud_connection, api_as, operator):
    bucket = new_bucket(cloud_connection, "api-upload-choices", EncryptionRule("SM4"))
    key_id = named_key(cloud_connection)
    client = api_as(operator)

    default = client.post(
        api(bucket), {"file": SimpleUploadedFile("a", b"a"), "key": "a.txt"}, format="multipart"
    ).json()
    named = client.post(
        api(bucket),
        {"file": SimpleUploadedFile("b", b"b"), "key": "b.txt", "method": "kms", "key_id": key_id},
        format="multipart",
    ).json()

    assert default["source"] == "bucket" and default["encryption"]["label"] == "OSS-managed SM4"
    assert named["source"] == "object" and named["encryption"]["key_id"] == key_id


def test_upload_onto_an_existing_key_is_409_unless_overwrite(cloud_connection, api_as, operator):
    bucket = new_bucket(cloud_connection, "api-upload-exists")
    put(bucket, "taken.txt", b"first")
    client = api_as(operator)

    refused = client.post(
        api(bucket), {"file": SimpleUploadedFile("t", b"second"), "key": "taken.txt"}, format="multipart"
    )
    replaced = client.post(
        api(bucket),
        {"file": SimpleUploadedFile("t", b"second"), "key": "taken.txt", "overwrite": True},
        format="multipart",
    )

    assert refused.status_code == 409 and "already exists" in refused.json()["detail"]
    assert replaced.status_code == 201 and content_of(bucket, "taken.txt") == b"second"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"key": "/absolute"}, "key"),
        ({"key": "a.txt", "method": "default", "algorithm": "SM4"}, "method"),
        ({"key": "a.txt", "metadata": ["bad name=x"]}, "metadata"),
        ({"key": "a.txt", "content_type": "not a type"}, "content_type"),
    ],
)
def test_upload_input_is_checked(cloud_connection, api_as, operator, fields, problem):
    bucket = new_bucket(cloud_connection, "api-upload-input")

    answer = api_as(operator).post(api(bucket), {"file": SimpleUploadedFile("a", b"a"), **fields}, format="multipart")

    assert answer.status_code == 400 and problem in answer.json()


def test_change_encryption_in_place(cloud_connection, api_as, operator):
    bucket = new_bucket(cloud_connection, "api-change")
    key_id = named_key(cloud_connection)
    content = os.urandom(100_000)
    put(bucket, "a/b.bin", content, {**KEEP_HEADERS, "x-oss-object-acl": "public-read"})

    answer = api_as(operator).post(
        api(bucket, "encryption/"), {"key": "a/b.bin", "method": "kms", "algorithm": "SM4", "key_id": key_id}
    )

    body = answer.json()
    assert answer.status_code == 200 and body["before"]["label"] == "None"
    assert body["after"]["label"] == f"KMS SM4 alias/reports({key_id})" and body["request_id"]
    assert body["etag_before"] == body["etag_after"] and content_of(bucket, "a/b.bin") == content


def test_change_encryption_of_an_object_that_changed_is_409(cloud_connection, api_as, operator):
    bucket = new_bucket(cloud_connection, "api-change-stale")
    put(bucket, "a.txt", b"old")
    client = api_as(operator)
    seen = client.get(api(bucket, "detail/"), {"key": "a.txt"}).json()["etag"]
    put(bucket, "a.txt", b"newer")

    answer = client.post(
        api(bucket, "encryption/"), {"key": "a.txt", "method": "oss", "algorithm": "SM4", "expected_etag": seen}
    )

    assert answer.status_code == 409 and "nothing was overwritten" in answer.json()["detail"]
    assert content_of(bucket, "a.txt") == b"newer"


def test_change_to_none_under_a_bucket_default_is_refused_with_the_reason(cloud_connection, api_as, operator):
    bucket = new_bucket(cloud_connection, "api-change-none", EncryptionRule("KMS"))
    put(bucket, "a.txt")

    answer = api_as(operator).post(api(bucket, "encryption/"), {"key": "a.txt", "method": "none"})

    assert answer.status_code == 400 and "bucket without a default" in answer.json()["detail"]


def test_download_streams_the_exact_bytes(cloud_connection, api_as, viewer):
    bucket = new_bucket(cloud_connection, "api-download", EncryptionRule("KMS"))
    content = os.urandom(200_000)
    put(bucket, "dir/data.bin", content)

    answer = api_as(viewer).get(
        api(bucket, "content/"), {"key": "dir/data.bin"}, HTTP_ACCEPT="application/octet-stream"
    )

    assert answer.status_code == 200 and b"".join(answer.streaming_content) == content
    assert answer["Content-Disposition"] == 'attachment; filename="data.bin"'


def test_download_under_a_disabled_cmk_is_json_with_code_and_request_id(cloud_connection, api_as, viewer):
    bucket = new_bucket(cloud_connection, "api-download-kms")
    key_id = named_key(cloud_connection)
    put(bucket, "secret.txt", b"s", Sse("kms", "AES256", key_id).request_headers())
    KmsClient(cloud_connection).disable_key(key_id)

    answer = api_as(viewer).get(api(bucket, "content/"), {"key": "secret.txt"}, HTTP_ACCEPT="application/octet-stream")

    body = answer.json()
    assert answer.status_code == 400 and body["code"] == "AccessDenied" and body["service"] == "oss"
    assert body["message"] == "This request is forbidden by kms." and body["request_id"]


def test_viewers_read_but_cannot_upload_or_change(cloud_connection, api_as, viewer):
    bucket = new_bucket(cloud_connection, "api-viewer")
    put(bucket, "a.txt", b"content")
    client = api_as(viewer)

    assert client.get(api(bucket)).status_code == 200
    assert client.get(api(bucket, "detail/"), {"key": "a.txt"}).status_code == 200
    assert client.get(api(bucket, "content/"), {"key": "a.txt"}).status_code == 200
    upload = {"file": SimpleUploadedFile("a", b"x"), "key": "b.txt"}
    assert client.post(api(bucket), upload, format="multipart").status_code == 403
    change = {"key": "a.txt", "method": "oss", "algorithm": "SM4"}
    assert client.post(api(bucket, "encryption/"), change).status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="object.").exists()


def test_outsiders_and_anonymous_callers_get_nothing(cloud_connection, api_as, api_client, outsider):
    bucket = new_bucket(cloud_connection, "api-outsider")

    assert api_client.get(api(bucket)).status_code in (401, 403)
    assert api_as(outsider).get(api(bucket)).status_code == 403
    assert api_as(outsider).get(api(bucket, "content/"), {"key": "a.txt"}).status_code == 403


def test_an_unserved_method_is_405(cloud_connection, api_as, operator):
    bucket = new_bucket(cloud_connection, "api-method")

    assert api_as(operator).delete(api(bucket, "detail/"), {"key": "a.txt"}).status_code == 405


def test_answers_never_carry_the_connection_secret(cloud_connection, api_as, operator):
    bucket = new_bucket(cloud_connection, "api-secret")
    put(bucket, "a.txt")
    client = api_as(operator)

    answers = [
        client.get(api(bucket)),
        client.get(api(bucket, "detail/"), {"key": "a.txt"}),
        client.post(api(bucket, "encryption/"), {"key": "a.txt", "method": "oss", "algorithm": "AES256"}),
    ]

    assert all(cloud_connection.access_key_secret not in answer.content.decode() for answer in answers)


def test_the_schema_documents_the_object_routes(api_as, viewer):
    schema = api_as(viewer).get("/api/v1/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    assert set(paths["/api/v1/buckets/{bucket_id}/objects/"]) == {"get", "post"}
    for route in ("detail/", "content/", "versions/"):
        parameters = paths[f"/api/v1/buckets/{{bucket_id}}/objects/{route}"]["get"]["parameters"]
        assert {"name": "key", "in": "query"}.items() <= next(p for p in parameters if p["name"] == "key").items()
    assert "post" in paths["/api/v1/buckets/{bucket_id}/objects/encryption/"]
