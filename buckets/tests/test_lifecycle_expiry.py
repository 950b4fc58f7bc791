"""Expiring a versioned bucket's older versions by a lifecycle rule (issue 18): the dry-run plan, the console's one
rule set beside the user's rules (which are read back with oss2 unchanged), removed again, refused when not
confirmed or when the bucket keeps no versions, audited; on the bucket page and through the API."""

import datetime
from xml.etree import ElementTree

import oss2
import pytest
from django.utils import timezone
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

from audit.models import AuditEvent
from buckets.services import lifecycle
from cloud.errors import ServiceError
from console.testing.cloud import new_bucket, versioned_bucket
from console.testing.objects import put
from localcloud.models import BucketLifecycle as StoredLifecycle
from localcloud.models import StoredObject

NOW = timezone.now()
RULE_ID = lifecycle.CONSOLE_RULE_ID


def sdk_bucket(bucket) -> oss2.Bucket:
    """The same bucket through oss2 itself, as the bucket's owner outside the console sees it."""
    connection = bucket.connection
    auth = oss2.AuthV4(connection.access_key_id, connection.access_key_secret)
    return oss2.Bucket(auth, connection.oss_endpoint, bucket.name, region=connection.region)


def sdk_rules(bucket) -> dict[str, LifecycleRule]:
    try:
        return {rule.id: rule for rule in sdk_bucket(bucket).get_bucket_lifecycle().rules}
    except oss2.exceptions.NoSuchLifecycle:
        return {}


def users_rule() -> LifecycleRule:
    return LifecycleRule(
        "archive-logs",
        "logs/",
        status=LifecycleRule.ENABLED,
        expiration=LifecycleExpiration(days=400),
        storage_transitions=[StorageTransition(days=90, storage_class=oss2.BUCKET_STORAGE_CLASS_ARCHIVE)],
    )


def every_kind_of_user_rule() -> list[LifecycleRule]:
    tags = TaggingRule()
    tags.add("team", "ops")
    return [
        users_rule(),
        LifecycleRule(
            "markers",
            "versioned/",
            status=LifecycleRule.DISABLED,
            expiration=LifecycleExpiration(expired_detete_marker=True),
            noncurrent_version_expiration=NoncurrentVersionExpiration(60),
            noncurrent_version_sotrage_transitions=[
                NoncurrentVersionStorageTransition(10, oss2.BUCKET_STORAGE_CLASS_IA, is_access_time=True),
            ],
        ),
        LifecycleRule(
            "filtered",
            "data/",
            abort_multipart_upload=AbortMultipartUpload(days=7),
            storage_transitions=[
                StorageTransition(
                    days=30,
                    storage_class=oss2.BUCKET_STORAGE_CLASS_IA,
                    is_access_time=True,
                    return_to_std_when_visit=True,
                    allow_small_file=False,
                ),
                StorageTransition(
                    created_before_date=datetime.date(2024, 1, 1), storage_class=oss2.BUCKET_STORAGE_CLASS_COLD_ARCHIVE
                ),
            ],
            tagging=Tagging(tags),
            filter=LifecycleFilter(
                filter_not=[FilterNot("data/keep/", FilterNotTag("pinned", "yes"))],
                object_size_greater_than=1024,
                object_size_less_than=1048576,
            ),
        ),
    ]


def stored_rules(bucket) -> dict[str, str]:
    """Each rule as the service stores it, as XML: what OSS received, element by element."""
    document = ElementTree.fromstring(StoredLifecycle.objects.get(bucket__name=bucket.name).document)
    return {rule.findtext("ID"): ElementTree.tostring(rule, encoding="unicode") for rule in document}


@pytest.fixture
def history(cloud_connection):
    """A versioned bucket: `report` written 100, 40 and 5 days ago (its 100-day version noncurrent for 40 days,
    its 40-day one for 5); `gone` written 50 days ago and deleted 35 days ago; `single` written once."""
    bucket = versioned_bucket(cloud_connection, "history")
    put(bucket, "report", b"a" * 10)
    put(bucket, "report", b"b" * 20)
    put(bucket, "report", b"c" * 30)
    put(bucket, "gone", b"d" * 7)
    sdk_bucket(bucket).delete_object("gone")
    put(bucket, "single", b"e" * 1000)
    ages = {("report", 10): 100, ("report", 20): 40, ("report", 30): 5, ("gone", 7): 50, ("gone", 0): 35}
    for row in StoredObject.objects.filter(bucket__name="history").exclude(key="single"):
        age = ages[(row.key, row.size)]
        StoredObject.objects.filter(pk=row.pk).update(last_modified=NOW - datetime.timedelta(days=age))
    return bucket


def test_the_plan_counts_noncurrent_versions_and_those_noncurrent_longer_than_the_days(history):
    sdk_bucket(history).put_bucket_lifecycle(BucketLifecycle([users_rule()]))

    plan = lifecycle.expiry_plan(history, 30)

    # report's 10-byte version (noncurrent 40 days), its 20-byte one (5 days), gone's 7-byte one (35 days).
    assert (plan.noncurrent_versions, plan.noncurrent_bytes) == (3, 37)
    assert (plan.due_versions, plan.due_bytes) == (2, 17)
    assert [rule.rule_id for rule in plan.kept_rules] == ["archive-logs"] and plan.replaced_rule is None
    longer = lifecycle.expiry_plan(history, 36)
    assert (longer.noncurrent_versions, longer.due_versions, longer.due_bytes) == (3, 1, 10)
    assert sdk_rules(history).keys() == {"archive-logs"}, "a plan writes nothing"


def test_the_plan_pages_through_the_listing(history, monkeypatch):
    monkeypatch.setattr(lifecycle, "VERSIONS_PER_LISTING", 1)

    plan = lifecycle.expiry_plan(history, 30)

    assert (plan.noncurrent_versions, plan.noncurrent_bytes, plan.due_versions, plan.due_bytes) == (3, 37, 2, 17)


def test_expiry_adds_the_console_rule_and_keeps_the_user_s_rule_as_it_was(history, operator):
    sdk_bucket(history).put_bucket_lifecycle(BucketLifecycle([users_rule()]))
    before = sdk_rules(history)["archive-logs"]

    change = lifecycle.expire_noncurrent_versions(history, 30, operator, "history")

    rules = sdk_rules(history)
    assert rules.keys() == {"archive-logs", RULE_ID}
    kept = rules["archive-logs"]
    assert (kept.prefix, kept.status, kept.expiration.days) == ("logs/", "Enabled", 400)
    assert [(t.days, t.storage_class) for t in kept.storage_transitions] == [(90, "Archive")]
    assert vars(kept.expiration) == vars(before.expiration)
    ours = rules[RULE_ID]
    assert (ours.prefix, ours.status, ours.noncurrent_version_expiration.noncurrent_days) == ("", "Enabled", 30)
    assert [rule.rule_id for rule in change.rules] == ["archive-logs", RULE_ID]
    event = AuditEvent.objects.get(action=lifecycle.EXPIRE_ACTION)
    assert (event.outcome, event.actor, event.bucket) == (AuditEvent.SUCCESS, operator, "history")
    assert event.before == {"rules": ["archive-logs"]}
    assert event.after == {
        "rule": RULE_ID,
        "days": 30,
        "noncurrent_versions": 3,
        "noncurrent_bytes": 37,
        "due_versions": 2,
        "due_bytes": 17,
        "rules": ["archive-logs", RULE_ID],
    }


def test_every_part_of_every_user_rule_survives_expiry_and_removal(history, operator):
    sdk_bucket(history).put_bucket_lifecycle(BucketLifecycle(every_kind_of_user_rule()))
    users = stored_rules(history)

    lifecycle.expire_noncurrent_versions(history, 30, operator, "history")
    with_ours = stored_rules(history)
    lifecycle.remove_expiry(history, operator)

    assert {rule_id: xml for rule_id, xml in with_ours.items() if rule_id != RULE_ID} == users
    assert stored_rules(history) == users


def test_expiring_again_replaces_only_the_console_rule(history, operator):
    sdk_bucket(history).put_bucket_lifecycle(BucketLifecycle([users_rule()]))
    lifecycle.expire_noncurrent_versions(history, 30, operator, "history")

    plan = lifecycle.expiry_plan(history, 90)
    lifecycle.expire_noncurrent_versions(history, 90, operator, "history")

    assert plan.replaced_rule.noncurrent_days == 30
    rules = sdk_rules(history)
    assert rules.keys() == {"archive-logs", RULE_ID}
    assert rules[RULE_ID].noncurrent_version_expiration.noncurrent_days == 90
    assert rules["archive-logs"].expiration.days == 400


@pytest.mark.parametrize("typed", ["", "History", "history ", "other"])
def test_expiry_is_refused_unless_the_bucket_name_is_typed_and_nothing_is_written(history, operator, typed):
    with pytest.raises(ServiceError, match="Type the bucket's name, history, to confirm"):
        lifecycle.expire_noncurrent_versions(history, 30, operator, typed)

    assert sdk_rules(history) == {}
    assert lifecycle.lifecycle_rules(history) == []
    event = AuditEvent.objects.get(action=lifecycle.EXPIRE_ACTION)
    assert event.outcome == AuditEvent.FAILURE and "Type the bucket's name" in event.error


@pytest.mark.parametrize("days", [0, -1, 3651, "30", 2.5, True])
def test_days_are_a_whole_number_from_1_to_3650(history, operator, days):
    with pytest.raises(ServiceError, match="Days must be a whole number from 1 to 3650"):
        lifecycle.expire_noncurrent_versions(history, days, operator, "history")
    with pytest.raises(ServiceError, match="Days must be a whole number from 1 to 3650"):
        lifecycle.expiry_plan(history, days)

    assert sdk_rules(history) == {}


def test_a_bucket_that_keeps_no_versions_is_refused(cloud_connection, operator):
    plain = new_bucket(cloud_connection, "plain")

    with pytest.raises(ServiceError, match="Bucket plain is not versioned: it keeps no older versions"):
        lifecycle.expire_noncurrent_versions(plain, 30, operator, "plain")
    with pytest.raises(ServiceError, match="is not versioned"):
        lifecycle.expiry_plan(plain, 30)

    assert sdk_rules(plain) == {}
    assert AuditEvent.objects.get(action=lifecycle.EXPIRE_ACTION).outcome == AuditEvent.FAILURE


def test_a_suspended_bucket_still_keeps_older_versions_and_may_expire_them(history, operator):
    sdk_bucket(history).put_bucket_versioning(oss2.models.BucketVersioningConfig("Suspended"))

    change = lifecycle.expire_noncurrent_versions(history, 30, operator, "history")

    assert change.plan.versioning == "Suspended" and sdk_rules(history).keys() == {RULE_ID}


def test_removal_keeps_the_user_s_rules(history, operator):
    sdk_bucket(history).put_bucket_lifecycle(BucketLifecycle([users_rule()]))
    lifecycle.expire_noncurrent_versions(history, 30, operator, "history")

    change = lifecycle.remove_expiry(history, operator)

    assert sdk_rules(history).keys() == {"archive-logs"}
    assert [rule.rule_id for rule in change.rules] == ["archive-logs"]
    event = AuditEvent.objects.get(action=lifecycle.REMOVE_ACTION)
    assert event.before == {"rules": ["archive-logs", RULE_ID]} and event.after == {"rules": ["archive-logs"]}


def test_removing_the_only_rule_deletes_the_configuration_and_a_second_removal_is_refused(history, operator):
    lifecycle.expire_noncurrent_versions(history, 30, operator, "history")

    lifecycle.remove_expiry(history, operator)

    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        sdk_bucket(history).get_bucket_lifecycle()
    with pytest.raises(ServiceError, match=f"Bucket history has no rule {RULE_ID}: there is nothing to remove"):
        lifecycle.remove_expiry(history, operator)


def test_rules_are_described_in_words(history):
    sdk_bucket(history).put_bucket_lifecycle(BucketLifecycle([users_rule()]))

    (rule,) = lifecycle.lifecycle_rules(history)

    assert (rule.rule_id, rule.prefix, rule.status) == ("archive-logs", "logs/", "Enabled")
    assert rule.scope == ("objects whose key starts with 'logs/'",)
    assert rule.actions == (
        "deletes objects 400 days after they were last modified",
        "moves objects to Archive 90 days after they were last modified",
    )


def test_filters_tags_and_history_rules_are_described_in_words(history):
    sdk_bucket(history).put_bucket_lifecycle(BucketLifecycle(every_kind_of_user_rule()))

    _, markers, filtered = lifecycle.lifecycle_rules(history)

    assert markers.status == "Disabled" and markers.noncurrent_days == 60
    assert markers.actions == (
        "removes delete markers that have no older version left",
        "deletes older (noncurrent) versions 60 days after they became noncurrent",
        "moves older (noncurrent) versions to IA 10 days after they became noncurrent",
    )
    assert filtered.scope == (
        "objects whose key starts with 'data/'",
        "tagged team=ops",
        "except keys starting with 'data/keep/' tagged pinned=yes",
        "larger than 1024 bytes",
        "smaller than 1048576 bytes",
    )
    assert filtered.actions == (
        "moves objects to IA 30 days after they were last read",
        "moves objects to ColdArchive if last modified before 2024-01-01",
        "aborts multipart uploads 7 days after they began",
    )


# The bucket page


def test_the_bucket_page_lists_the_rules_and_an_operator_sees_the_plan_and_confirms_it(history, client_as, operator):
    sdk_bucket(history).put_bucket_lifecycle(BucketLifecycle([users_rule()]))
    client = client_as(operator)

    page = client.get(f"/buckets/{history.pk}/", {"days": 30}).content.decode()

    assert "archive-logs" in page and "moves objects to Archive 90 days after they were last modified" in page
    assert "<h2>Older versions</h2>" in page
    assert "<strong>3 noncurrent versions (37\xa0bytes)</strong> kept today" in page
    assert "<strong>2</strong> of them (17\xa0bytes) are older than 30 days and would expire" in page
    assert "Your other 1 lifecycle rule is kept: archive-logs." in page
    assert sdk_rules(history).keys() == {"archive-logs"}

    refused = client.post(
        f"/buckets/{history.pk}/older-versions/expire/", {"days": 30, "confirmation": "wrong"}, follow=True
    )
    assert "Type the bucket&#x27;s name, history, to confirm" in refused.content.decode()
    assert sdk_rules(history).keys() == {"archive-logs"}

    done = client.post(
        f"/buckets/{history.pk}/older-versions/expire/", {"days": 30, "confirmation": "history"}, follow=True
    )
    html = done.content.decode()
    assert f"Rule {RULE_ID} set on history" in html and "2 of 3 are past that already" in html
    assert sdk_rules(history).keys() == {"archive-logs", RULE_ID}
    assert "set by the console" in html

    removed = client.post(f"/buckets/{history.pk}/older-versions/remove/", follow=True).content.decode()
    assert f"Rule {RULE_ID} removed from history" in removed
    assert sdk_rules(history).keys() == {"archive-logs"}


def test_days_out_of_range_are_refused_on_the_page(history, client_as, operator):
    page = client_as(operator).get(f"/buckets/{history.pk}/", {"days": 4000}).content.decode()

    assert "Ensure this value is less than or equal to 3650." in page and "noncurrent versions (" not in page


def test_a_viewer_sees_the_rules_but_neither_plan_nor_expiry(history, client_as, viewer):
    sdk_bucket(history).put_bucket_lifecycle(BucketLifecycle([users_rule()]))
    client = client_as(viewer)

    page = client.get(f"/buckets/{history.pk}/", {"days": 30}).content.decode()

    assert "archive-logs" in page and "<h2>Older versions</h2>" not in page
    posted = client.post(f"/buckets/{history.pk}/older-versions/expire/", {"days": 30, "confirmation": "history"})
    assert posted.status_code == 403
    assert client.post(f"/buckets/{history.pk}/older-versions/remove/").status_code == 403
    assert sdk_rules(history).keys() == {"archive-logs"}


def test_an_unversioned_bucket_shows_no_older_versions_card(cloud_connection, client_as, operator):
    plain = new_bucket(cloud_connection, "plain")

    page = client_as(operator).get(f"/buckets/{plain.pk}/").content.decode()

    assert "No lifecycle rules" in page and "<h2>Older versions</h2>" not in page


# The API


def lifecycle_api(bucket) -> str:
    return f"/api/v1/buckets/{bucket.pk}/lifecycle/"


def test_the_api_plans_expires_and_removes_keeping_the_user_s_rules(history, api_as, operator):
    sdk_bucket(history).put_bucket_lifecycle(BucketLifecycle([users_rule()]))
    api = api_as(operator)

    plan = api.get(f"{lifecycle_api(history)}expiry-plan/", {"days": 30}).json()
    assert plan | {"kept_rules": None} == {
        "bucket": history.pk,
        "days": 30,
        "versioning": "Enabled",
        "noncurrent_versions": 3,
        "noncurrent_bytes": 37,
        "due_versions": 2,
        "due_bytes": 17,
        "kept_rules": None,
        "replaced_rule": None,
    }
    assert [rule["id"] for rule in plan["kept_rules"]] == ["archive-logs"]

    refused = api.post(f"{lifecycle_api(history)}expire-noncurrent/", {"days": 30, "confirmation": "nope"})
    assert refused.status_code == 400 and "Type the bucket's name" in refused.json()["detail"]
    out_of_range = api.post(f"{lifecycle_api(history)}expire-noncurrent/", {"days": 0, "confirmation": "history"})
    assert out_of_range.status_code == 400 and "days" in out_of_range.json()
    assert sdk_rules(history).keys() == {"archive-logs"}

    expired = api.post(f"{lifecycle_api(history)}expire-noncurrent/", {"days": 30, "confirmation": "history"})
    assert expired.status_code == 200
    assert [(r["id"], r["set_by_console"]) for r in expired.json()["rules"]] == [
        ("archive-logs", False),
        (RULE_ID, True),
    ]
    listed = api.get(lifecycle_api(history)).json()["rules"]
    assert listed[1] | {"actions": None} == {
        "id": RULE_ID,
        "prefix": "",
        "status": "Enabled",
        "scope": ["every object of the bucket"],
        "actions": None,
        "noncurrent_days": 30,
        "set_by_console": True,
    }

    removed = api.delete(f"{lifecycle_api(history)}expire-noncurrent/")
    assert removed.status_code == 200 and [r["id"] for r in removed.json()["rules"]] == ["archive-logs"]
    assert sdk_rules(history).keys() == {"archive-logs"}


def test_the_api_lets_a_viewer_read_the_rules_only(history, api_as, viewer):
    api = api_as(viewer)

    assert api.get(lifecycle_api(history)).json() == {"rules": []}
    assert api.get(f"{lifecycle_api(history)}expiry-plan/", {"days": 30}).status_code == 403
    expire = api.post(f"{lifecycle_api(history)}expire-noncurrent/", {"days": 30, "confirmation": "history"})
    assert expire.status_code == 403
    assert api.delete(f"{lifecycle_api(history)}expire-noncurrent/").status_code == 403
    assert sdk_rules(history) == {}


def test_the_api_refuses_an_unversioned_bucket(cloud_connection, api_as, operator):
    plain = new_bucket(cloud_connection, "plain")

    answer = api_as(operator).post(f"{lifecycle_api(plain)}expire-noncurrent/", {"days": 30, "confirmation": "plain"})

    assert answer.status_code == 400 and "is not versioned" in answer.json()["detail"]
