"""ListObjects and ListObjectsV2 (oss-api.md §6.9, §6.10) through the real oss2 SDK against a running localcloud."""

import oss2
import pytest

NASTY_KEYS = [
    "a b.txt",
    "a+b.txt",
    "100% sure",
    "测试/文件.bin",
    "ünï cödé",
    "q?x=1&y=2#frag",
    "tab\there",
    "~/.hidden",
]


def put_objects(bucket, keys, headers=None):
    """Objects with the given keys; each one's content is its key."""
    for key in keys:
        bucket.put_object(key, key.encode(), headers=headers)


def error_of(call, *args, **kwargs) -> oss2.exceptions.OssError:
    with pytest.raises(oss2.exceptions.OssError) as raised:
        call(*args, **kwargs)
    return raised.value


def names(entries) -> list[str]:
    return [entry.key for entry in entries]


def walk_v1(bucket, **kwargs) -> list[str]:
    return names(oss2.ObjectIterator(bucket, **kwargs))


def walk_v2(bucket, **kwargs) -> list[str]:
    return names(oss2.ObjectIteratorV2(bucket, **kwargs))


TREE = ["a/1", "a/2", "a/3", "b", "c/1", "c/x/2", "c/x/3", "d", "e/"]


# -- order, paging, fields --------------------------------------------------------------------------------


def test_listing_is_in_code_point_order(bucket):
    keys = ["b", "B", "a", "a-", "a.", "a/", "aa", "é", "z", "中", "\U0001f600", "_"]
    put_objects(bucket, keys)
    assert walk_v1(bucket) == sorted(keys)
    assert walk_v2(bucket, max_keys=5) == sorted(keys)


@pytest.mark.parametrize("max_keys", [1, 2, 3, 4, 100])
def test_object_iterator_pages_without_repeating_common_prefixes(bucket, max_keys):
    put_objects(bucket, TREE)
    listed = list(oss2.ObjectIterator(bucket, delimiter="/", max_keys=max_keys))
    assert [(entry.key, entry.is_prefix()) for entry in listed] == [
        ("a/", True),
        ("b", False),
        ("c/", True),
        ("d", False),
        ("e/", True),
    ]
    assert walk_v2(bucket, delimiter="/", max_keys=max_keys) == ["a/", "b", "c/", "d", "e/"]


def test_delimiter_rolls_up_below_the_prefix(bucket):
    put_objects(bucket, TREE)
    result = bucket.list_objects(prefix="c/", delimiter="/")
    assert names(result.object_list) == ["c/1"]
    assert result.prefix_list == ["c/x/"]
    assert not result.is_truncated


def test_prefix_without_delimiter_lists_every_key_below_it(bucket):
    put_objects(bucket, TREE)
    assert walk_v1(bucket, prefix="c/", max_keys=1) == ["c/1", "c/x/2", "c/x/3"]
    assert walk_v1(bucket, prefix="nothing") == []


def test_marker_inside_a_common_prefix_skips_that_prefix(bucket):
    put_objects(bucket, TREE)
    result = bucket.list_objects(delimiter="/", marker="a/1", max_keys=2)
    assert names(result.object_list) == ["b"]
    assert result.prefix_list == ["c/"]
    assert (result.is_truncated, result.next_marker) == (True, "c/")


def test_truncated_page_names_its_last_entry(bucket):
    put_objects(bucket, ["k1", "k2", "k3"])
    result = bucket.list_objects(max_keys=2)
    assert names(result.object_list) == ["k1", "k2"]
    assert (result.is_truncated, result.next_marker) == (True, "k2")
    assert not bucket.list_objects(max_keys=3).is_truncated


def test_big_common_prefixes_are_stepped_over(bucket):
    put_objects(bucket, [f"big/{number:04}" for number in range(450)] + ["a", "big0", "c/1", "c/2", "d"])
    assert walk_v1(bucket, delimiter="/", max_keys=2) == ["a", "big/", "big0", "c/", "d"]
    assert len(walk_v2(bucket, prefix="big/", max_keys=1000)) == 450


def test_listed_objects_carry_their_attributes(new_bucket):
    bucket = new_bucket(config=oss2.models.BucketCreateConfig("IA"))
    put_objects(bucket, ["hello"])
    put_objects(bucket, ["standard"], headers={"x-oss-storage-class": "Standard"})
    hello, standard = bucket.list_objects().object_list
    assert (hello.key, hello.etag, hello.type, hello.size, hello.storage_class) == (
        "hello",
        "5D41402ABC4B2A76B9719D911017C592",
        "Normal",
        5,
        "IA",
    )
    assert hello.last_modified == bucket.head_object("hello").last_modified
    assert standard.storage_class == "Standard"
    assert hello.owner.id and hello.owner.display_name


# -- V2 -----------------------------------------------------------------------------------------------


def test_v2_continues_from_its_token(bucket):
    keys = [f"k{number:02}" for number in range(10)] + ["z1.txt", "z2.txt", "z3.txt"]
    put_objects(bucket, keys)
    first = bucket.list_objects_v2(max_keys=10)
    assert names(first.object_list) == keys[:10]
    assert first.is_truncated
    second = bucket.list_objects_v2(max_keys=10, continuation_token=first.next_continuation_token)
    assert names(second.object_list) == keys[10:]
    assert not second.is_truncated


def test_v2_starts_after_the_given_key(bucket):
    put_objects(bucket, ["a.txt", "y.txt", "z1.txt", "z2.txt", "z3.txt"])
    assert walk_v2(bucket, start_after="z") == ["z1.txt", "z2.txt", "z3.txt"]
    assert walk_v2(bucket, start_after="z1.txt", max_keys=1) == ["z2.txt", "z3.txt"]


def test_v2_token_takes_precedence_over_start_after(bucket):
    put_objects(bucket, ["a", "b", "c", "d"])
    token = bucket.list_objects_v2(max_keys=2).next_continuation_token
    result = bucket.list_objects_v2(continuation_token=token, start_after="c")
    assert names(result.object_list) == ["c", "d"]


def test_v2_lists_owners_only_when_asked(bucket):
    put_objects(bucket, ["owned"])
    assert bucket.list_objects_v2().object_list[0].owner is None
    assert bucket.list_objects_v2(fetch_owner=True).object_list[0].owner.id


def test_v2_rejects_an_undecodable_continuation_token(bucket):
    for token in ("err-token", "bm90IG1pbmU", "//8="):
        error = error_of(bucket.list_objects_v2, continuation_token=token)
        assert isinstance(error, oss2.exceptions.InvalidArgument)


# -- names that need care -----------------------------------------------------------------------------


def test_keys_with_special_characters_round_trip_url_encoded(bucket):
    put_objects(bucket, NASTY_KEYS)
    assert walk_v1(bucket, max_keys=3) == sorted(NASTY_KEYS)
    assert walk_v2(bucket, max_keys=3) == sorted(NASTY_KEYS)
    assert walk_v2(bucket, prefix="a+", delimiter=".") == ["a+b."]
    assert walk_v1(bucket, prefix="100% ") == ["100% sure"]
    assert walk_v2(bucket, start_after="a b.txt") == sorted(NASTY_KEYS)[sorted(NASTY_KEYS).index("a b.txt") + 1 :]


def test_plain_listing_without_encoding_returns_raw_names(bucket):
    put_objects(bucket, ["a b+c%d/中"])
    result = bucket.list_objects_v2(encoding_type=None, delimiter="/")
    assert result.prefix_list == ["a b+c%d/"]


def test_plain_listing_of_a_key_xml_cannot_carry_is_refused(bucket):
    put_objects(bucket, ["bad\x01key", "cr\rkey"])
    for prefix in ("bad", "cr"):
        error = error_of(bucket.list_objects_v2, prefix=prefix, encoding_type=None)
        assert isinstance(error, oss2.exceptions.InvalidArgument)
    assert walk_v2(bucket) == ["bad\x01key", "cr\rkey"]


def test_unknown_encoding_type_is_refused(bucket):
    assert isinstance(error_of(bucket.list_objects_v2, encoding_type="base64"), oss2.exceptions.InvalidArgument)


def test_bounds_holding_nul_select_no_stored_key(bucket):
    put_objects(bucket, ["a", "a!", "b"])
    assert walk_v1(bucket, marker="a\0") == ["a!", "b"]
    assert walk_v1(bucket, prefix="a\0") == []
    assert walk_v2(bucket, start_after="a\0z") == ["a!", "b"]


def test_bounds_at_the_top_of_unicode(bucket):
    top = chr(0x10FFFF)
    put_objects(bucket, [f"x{top}", f"x{top}{top}/1", f"x{top}{top}/2", "y"])
    assert walk_v1(bucket, prefix=f"x{top}", delimiter="/") == [f"x{top}", f"x{top}{top}/"]
    assert walk_v1(bucket, delimiter=top, max_keys=1) == [f"x{top}", "y"]


# -- parameters, access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("max_keys", [0, -1, 1001, "ten", "٣"])
def test_max_keys_out_of_range_is_refused(bucket, max_keys):
    assert isinstance(error_of(bucket.list_objects, max_keys=max_keys), oss2.exceptions.InvalidArgument)
    assert isinstance(error_of(bucket.list_objects_v2, max_keys=max_keys), oss2.exceptions.InvalidArgument)


def test_listing_a_missing_bucket_says_no_such_bucket(auth, localcloud):
    missing = oss2.Bucket(auth, localcloud, "test-never-created")
    assert isinstance(error_of(missing.list_objects), oss2.exceptions.NoSuchBucket)
    assert isinstance(error_of(missing.list_objects_v2), oss2.exceptions.NoSuchBucket)


def test_anonymous_listing_follows_the_bucket_acl(new_bucket, localcloud):
    public = new_bucket(permission=oss2.BUCKET_ACL_PUBLIC_READ)
    put_objects(public, ["open"])
    anonymous = oss2.Bucket(oss2.AnonymousAuth(), localcloud, public.bucket_name)
    assert walk_v1(anonymous) == walk_v2(anonymous) == ["open"]
    public.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)
    assert isinstance(error_of(anonymous.list_objects), oss2.exceptions.AccessDenied)
    assert isinstance(error_of(anonymous.list_objects_v2), oss2.exceptions.AccessDenied)
