"""Bucket lifecycle rules through the real oss2 SDK over HTTP: every kind of rule OSS accepts is stored and comes
back as it was sent; what OSS refuses is refused."""

import datetime

import oss2
import pytest
from oss2.models import (
    AbortMultipartUpload,
    BucketLifecycle,
    FilterNot,
    FilterNotTag,
    LifecycleExpiration,
    LifecycleFilter,
    LifecycleRule,
    NoncurrentVersionExpiration,
    NoncurrentVersionStorageTransition,
    StorageTransition,
    Tagging,
    TaggingRule,
)

JANUARY = datetime.date(2024, 1, 1)


def _tagging(**tags) -> Tagging:
    rule = TaggingRule()
    for key, value in tags.items():
        rule.add(key, value)
    return Tagging(rule)


def _rule(rule_id: str, prefix: str, **parts) -> LifecycleRule:
    """A rule spelled out as oss2 parses one back: the parts it leaves out are empty, not None."""
    defaults = {"storage_transitions": [], "noncurrent_version_sotrage_transitions": [], "filter": LifecycleFilter()}
    return LifecycleRule(rule_id, prefix, atime_base=0, **{**defaults, **parts})


def _every_kind_of_rule() -> list[LifecycleRule]:
    return [
        _rule("expire-by-days", "logs/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=30)),
        _rule(
            "expire-before-date",
            "tmp/",
            status=LifecycleRule.DISABLED,
            expiration=LifecycleExpiration(created_before_date=JANUARY),
        ),
        _rule(
            "markers",
            "versioned/",
            status=LifecycleRule.ENABLED,
            expiration=LifecycleExpiration(expired_detete_marker=True),
            noncurrent_version_expiration=NoncurrentVersionExpiration(60),
            noncurrent_version_sotrage_transitions=[
                NoncurrentVersionStorageTransition(10, oss2.BUCKET_STORAGE_CLASS_IA),
                NoncurrentVersionStorageTransition(20, oss2.BUCKET_STORAGE_CLASS_ARCHIVE),
            ],
        ),
        _rule(
            "uploads",
            "big/",
            status=LifecycleRule.ENABLED,
            abort_multipart_upload=AbortMultipartUpload(days=7),
        ),
        _rule(
            "transitions",
            "data/",
            status=LifecycleRule.ENABLED,
            storage_transitions=[
                StorageTransition(days=30, storage_class=oss2.BUCKET_STORAGE_CLASS_IA),
                StorageTransition(created_before_date=JANUARY, storage_class=oss2.BUCKET_STORAGE_CLASS_COLD_ARCHIVE),
            ],
            tagging=_tagging(team="ops", tier="cold"),
            filter=LifecycleFilter(
                filter_not=[FilterNot("data/keep/", FilterNotTag("pinned", "yes"))],
                object_size_greater_than=1024,
                object_size_less_than=1048576,
            ),
        ),
    ]


def _described(rule: LifecycleRule) -> dict:
    """Everything a rule says, as plain values, so that two rules compare by content."""

    def plain(value):
        if isinstance(value, list):
            return [plain(item) for item in value]
        if isinstance(value, Tagging):
            return dict(value.tag_set.tagging_rule)
        if hasattr(value, "__dict__"):
            return {name: plain(item) for name, item in vars(value).items()}
        return value

    return plain(rule)


def test_every_kind_of_rule_comes_back_as_it_was_sent(bucket):
    sent = _every_kind_of_rule()

    bucket.put_bucket_lifecycle(BucketLifecycle(sent))

    got = bucket.get_bucket_lifecycle().rules
    assert [_described(rule) for rule in got] == [_described(rule) for rule in sent]


def test_a_new_configuration_replaces_the_old_one(bucket):
    bucket.put_bucket_lifecycle(BucketLifecycle(_every_kind_of_rule()))
    only = LifecycleRule("only", "", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=1))

    bucket.put_bucket_lifecycle(BucketLifecycle([only]))

    assert [rule.id for rule in bucket.get_bucket_lifecycle().rules] == ["only"]


def test_a_bucket_without_rules_answers_no_such_lifecycle_also_after_a_delete(bucket):
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()
    bucket.put_bucket_lifecycle(BucketLifecycle(_every_kind_of_rule()))

    bucket.delete_bucket_lifecycle()

    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()


def test_a_rule_sent_without_an_id_is_given_one(bucket):
    rule = LifecycleRule("", "logs/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=3))

    bucket.put_bucket_lifecycle(BucketLifecycle([rule]))

    (got,) = bucket.get_bucket_lifecycle().rules
    assert got.id and got.prefix == "logs/"


@pytest.mark.parametrize(
    "rule",
    [
        LifecycleRule("no-action", "a/", status=LifecycleRule.ENABLED),
        LifecycleRule("zero-days", "a/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=0)),
        LifecycleRule("bad-status", "a/", status="Paused", expiration=LifecycleExpiration(days=1)),
        LifecycleRule(
            "to-standard",
            "a/",
            status=LifecycleRule.ENABLED,
            storage_transitions=[StorageTransition(days=1, storage_class=oss2.BUCKET_STORAGE_CLASS_STANDARD)],
        ),
    ],
    ids=lambda rule: rule.id,
)
def test_a_rule_oss_refuses_is_refused_and_changes_nothing(bucket, rule):
    kept = LifecycleRule("kept", "", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=1))
    bucket.put_bucket_lifecycle(BucketLifecycle([kept]))

    with pytest.raises(oss2.exceptions.ServerError) as refused:
        bucket.put_bucket_lifecycle(BucketLifecycle([rule]))

    assert refused.value.status == 400
    assert [got.id for got in bucket.get_bucket_lifecycle().rules] == ["kept"]


def test_rule_ids_must_be_unique(bucket):
    rules = [
        LifecycleRule("same", "a/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=1)),
        LifecycleRule("same", "b/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=2)),
    ]

    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_bucket_lifecycle(BucketLifecycle(rules))


def test_lifecycle_rules_are_not_open_to_anonymous_callers(bucket, localcloud):
    anonymous = oss2.Bucket(oss2.AnonymousAuth(), localcloud, bucket.bucket_name)

    with pytest.raises(oss2.exceptions.AccessDenied):
        anonymous.get_bucket_lifecycle()
