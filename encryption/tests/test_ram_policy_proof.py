"""Proof that the RAM policy helper's policies suffice, and that nothing in them is spare.

For each console feature, localcloud gets an access key limited to exactly the policy the helper generates for
that purpose, and the feature runs through the console's own service functions over HTTP: it works. Then each
action is taken out of the policy in turn (a statement goes when its last action goes) and the feature runs
again: it fails, and the error the console shows names the missing action. Jobs run in-process with the
functions a worker calls (jobs.engine.page_worker.run_page, services.count_objects), as jobs/tests/test_pages.py.
"""

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from buckets.models import Bucket, Connection
from buckets.services import buckets as bucket_services
from buckets.services import cse_transfer, lifecycle
from buckets.services import objects as object_services
from cloud.errors import ServiceError
from cloud.oss import SSE_KEY_HEADER, EncryptionRule, OssClient
from cloud.sse import Sse
from console.testing.cloud import named_key
from console.testing.jobs import fill
from encryption import ram_policy
from encryption.services import keys as key_services
from encryption.services import master_keys
from jobs import selectors
from jobs.models import Job
from jobs.services import jobs as job_services
from localcloud.accesskeys import create_access_key

REGION = "cn-hangzhou"
CONTENT = b"date,amount\n2024-01-31,1200\n"
# Actions a feature calls only when something else goes wrong: taking them out cannot make a healthy run fail.
ONLY_ON_FAILURE = {"oss:AbortMultipartUpload", "oss:ListMultipartUploads"}
_names = itertools.count()


class FeatureFailed(Exception):
    """What the console showed when a feature did not complete."""


@dataclass(frozen=True)
class Feature:
    """A console feature: the purpose whose policy it needs, the encryption it is asked for, how the owner prepares
    the bucket, and how it runs as the limited connection (raising what the console would show)."""

    purpose: str
    sse: Callable[[dict], Sse]
    prepare: Callable[[Bucket, dict], None]
    run: Callable[[Bucket, dict], None]


@pytest.fixture
def world(cloud_connection, admin, settings, queued):
    """The owner's connection, a named CMK, an RSA master key, and jobs that run in-process."""
    settings.JOBS_PAGE_SIZE = 3
    settings.JOBS_COPY_THRESHOLD_BYTES = 20  # the larger objects of fill() take the multipart copy
    return {
        "owner": cloud_connection,
        "actor": admin,
        "key_id": named_key(cloud_connection, "alias/proof"),
        "master_key": master_keys.generate_rsa(actor=admin, name="proof"),
        "queued": queued,
    }


def owner_bucket(world) -> Bucket:
    name = f"proof-{next(_names)}"
    OssClient(world["owner"]).create_bucket(name)
    return Bucket.objects.create(connection=world["owner"], name=name, region=REGION, refreshed_at=timezone.now())


def limited_bucket(world, bucket: Bucket, document: dict) -> Bucket:
    """The same bucket as a connection whose access key may do only what `document` allows sees it."""
    access_key_id, secret = create_access_key("ram proof", policy=document)
    connection = Connection(name=f"limited-{next(_names)}", oss_endpoint=world["owner"].oss_endpoint, region=REGION)
    connection.set_credentials(access_key_id, secret)
    connection.save()
    return Bucket.objects.create(connection=connection, name=bucket.name, region=REGION, refreshed_at=timezone.now())


def helper_policy(world, feature: Feature, bucket: Bucket) -> ram_policy.Policy:
    result = key_services.ram_policy_for(
        connection=world["owner"], bucket_name=bucket.name, sse=feature.sse(world), purposes=[feature.purpose]
    )
    return result.policy


def without_action(policy: ram_policy.Policy, index: int, action: str) -> ram_policy.Policy:
    statement = policy.statements[index]
    grants = tuple(grant for grant in statement.grants if grant.action != action)
    if not grants:
        return policy.without(index)
    statements = list(policy.statements)
    statements[index] = ram_policy.Statement(statement.resource, grants)
    return ram_policy.Policy(tuple(statements))


def attempt(world, feature: Feature, reduce=lambda policy: policy) -> str:
    """Run the feature on a fresh bucket as a key limited to the helper's policy (reduced); what failed, or ""."""
    bucket = owner_bucket(world)
    feature.prepare(bucket, world)
    policy = reduce(helper_policy(world, feature, bucket))
    try:
        feature.run(limited_bucket(world, bucket, policy.document()), world)
    except (ServiceError, FeatureFailed) as error:
        return str(getattr(error, "message", error))
    return ""


# The features, as the console's services run them


def kms_named(world) -> Sse:
    return Sse("kms", "AES256", world["key_id"])


def nothing(bucket, world) -> None:
    return None


def set_encryption(bucket, world) -> None:
    change = bucket_services.set_default_encryption(bucket, kms_named(world), world["actor"])
    assert change.after == kms_named(world)


def upload(bucket, world) -> None:
    content = SimpleUploadedFile("ledger.csv", CONTENT)
    result = object_services.upload_object(
        bucket, key="2024/ledger.csv", content=content, sse=kms_named(world), actor=world["actor"]
    )
    assert result.encryption.sse == kms_named(world)


def put_sealed_object(bucket, world) -> None:
    headers = kms_named(world).request_headers()
    OssClient(world["owner"]).put_object(bucket.name, "2024/ledger.csv", CONTENT, headers)


def download(bucket, world) -> None:
    download = object_services.open_download(bucket, "2024/ledger.csv")
    try:
        assert b"".join(download.chunks) == CONTENT
    finally:
        download.chunks.close()


def browse(bucket, world) -> None:
    """The bucket list (refresh), the object browser and the object page."""
    outcome = bucket_services.refresh_buckets(bucket.connection)
    # The account's other buckets are listed too, but this policy lets the console describe only this one.
    others = tuple(
        f"bucket {name}:" for name in Bucket.objects.exclude(name=bucket.name).values_list("name", flat=True)
    )
    problems = [problem for problem in outcome.error.split("; ") if problem and not problem.startswith(others)]
    if problems:
        raise FeatureFailed("; ".join(problems))
    listing = object_services.browse_objects(bucket, prefix="2024/")
    problems = [row.error for row in listing.objects if row.error]
    if problems:
        raise FeatureFailed("; ".join(problems))
    assert [row.name for row in listing.objects] == ["ledger.csv"]
    object_services.describe_object(bucket, "2024/ledger.csv")
    versions = object_services.object_versions(bucket, "2024/ledger.csv")
    problems = [row.error for row in versions.rows if row.error]
    if problems:
        raise FeatureFailed("; ".join(problems))
    assert len(versions.rows) == 2


def put_plain_object(bucket, world) -> None:
    """In a versioned bucket, as an older version and a current one: the object page lists and HEADs both."""
    owner = OssClient(world["owner"])
    owner.put_versioning(bucket.name, "Enabled")
    for content in (b"an older version", CONTENT):
        owner.put_object(bucket.name, "2024/ledger.csv", content, {"x-oss-object-acl": "private"})


def mixed_objects_with_history_under_a_kms_default(bucket, world) -> None:
    """Versioned, each object written twice: a scan counts the older versions too."""
    owner = OssClient(world["owner"])
    owner.put_versioning(bucket.name, "Enabled")
    fill(bucket, 5)
    fill(bucket, 5)
    owner.put_encryption(bucket.name, EncryptionRule("KMS", world["key_id"]))


def mixed_objects(bucket, world) -> None:
    fill(bucket, 5)


def run_job(bucket, world, spec: job_services.Spec, **options) -> None:
    """Start the job and work its pages as a worker would; a job that does not complete cleanly raises why."""
    job = job_services.create_job(
        actor=world["actor"], connection=bucket.connection, bucket=bucket.name, spec=spec, **options
    )
    world["queued"]()
    job.refresh_from_db()
    problems = [message for message in (job.error, job.count_error) if message]
    problems += [f"{o.key}: {o.reason}" for o in job.outcomes.filter(outcome__in=("failed", "skipped"))]
    problems += [f"{key} version {version}: {why}" for key, version, why in selectors.progress(job).history_failures]
    if job.state != Job.COMPLETED or problems:
        raise FeatureFailed(f"job {job.state}: " + "; ".join(problems))


def scan(bucket, world) -> None:
    run_job(bucket, world, job_services.Spec(kind=Job.SCAN))


def reencrypt(bucket, world) -> None:
    spec = job_services.Spec(
        target_mode=Job.TARGET_EXPLICIT, target_method="kms", target_algorithm="AES256", target_key_id=world["key_id"]
    )
    run_job(bucket, world, spec)


def objects_with_older_unencrypted_versions(bucket, world) -> None:
    """Versioned, each object written twice in mixed states: older versions of every kind."""
    OssClient(world["owner"]).put_versioning(bucket.name, "Enabled")
    fill(bucket, 5)
    fill(bucket, 5)


def reencrypt_and_purge(bucket, world) -> None:
    spec = job_services.Spec(
        target_mode=Job.TARGET_EXPLICIT,
        target_method="kms",
        target_algorithm="AES256",
        target_key_id=world["key_id"],
        purge_history=True,
    )
    run_job(bucket, world, spec, purge_confirmation=bucket.name)
    owner = OssClient(world["owner"])
    left = [
        version.key
        for version in owner.list_object_versions(bucket.name).versions
        if not version.is_latest
        and owner.head_object(bucket.name, version.key, version.version_id).header(SSE_KEY_HEADER) != world["key_id"]
    ]
    if left:
        raise FeatureFailed(f"older versions not as targeted were left: {', '.join(left)}")


def client_side(bucket, world) -> None:
    content = SimpleUploadedFile("ledger.csv", CONTENT)
    cse_transfer.upload_client_side(
        bucket, "2024/ledger.csv", content, world["master_key"], world["actor"], sse=kms_named(world)
    )
    download = cse_transfer.download_client_side(bucket, "2024/ledger.csv", actor=world["actor"])
    assert b"".join(download.stream) == CONTENT


def versioned_history(bucket, world) -> None:
    """Versioned, each object written twice: older versions for the plan to count."""
    OssClient(world["owner"]).put_versioning(bucket.name, "Enabled")
    fill(bucket, 3)
    fill(bucket, 3)


def expire_versions(bucket, world) -> None:
    """The plan, the rule set, and removed again (the bucket's only rule: the configuration is deleted)."""
    plan = lifecycle.expiry_plan(bucket, 30)
    assert plan.noncurrent_versions == 3
    lifecycle.expire_noncurrent_versions(bucket, 30, world["actor"], bucket.name)
    assert lifecycle.remove_expiry(bucket, world["actor"]).rules == []


FEATURES = {
    "set bucket encryption": Feature(ram_policy.SET_ENCRYPTION, kms_named, nothing, set_encryption),
    "upload": Feature(ram_policy.UPLOAD, kms_named, nothing, upload),
    "download": Feature(ram_policy.DOWNLOAD, kms_named, put_sealed_object, download),
    "list buckets and objects": Feature(
        ram_policy.BROWSE, lambda world: Sse("oss", "AES256"), put_plain_object, browse
    ),
    "compliance scan": Feature(ram_policy.SCAN, kms_named, mixed_objects_with_history_under_a_kms_default, scan),
    "re-encryption job": Feature(ram_policy.REENCRYPT, kms_named, mixed_objects, reencrypt),
    "re-encryption deleting older versions": Feature(
        ram_policy.PURGE_HISTORY, kms_named, objects_with_older_unencrypted_versions, reencrypt_and_purge
    ),
    "client-side encryption": Feature(ram_policy.CLIENT_SIDE, kms_named, nothing, client_side),
    "expire older versions": Feature(
        ram_policy.EXPIRE_VERSIONS, lambda world: Sse("oss", "AES256"), versioned_history, expire_versions
    ),
}


@pytest.mark.parametrize("name", FEATURES)
def test_the_helper_s_policy_suffices_and_each_action_in_it_is_needed(world, name):
    feature = FEATURES[name]
    assert attempt(world, feature) == "", f"{name} fails with exactly the helper's policy"

    policy = helper_policy(world, feature, owner_bucket(world))
    checked = 0
    for index, statement in enumerate(policy.statements):
        for action in statement.actions:
            if action in ONLY_ON_FAILURE:
                continue
            shown = attempt(world, feature, lambda p, index=index, action=action: without_action(p, index, action))
            assert shown, f"{name} still works without {action} on {statement.resource}"
            assert action in shown and ("AccessDenied" in shown or "Forbidden.RAM" in shown), shown
            checked += 1
    assert checked >= 1


def test_everything_this_console_does_covers_every_feature(world):
    for name, feature in FEATURES.items():
        everything = Feature(ram_policy.EVERYTHING, feature.sse, feature.prepare, feature.run)
        assert attempt(world, everything) == "", f"{name} fails with the policy for everything"


def test_the_object_page_shows_the_access_denied_naming_the_missing_action(world, client_as, viewer):
    feature = FEATURES["list buckets and objects"]
    bucket = owner_bucket(world)
    put_plain_object(bucket, world)
    policy = helper_policy(world, feature, bucket)
    index = next(i for i, s in enumerate(policy.statements) if "oss:GetObjectAcl" in s.actions)
    limited = limited_bucket(world, bucket, without_action(policy, index, "oss:GetObjectAcl").document())

    page = client_as(viewer).get(reverse("buckets:object_detail", args=[limited.pk]), {"key": "2024/ledger.csv"})

    text = re.sub(r"\s+", " ", page.content.decode())
    assert "AccessDenied" in text and "You are not authorized to do this action." in text
    assert f"oss:GetObjectAcl on acs:oss:{REGION}:" in text and "no statement allows it" in text
