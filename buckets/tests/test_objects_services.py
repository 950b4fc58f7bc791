"""Object services against localcloud: browsing, detail, uploads with an encryption choice, in-place changes,
downloads, and the audit events of every change."""

import gzip
import os

import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from buckets.models import Bucket
from buckets.services import objects as services
from cloud.errors import CloudError, Conflict, ServiceError
from cloud.kms import KmsClient
from cloud.oss import EncryptionRule, ObjectHead, OssClient
from cloud.sse import Sse
from console.testing.cloud import new_bucket
from console.testing.objects import KEEP_HEADERS, content_of, named_key, put


def upload_file(content: bytes = b"uploaded content", name: str = "file.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


# Browsing


def test_browsing_pages_through_150_objects_folders_first_with_each_objects_encryption(cloud_connection):
    bucket = new_bucket(cloud_connection, "browse", EncryptionRule("SM4"))
    put(bucket, "many/early/inside.txt")
    for number in range(150):
        put(bucket, f"many/object-{number:03}.txt", b"x" * number)

    first = services.browse_objects(bucket, prefix="many/")
    second = services.browse_objects(bucket, prefix="many/", token=first.next_token)

    assert first.folders == ["many/early/"] and first.folder_rows == [("early/", "many/early/")]
    assert len(first.folders) + len(first.objects) == services.PAGE_SIZE and first.next_token
    assert second.next_token == "" and second.folders == []
    keys = [row.entry.key for row in first.objects + second.objects]
    assert keys == [f"many/object-{number:03}.txt" for number in range(150)]
    assert {row.encryption.label for row in first.objects + second.objects} == {"OSS-managed SM4"}
    assert first.objects[0].name == "object-000.txt" and services.folder_crumbs("many/") == [("many", "many/")]


def test_browsing_a_bucket_that_is_gone_is_a_cloud_error(cloud_connection):
    bucket = Bucket.objects.create(
        connection=cloud_connection, name="gone-bucket", region="cn-hangzhou", refreshed_at=timezone.now()
    )
    with pytest.raises(CloudError) as refused:
        services.browse_objects(bucket)
    assert refused.value.code == "NoSuchBucket" and refused.value.status_code == 404


# Detail


def test_detail_names_the_kms_key_by_alias_keeps_the_headers_verbatim_and_shows_everything_oss_keeps(
    cloud_connection,
):
    bucket = new_bucket(cloud_connection, "detail")
    key_id = named_key(cloud_connection)
    sse_headers = Sse("kms", "SM4", key_id).request_headers()
    put(bucket, "docs/q1.csv", b"a,b\n", {**KEEP_HEADERS, **sse_headers, "x-oss-tagging": "team=finance"})

    detail = services.describe_object(bucket, "docs/q1.csv")

    name = f"alias/reports({key_id})"
    assert detail.encryption.label == f"KMS SM4 {name}"
    assert detail.sse_headers == {
        "x-oss-server-side-encryption": "KMS",
        "x-oss-server-side-data-encryption": "SM4",
        "x-oss-server-side-encryption-key-id": key_id,
    }
    assert detail.head.size == 4 and detail.crc64 and detail.object_type == "Normal"
    assert detail.head.content_headers["Content-Disposition"] == 'attachment; filename="q1.csv"'
    assert detail.head.user_metadata == {"owner": "finance", "review": "2024-q1"}
    assert detail.tags == {"team": "finance"} and detail.acl == "default"
    assert detail.last_modified is not None and detail.head.request_id
    assert detail.client_side is None and detail.name == "q1.csv"


def test_client_side_encryption_is_recognised_by_current_and_older_metadata_names(cloud_connection):
    bucket = new_bucket(cloud_connection, "cse")
    put(
        bucket,
        "current.bin",
        b"ciphertext",
        {
            "x-oss-meta-client-side-encryption-key": "d3JhcHBlZA==",
            "x-oss-meta-client-side-encryption-start": "aXY=",
            "x-oss-meta-client-side-encryption-cek-alg": "AES/CTR/NoPadding",
            "x-oss-meta-client-side-encryption-wrap-alg": "KMS/ALICLOUD",
            "x-oss-meta-client-side-encryption-matdesc": '{"owner": "finance"}',
            "x-oss-meta-client-side-encryption-unencrypted-content-length": "10",
        },
    )
    put(
        bucket,
        "older.bin",
        b"ciphertext",
        {
            "x-oss-meta-oss-crypto-key": "d3JhcHBlZA==",
            "x-oss-meta-oss-crypto-start": "MTIz",
            "x-oss-meta-oss-cek-alg": "AES/GCM/NoPadding",
            "x-oss-meta-oss-wrap-alg": "rsa",
            "x-oss-meta-oss-crypto-unencrypted-content-length": "10",
        },
    )

    current = services.describe_object(bucket, "current.bin").client_side
    older = services.describe_object(bucket, "older.bin").client_side
    listed = {row.entry.key: row.client_side for row in services.browse_objects(bucket).objects}

    assert current.wrap_algorithm == "KMS/ALICLOUD" and current.content_cipher == "AES/CTR/NoPadding"
    assert current.matdesc == {"owner": "finance"} and current.unencrypted_length == 10 and not current.older_names
    assert older.wrap_algorithm == "rsa" and older.content_cipher == "AES/GCM/NoPadding" and older.older_names
    assert older.unencrypted_length == 10 and older.matdesc is None
    assert listed == {"current.bin": current, "older.bin": older}


# Uploading


@pytest.mark.parametrize(
    ("requested", "label"),
    [
        (Sse("oss", "AES256"), "OSS-managed AES256"),
        (Sse("oss", "SM4"), "OSS-managed SM4"),
        (Sse("kms", "AES256"), "KMS AES256 alias/acs/oss("),
    ],
)
def test_upload_encrypts_as_the_object_setting_asks(cloud_connection, operator, requested, label):
    bucket = new_bucket(cloud_connection, "upload-choice")

    upload = services.upload_object(bucket, key="a/file.txt", content=upload_file(), sse=requested, actor=operator)

    assert upload.encryption.label.startswith(label) and upload.source == "object"
    assert Sse.of_headers(services.describe_object(bucket, "a/file.txt").head.headers).method == requested.method
    assert content_of(bucket, "a/file.txt") == b"uploaded content" and upload.folder == "a/"


def test_upload_with_a_named_kms_key_and_metadata(cloud_connection, operator):
    bucket = new_bucket(cloud_connection, "upload-named")
    key_id = named_key(cloud_connection)

    upload = services.upload_object(
        bucket,
        key="named.txt",
        content=upload_file(),
        sse=Sse("kms", "SM4", key_id),
        content_type="text/plain",
        metadata={"owner": "finance"},
        actor=operator,
    )

    assert upload.encryption.sse == Sse("kms", "SM4", key_id)
    assert upload.encryption.label == f"KMS SM4 alias/reports({key_id})"
    head = services.describe_object(bucket, "named.txt").head
    assert head.user_metadata == {"owner": "finance"} and head.header("content-type") == "text/plain"


def test_upload_with_the_bucket_default_gets_the_bucket_default(cloud_connection, operator):
    bucket = new_bucket(cloud_connection, "upload-default", EncryptionRule("KMS"))

    upload = services.upload_object(bucket, key="default.txt", content=upload_file(), actor=operator)

    assert upload.source == "bucket" and upload.encryption.sse.method == "kms"
    assert "from the bucket default" in upload.explanation


def test_upload_in_a_bucket_without_default_and_without_setting_is_not_encrypted(cloud_connection, operator):
    bucket = new_bucket(cloud_connection, "upload-plain")

    upload = services.upload_object(bucket, key="plain.txt", content=upload_file(), actor=operator)

    assert upload.source == "none" and upload.encryption.label == "None"


def test_object_setting_wins_over_the_bucket_default(cloud_connection, operator):
    bucket = new_bucket(cloud_connection, "upload-precedence", EncryptionRule("KMS"))

    upload = services.upload_object(bucket, key="sm4.txt", content=upload_file(), sse=Sse("oss", "SM4"), actor=operator)

    assert upload.encryption.sse == Sse("oss", "SM4") and upload.source == "object"
    assert upload.bucket_default.sse.method == "kms"
    assert upload.explanation == (
        "OSS-managed SM4: the object setting won over the bucket default (KMS AES256 alias/acs/oss)."
    )
    event = AuditEvent.objects.get(action="object.upload")
    assert event.outcome == AuditEvent.SUCCESS and event.object_key == "sm4.txt" and event.request_id
    assert event.after == {
        "key": "sm4.txt",
        "size": len(b"uploaded content"),
        "etag": upload.etag,
        "sse": {"method": "oss", "algorithm": "SM4", "key_id": ""},
        "sse_source": "object",
    }


def test_upload_onto_an_existing_key_is_refused_unless_overwrite(cloud_connection, operator):
    bucket = new_bucket(cloud_connection, "upload-exists")
    put(bucket, "taken.txt", b"first")

    with pytest.raises(Conflict, match="already exists"):
        services.upload_object(bucket, key="taken.txt", content=upload_file(b"second"), actor=operator)
    assert content_of(bucket, "taken.txt") == b"first"
    failure = AuditEvent.objects.get(action="object.upload")
    assert failure.outcome == AuditEvent.FAILURE and "already exists" in failure.error

    services.upload_object(bucket, key="taken.txt", content=upload_file(b"second"), overwrite=True, actor=operator)
    assert content_of(bucket, "taken.txt") == b"second"


def test_an_upload_says_what_was_at_its_key_before_and_after(cloud_connection, operator):
    bucket = new_bucket(cloud_connection, "upload-before-after")
    key_id = named_key(cloud_connection)

    first = services.upload_object(
        bucket, key="a.txt", content=upload_file(), sse=Sse("kms", "AES256", key_id), actor=operator
    )
    second = services.upload_object(
        bucket, key="a.txt", content=upload_file(), sse=Sse("oss", "SM4"), overwrite=True, actor=operator
    )

    assert first.change == f"Uploaded a.txt: no object → KMS AES256 alias/reports({key_id})."
    assert second.change == (
        f"Uploaded a.txt: KMS AES256 alias/reports({key_id}) (the object it replaced) → OSS-managed SM4."
    )
    replacing = AuditEvent.objects.filter(action="object.upload").latest("id")
    assert replacing.before == {"sse": {"method": "kms", "algorithm": "AES256", "key_id": key_id}}


def test_upload_refuses_a_kms_key_that_is_not_enabled(cloud_connection, operator):
    bucket = new_bucket(cloud_connection, "upload-disabled-key")
    key_id = named_key(cloud_connection)
    KmsClient(cloud_connection).disable_key(key_id)

    with pytest.raises(ServiceError, match="Disabled"):
        services.upload_object(
            bucket, key="k.txt", content=upload_file(), sse=Sse("kms", "AES256", key_id), actor=operator
        )
    assert AuditEvent.objects.get(action="object.upload").outcome == AuditEvent.FAILURE


def test_upload_streams_a_large_file_from_disk(cloud_connection, operator, tmp_path):
    bucket = new_bucket(cloud_connection, "upload-large")
    content = os.urandom(3 * 1024 * 1024 + 17)
    with open(tmp_path / "large.bin", "w+b") as file:
        file.write(content)
        file.seek(0)
        upload = services.upload_object(bucket, key="large.bin", content=File(file), actor=operator)

    assert upload.size == len(content) and content_of(bucket, "large.bin") == content


@pytest.mark.parametrize(
    ("lines", "message"),
    [(["no separator"], "name=value"), (["bad name=x"], "letters"), (["name=é"], "ASCII")],
)
def test_metadata_lines_are_checked(lines, message):
    with pytest.raises(ServiceError, match=message):
        services.parse_metadata(lines)


def test_metadata_lines_become_lower_case_names():
    assert services.parse_metadata(["Owner = finance", "", "x=a=b"]) == {"owner": "finance", "x": "a=b"}


# Changing one object's encryption


def test_change_in_place_keeps_content_headers_metadata_tags_acl_and_storage_class(cloud_connection, operator):
    bucket = new_bucket(cloud_connection, "change-keeps")
    key_id = named_key(cloud_connection)
    content = os.urandom(200_000)
    extra = {"x-oss-tagging": "team=finance&level=2", "x-oss-object-acl": "public-read", "x-oss-storage-class": "IA"}
    put(bucket, "q1.csv", content, {**KEEP_HEADERS, **extra})
    before = services.describe_object(bucket, "q1.csv")

    change = services.change_object_encryption(bucket, "q1.csv", Sse("kms", "SM4", key_id), operator)

    after = services.describe_object(bucket, "q1.csv")
    assert after.encryption.sse == Sse("kms", "SM4", key_id)
    assert change.after.label == f"KMS SM4 alias/reports({key_id})" and change.before.label == "None"
    assert content_of(bucket, "q1.csv") == content
    for name in ("Content-Type", "Content-Disposition", "Cache-Control"):
        assert after.head.content_headers[name] == KEEP_HEADERS[name]
    assert after.head.user_metadata == {"owner": "finance", "review": "2024-q1"}
    assert after.tags == {"team": "finance", "level": "2"}
    assert after.acl == "public-read" and after.head.storage_class == "IA"
    assert after.crc64 == before.crc64 and after.head.etag == before.head.etag
    event = AuditEvent.objects.get(action="object.encryption.change")
    assert event.outcome == AuditEvent.SUCCESS and event.request_id == change.request_id
    assert event.before == {"sse": Sse().as_dict(), "etag": before.head.etag}
    assert event.after == {"sse": Sse("kms", "SM4", key_id).as_dict(), "etag": after.head.etag}


def test_change_to_oss_managed_and_back_to_none_in_a_bucket_without_default(cloud_connection, operator):
    bucket = new_bucket(cloud_connection, "change-none")
    put(bucket, "a.txt", b"plain", {"x-oss-server-side-encryption": "AES256"})

    services.change_object_encryption(bucket, "a.txt", Sse("oss", "SM4"), operator)
    assert services.describe_object(bucket, "a.txt").encryption.label == "OSS-managed SM4"

    services.change_object_encryption(bucket, "a.txt", Sse(), operator)
    assert services.describe_object(bucket, "a.txt").encryption.label == "None"
    assert content_of(bucket, "a.txt") == b"plain"


def test_decrypting_is_refused_while_the_bucket_has_a_default(cloud_connection, operator):
    bucket = new_bucket(cloud_connection, "change-default", EncryptionRule("SM4"))
    put(bucket, "a.txt")

    with pytest.raises(ServiceError, match="only be decrypted in place in a bucket without a default"):
        services.change_object_encryption(bucket, "a.txt", Sse(), operator)
    assert services.describe_object(bucket, "a.txt").encryption.label == "OSS-managed SM4"
    failure = AuditEvent.objects.get(action="object.encryption.change")
    assert failure.outcome == AuditEvent.FAILURE and "OSS-managed SM4" in failure.error


def test_a_concurrent_overwrite_between_head_and_copy_survives(cloud_connection, operator):
    bucket = new_bucket(cloud_connection, "change-race")
    put(bucket, "race.txt", b"old content")
    oss = OssClient(cloud_connection)
    state = services.read_object_state(oss, bucket.name, "race.txt")
    put(bucket, "race.txt", b"newer content")

    with pytest.raises(services.ObjectChanged) as refused:
        services.copy_with_encryption(oss, bucket.name, state, Sse("oss", "SM4"))

    assert refused.value.status_code == 409 and refused.value.request_id
    assert services.OBJECT_CHANGED in refused.value.message
    assert content_of(bucket, "race.txt") == b"newer content"
    assert services.describe_object(bucket, "race.txt").encryption.label == "None"


def test_a_stale_expected_etag_changes_nothing_and_is_audited(cloud_connection, operator):
    bucket = new_bucket(cloud_connection, "change-stale")
    put(bucket, "a.txt", b"old")
    seen = services.describe_object(bucket, "a.txt").head.etag
    put(bucket, "a.txt", b"newer")

    with pytest.raises(Conflict, match="changed while we worked"):
        services.change_object_encryption(bucket, "a.txt", Sse("oss", "SM4"), operator, expected_etag=seen)

    assert services.describe_object(bucket, "a.txt").encryption.label == "None"
    assert AuditEvent.objects.get(action="object.encryption.change").outcome == AuditEvent.FAILURE


AS_IT_WAS = services.ObjectState(
    ObjectHead(
        "k",
        {
            "content-length": "5",
            "x-oss-hash-crc64ecma": "1",
            "x-oss-storage-class": "IA",
            "x-oss-meta-owner": "finance",
            "content-type": "text/csv",
            "x-oss-tagging-count": "1",
            "x-oss-server-side-encryption": "SM4",
        },
        "",
    ),
    "public-read",
    {"team": "finance"},
)


def changed(aspect: str) -> services.ObjectState:
    """AS_IT_WAS with only `aspect` different."""
    head, acl, tags = dict(AS_IT_WAS.head.headers), AS_IT_WAS.acl, AS_IT_WAS.tags
    header = {
        "size": "content-length",
        "CRC64": "x-oss-hash-crc64ecma",
        "storage class": "x-oss-storage-class",
        "user metadata": "x-oss-meta-owner",
        "content headers": "content-type",
        "tag count": "x-oss-tagging-count",
        "server-side encryption": "x-oss-server-side-encryption",
    }.get(aspect)
    if header:
        head[header] = {"content-length": "6", "x-oss-server-side-encryption": "AES256"}.get(header, "other")
    acl = "default" if aspect == "ACL" else acl
    tags = {"team": "ops"} if aspect == "tags" else tags
    return services.ObjectState(ObjectHead("k", head, ""), acl, tags)


@pytest.mark.parametrize("aspect", list(services.ASPECTS))
def test_the_check_after_a_copy_names_each_asked_aspect_that_differs_and_only_those(aspect):
    after = changed(aspect)
    others = [name for name in services.ASPECTS if name != aspect]

    assert services.changed_aspects(AS_IT_WAS, after, services.ASPECTS) == [f"the {aspect} changed"]
    assert services.changed_aspects(AS_IT_WAS, after, others) == []
    assert services.verification_problems(AS_IT_WAS, AS_IT_WAS, Sse("oss", "AES256")) == [
        "the encryption is OSS-managed SM4, not OSS-managed AES256"
    ]


# Downloading


def test_download_gives_the_stored_bytes_with_the_objects_headers(cloud_connection):
    bucket = new_bucket(cloud_connection, "download", EncryptionRule("KMS"))
    content = os.urandom(300_000)
    put(bucket, "dir/data.bin", content, {"Content-Type": "application/x-data"})

    download = services.open_download(bucket, "dir/data.bin")

    assert b"".join(download.chunks) == content
    assert download.head.size == len(content) and download.head.header("content-type") == "application/x-data"
    assert services.download_filename("dir/data.bin") == "data.bin"


def test_download_passes_on_stored_compressed_bytes_as_they_are(cloud_connection):
    bucket = new_bucket(cloud_connection, "download-gzip")
    compressed = gzip.compress(b"text " * 1000)
    put(bucket, "log.txt", compressed, {"Content-Type": "text/plain", "Content-Encoding": "gzip"})

    download = services.open_download(bucket, "log.txt")

    assert b"".join(download.chunks) == compressed and download.head.size == len(compressed)
    assert download.head.header("content-encoding") == "gzip"


def test_download_of_an_object_whose_cmk_is_disabled_is_refused_before_any_byte(cloud_connection):
    bucket = new_bucket(cloud_connection, "download-disabled")
    key_id = named_key(cloud_connection)
    put(bucket, "secret.txt", b"s", Sse("kms", "AES256", key_id).request_headers())
    KmsClient(cloud_connection).disable_key(key_id)

    with pytest.raises(CloudError) as refused:
        services.open_download(bucket, "secret.txt")

    assert refused.value.code == "AccessDenied" and refused.value.cloud_message == "This request is forbidden by kms."
    assert refused.value.request_id
