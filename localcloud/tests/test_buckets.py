"""Service and bucket operations (oss-api.md §5) through the real oss2 SDK against a running localcloud."""

import oss2
import pytest
from oss2.models import BucketCreateConfig
from oss2.models import ServerSideEncryptionRule as rule

KMS_KEY = "9468da86-3509-4f8d-a61e-6eab1eac"


def error_of(call, *args, **kwargs) -> oss2.exceptions.OssError:
    with pytest.raises(oss2.exceptions.OssError) as raised:
        call(*args, **kwargs)
    return raised.value


def rule_of(bucket) -> tuple:
    found = bucket.get_bucket_info().bucket_encryption_rule
    return found.sse_algorithm, found.kms_master_keyid, found.kms_data_encryption


# -- create, info, location, ACL, delete ----------------------------------------------------------------


def test_new_bucket_reports_its_info(bucket, localcloud):
    info = bucket.get_bucket_info()
    assert info.name == bucket.bucket_name
    assert info.location == "oss-cn-hangzhou"
    assert info.storage_class == "Standard"
    assert info.data_redundancy_type == "LRS"
    assert info.acl.grant == "private"
    assert info.extranet_endpoint == info.intranet_endpoint == localcloud.removeprefix("http://")
    assert info.creation_date.endswith(".000Z")
    assert info.resource_group_id == "rg-default-id"
    assert info.comment == ""
    assert info.versioning_status is None
    assert info.owner.id and info.owner.display_name


def test_bucket_without_default_rule_reports_none_in_info(bucket):
    found = bucket.get_bucket_info().bucket_encryption_rule
    assert found.sse_algorithm is None
    assert found.kms_master_keyid is None


def test_bucket_location_is_the_configured_region(bucket):
    assert bucket.get_bucket_location().location == "oss-cn-hangzhou"


def test_bucket_acl_is_set_and_read_back(bucket):
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    assert bucket.get_bucket_acl().acl == "public-read"
    assert bucket.get_bucket_info().acl.grant == "public-read"


def test_bucket_acl_rejects_an_unknown_grant(bucket):
    error = error_of(bucket.put_bucket_acl, "everyone")
    assert isinstance(error, oss2.exceptions.InvalidArgument)


def test_bucket_created_with_storage_class_redundancy_and_acl(new_bucket):
    bucket = new_bucket(permission=oss2.BUCKET_ACL_PUBLIC_READ_WRITE, config=BucketCreateConfig("IA", "ZRS"))
    info = bucket.get_bucket_info()
    assert (info.storage_class, info.data_redundancy_type, info.acl.grant) == ("IA", "ZRS", "public-read-write")


def test_creating_an_existing_bucket_again_updates_its_acl(bucket):
    bucket.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    assert bucket.get_bucket_acl().acl == "public-read"


def test_creating_an_existing_bucket_keeps_its_default_encryption(bucket):
    bucket.put_bucket_encryption(rule("SM4"))
    bucket.create_bucket(headers={"x-oss-server-side-encryption": "AES256"})
    assert rule_of(bucket) == ("SM4", None, None)


def test_creating_an_existing_bucket_with_another_storage_class_conflicts(bucket):
    error = error_of(bucket.create_bucket, input=BucketCreateConfig("IA"))
    assert (error.status, error.code) == (409, "BucketAlreadyExists")


def test_bucket_creation_rejects_an_unknown_storage_class(new_bucket):
    error = error_of(new_bucket, config=BucketCreateConfig("Hot"))
    assert isinstance(error, oss2.exceptions.InvalidArgument)


def test_bucket_creation_rejects_an_unknown_redundancy_type(new_bucket):
    error = error_of(new_bucket, config=BucketCreateConfig("Standard", "GRS"))
    assert isinstance(error, oss2.exceptions.InvalidArgument)


def test_bucket_creation_rejects_a_malformed_configuration(new_bucket):
    error = error_of(new_bucket, config="<CreateBucketConfiguration><StorageClass>")
    assert isinstance(error, oss2.exceptions.MalformedXml)


def test_bucket_creation_rejects_an_unknown_acl(new_bucket):
    error = error_of(new_bucket, permission="everyone")
    assert isinstance(error, oss2.exceptions.InvalidArgument)


def test_bucket_creation_rejects_an_invalid_name(auth, localcloud):
    bucket = oss2.Bucket(auth, localcloud, "valid-name")
    bucket.bucket_name = "Invalid_Name"  # oss2 refuses such a name up front; the server must too
    error = error_of(bucket.create_bucket)
    assert (error.status, error.code) == (400, "InvalidBucketName")


def test_names_no_bucket_can_have_are_no_such_bucket(auth, localcloud):
    bucket = oss2.Bucket(auth, localcloud, "valid-name")
    for name in ("Upper-Case", "nul\0inside", "a"):
        bucket.bucket_name = name
        for call in (bucket.get_bucket_info, bucket.list_objects, bucket.delete_bucket):
            assert isinstance(error_of(call), oss2.exceptions.NoSuchBucket)


def test_bucket_created_with_v4_signature(auth_v4, localcloud):
    bucket = oss2.Bucket(auth_v4, localcloud, "test-v4-signed", region="cn-hangzhou")
    bucket.create_bucket()
    assert bucket.get_bucket_info().name == "test-v4-signed"


def test_deleted_bucket_is_gone(bucket):
    assert bucket.delete_bucket().status == 204
    assert isinstance(error_of(bucket.get_bucket_info), oss2.exceptions.NoSuchBucket)
    assert isinstance(error_of(bucket.delete_bucket), oss2.exceptions.NoSuchBucket)


def test_bucket_holding_an_object_cannot_be_deleted(bucket):
    bucket.put_object("kept.txt", b"content")
    error = error_of(bucket.delete_bucket)
    assert isinstance(error, oss2.exceptions.BucketNotEmpty)
    assert bucket.get_bucket_info().name == bucket.bucket_name


def test_bucket_with_an_open_multipart_upload_cannot_be_deleted(bucket):
    bucket.init_multipart_upload("parts.bin")
    assert isinstance(error_of(bucket.delete_bucket), oss2.exceptions.BucketNotEmpty)


def test_bucket_stat_counts_objects_bytes_and_uploads(new_bucket):
    bucket = new_bucket(config=BucketCreateConfig("IA"))
    bucket.put_object("one", b"content")
    bucket.put_object("two", b"12345", headers={"x-oss-storage-class": "Standard"})
    bucket.init_multipart_upload("upload")
    stat = bucket.get_bucket_stat()
    assert (stat.storage_size_in_bytes, stat.object_count, stat.multi_part_upload_count) == (12, 2, 1)
    assert (stat.standard_storage, stat.standard_object_count) == (5, 1)
    assert (stat.infrequent_access_storage, stat.infrequent_access_object_count) == (7, 1)
    assert (stat.deep_cold_archive_storage, stat.live_channel_count, stat.multipart_part_count) == (0, 0, 0)
    assert stat.last_modified_time > 0


def test_operations_on_a_missing_bucket_say_no_such_bucket(auth, localcloud):
    bucket = oss2.Bucket(auth, localcloud, "test-never-created")
    for call in (bucket.get_bucket_info, bucket.get_bucket_acl, bucket.get_bucket_stat, bucket.get_bucket_encryption):
        assert isinstance(error_of(call), oss2.exceptions.NoSuchBucket)


def test_anonymous_callers_cannot_configure_buckets(new_bucket, localcloud):
    public = new_bucket(permission=oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    anonymous = oss2.Bucket(oss2.AnonymousAuth(), localcloud, public.bucket_name)
    for call in (anonymous.get_bucket_info, anonymous.get_bucket_acl, anonymous.delete_bucket):
        assert isinstance(error_of(call), oss2.exceptions.AccessDenied)
    assert isinstance(
        error_of(oss2.Service(oss2.AnonymousAuth(), localcloud).list_buckets), oss2.exceptions.AccessDenied
    )


def test_live_channel_listing_is_empty(bucket):
    assert list(oss2.LiveChannelIterator(bucket)) == []


# -- ListBuckets ----------------------------------------------------------------------------------------


def test_bucket_iterator_pages_through_every_bucket_once(service, auth, localcloud):
    names = [f"test-paging-{letter}" for letter in "edcba"]
    for name in names:
        oss2.Bucket(auth, localcloud, name).create_bucket()
    listed = list(oss2.BucketIterator(service, prefix="test-paging-", max_keys=2))
    assert [found.name for found in listed] == sorted(names)
    assert {found.extranet_endpoint for found in listed} == {localcloud.removeprefix("http://")}
    assert {(found.location, found.storage_class, found.region) for found in listed} == {
        ("oss-cn-hangzhou", "Standard", "cn-hangzhou")
    }


def test_list_buckets_starts_after_the_marker(service, auth, localcloud):
    for name in ("test-marker-a", "test-marker-b", "test-marker-c"):
        oss2.Bucket(auth, localcloud, name).create_bucket()
    result = service.list_buckets(prefix="test-marker-", marker="test-marker-a", max_keys=1)
    assert [found.name for found in result.buckets] == ["test-marker-b"]
    assert (result.is_truncated, result.next_marker) == (True, "test-marker-b")


def test_list_buckets_rejects_max_keys_out_of_range(service):
    for max_keys in (0, 1001, "ten"):
        assert isinstance(error_of(service.list_buckets, max_keys=max_keys), oss2.exceptions.InvalidArgument)


def test_list_buckets_filters_by_resource_group(service, new_bucket):
    grouped = new_bucket(headers={"x-oss-resource-group-id": "rg-team"})
    listed = service.list_buckets(headers={"x-oss-resource-group-id": "rg-team"}).buckets
    assert [(found.name, found.resource_group_id) for found in listed] == [(grouped.bucket_name, "rg-team")]


def test_invalid_resource_group_is_refused(service, new_bucket):
    headers = {"x-oss-resource-group-id": "rg team!"}
    assert isinstance(error_of(new_bucket, headers=headers), oss2.exceptions.InvalidArgument)
    assert isinstance(error_of(service.list_buckets, headers=headers), oss2.exceptions.InvalidArgument)


# -- default encryption at creation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, expected",
    [
        (
            {
                "x-oss-server-side-encryption": "KMS",
                "x-oss-server-side-data-encryption": "SM4",
                "x-oss-server-side-encryption-key-id": KMS_KEY,
            },
            ("KMS", KMS_KEY, "SM4"),
        ),
        ({"x-oss-server-side-encryption": "KMS"}, ("KMS", None, None)),
        ({"x-oss-server-side-encryption": "AES256"}, ("AES256", None, None)),
        ({"x-oss-server-side-encryption": "SM4", "x-oss-server-side-data-encryption": "SM4"}, ("SM4", None, None)),
    ],
)
def test_bucket_created_with_sse_headers_has_that_default_rule(new_bucket, headers, expected):
    bucket = new_bucket(headers=headers, config=BucketCreateConfig("IA"))
    assert rule_of(bucket) == expected
    assert bucket.get_bucket_info().storage_class == "IA"


def test_permission_argument_wins_over_the_acl_header_at_creation(new_bucket):
    bucket = new_bucket(
        headers={"x-oss-acl": "public-read-write", "x-oss-server-side-encryption": "KMS"},
        permission=oss2.BUCKET_ACL_PUBLIC_READ,
    )
    assert bucket.get_bucket_info().acl.grant == "public-read"


@pytest.mark.parametrize(
    "headers, exception",
    [
        ({"x-oss-server-side-encryption": "random"}, oss2.exceptions.InvalidEncryptionAlgorithmError),
        (
            {"x-oss-server-side-encryption": "AES256", "x-oss-server-side-encryption-key-id": KMS_KEY},
            oss2.exceptions.InvalidArgument,
        ),
        (
            {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-data-encryption": "AES128"},
            oss2.exceptions.InvalidArgument,
        ),
    ],
)
def test_bucket_creation_rejects_invalid_sse_headers(new_bucket, service, headers, exception):
    assert isinstance(error_of(new_bucket, headers=headers), exception)
    assert service.list_buckets().buckets == []


# -- Put/Get/DeleteBucketEncryption (oss-api.md §5.8) -----------------------------------------------------


@pytest.mark.parametrize(
    "put, stored",
    [
        (rule("AES256"), ("AES256", None, None)),
        (rule("SM4"), ("SM4", None, None)),
        (rule("KMS"), ("KMS", None, None)),
        (rule("KMS", ""), ("KMS", None, None)),
        (rule("KMS", "test_wrong"), ("KMS", "test_wrong", None)),
        (rule("KMS", KMS_KEY, "SM4"), ("KMS", KMS_KEY, "SM4")),
        (rule("KMS", None, "SM4"), ("KMS", None, "SM4")),
        (rule("AES256", None, "SM4"), ("AES256", None, None)),
        (rule("SM4", "", "SM4"), ("SM4", None, None)),
    ],
)
def test_put_bucket_encryption_stores_the_normalised_rule(bucket, put, stored):
    assert bucket.put_bucket_encryption(put).status == 200
    got = bucket.get_bucket_encryption()
    assert (got.sse_algorithm, got.kms_master_keyid, got.kms_data_encryption) == stored
    assert rule_of(bucket) == stored


@pytest.mark.parametrize(
    "put, exception",
    [
        ("<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault>", oss2.exceptions.MalformedXml),
        ("<ServerSideEncryptionRule></ServerSideEncryptionRule>", oss2.exceptions.MalformedXml),
        ("<Other><ApplyServerSideEncryptionByDefault/></Other>", oss2.exceptions.MalformedXml),
        (rule("random"), oss2.exceptions.InvalidEncryptionAlgorithmError),
        (rule(None), oss2.exceptions.InvalidEncryptionAlgorithmError),
        (rule("random", KMS_KEY), oss2.exceptions.InvalidEncryptionAlgorithmError),
        (rule("AES256", KMS_KEY), oss2.exceptions.InvalidArgument),
        (rule("SM4", KMS_KEY, "SM4"), oss2.exceptions.InvalidArgument),
        (rule("KMS", KMS_KEY, "AES128"), oss2.exceptions.InvalidArgument),
    ],
)
def test_put_bucket_encryption_rejects_an_invalid_rule(bucket, put, exception):
    bucket.put_bucket_encryption(rule("SM4"))
    assert isinstance(error_of(bucket.put_bucket_encryption, put), exception)
    assert rule_of(bucket) == ("SM4", None, None)


def test_put_bucket_encryption_replaces_the_rule(bucket):
    bucket.put_bucket_encryption(rule("KMS", KMS_KEY, "SM4"))
    bucket.put_bucket_encryption(rule("AES256"))
    assert rule_of(bucket) == ("AES256", None, None)


def test_get_bucket_encryption_without_a_rule_is_not_found(bucket):
    error = error_of(bucket.get_bucket_encryption)
    assert isinstance(error, oss2.exceptions.NoSuchServerSideEncryptionRule)
    assert error.status == 404


def test_deleted_bucket_encryption_is_gone(bucket):
    bucket.put_bucket_encryption(rule("KMS", KMS_KEY))
    assert bucket.delete_bucket_encryption().status == 204
    assert isinstance(error_of(bucket.get_bucket_encryption), oss2.exceptions.NoSuchServerSideEncryptionRule)
    assert rule_of(bucket) == (None, None, None)
    assert bucket.delete_bucket_encryption().status == 204
