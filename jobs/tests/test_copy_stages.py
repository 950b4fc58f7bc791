"""Two round-trip stages per object (design.md §7): the HEAD and the ACL read at once, then the conditional copy,
checked from its answer by default or by a HEAD after it (`check_after_copy: full`); every guarantee kept."""

import threading
from contextlib import contextmanager

import pytest

from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from console.testing.jobs import fill, job_to, named_key, old_enough, wait_for
from console.testing.waits import wait_until
from jobs import selectors
from jobs.engine import object_worker, report
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services

TO_KMS = services.Spec(
    target_mode=Job.TARGET_EXPLICIT, target_method="kms", target_algorithm="AES256", target_key_id="alias/jobs"
)


class StagedClient(OssClient):
    """A real client that notes each request, and counts stages: a stage starts with a request sent while none
    is under way. The first HEAD and the first ACL read each wait a little for the other to start, so requests
    sent together overlap however fast the service answers, and requests sent one after the other do not."""

    PAIRING_SECONDS = 2.0

    def __init__(self, connection):
        super().__init__(connection)
        self.lock = threading.Lock()
        self.under_way = 0
        self.stages = 0
        self.requests: list[str] = []
        self.head_started, self.acl_read_started = threading.Event(), threading.Event()

    @contextmanager
    def request(self, name: str):
        with self.lock:
            self.stages += self.under_way == 0
            self.under_way += 1
            self.requests.append(name)
        try:
            yield
        finally:
            with self.lock:
                self.under_way -= 1

    def head_object(self, bucket, key):
        with self.request("HeadObject"):
            self.head_started.set()
            self.acl_read_started.wait(self.PAIRING_SECONDS)
            return super().head_object(bucket, key)

    def object_acl_served(self, bucket, key):
        with self.request("GetObjectAcl"):
            self.acl_read_started.set()
            self.head_started.wait(self.PAIRING_SECONDS)
            return super().object_acl_served(bucket, key)

    def object_acl(self, bucket, key):
        with self.request("GetObjectAcl"):
            return super().object_acl(bucket, key)

    def copy_in_place(self, bucket, key, headers):
        with self.request("CopyObject"):
            return super().copy_in_place(bucket, key, headers)


class AclChangingClient(StagedClient):
    """Someone overwrites the object with another ACL after the job read the ACL and before its HEAD answers."""

    def object_acl_served(self, bucket, key):
        with self.request("GetObjectAcl"):
            read = OssClient.object_acl_served(self, bucket, key)
        if not getattr(self, "overwritten", False):
            self.overwritten = True
            OssClient(self.connection).put_object(bucket, key, b"new version", {"x-oss-object-acl": "public-read"})
        return read

    def head_object(self, bucket, key):
        wait_until(lambda: getattr(self, "overwritten", False), message="the overwrite after the ACL read")
        return super().head_object(bucket, key)


class MisencryptingClient(StagedClient):
    """A copy that asks OSS for OSS-managed AES256 whatever the job targets: OSS writes it and answers so."""

    def copy_in_place(self, bucket, key, headers):
        headers = {name: value for name, value in headers.items() if not name.startswith("x-oss-server-side")}
        return super().copy_in_place(bucket, key, {**headers, "x-oss-server-side-encryption": "AES256"})


def target(key_id: str) -> object_worker.Target:
    return object_worker.Target(services.Sse("kms", "AES256", key_id))


def test_an_object_is_rewritten_with_three_requests_in_two_stages_checked_from_the_copy_answer(cloud_connection):
    key_id = named_key(cloud_connection)
    new_bucket(cloud_connection, "staged")
    oss = OssClient(cloud_connection)
    oss.put_object("staged", "a.csv", b"a,b\n", {"x-oss-object-acl": "public-read", "x-oss-meta-owner": "ops"})
    old_enough(cloud_connection, "staged", "a.csv")
    client = StagedClient(cloud_connection)

    result = object_worker.process(job_to(cloud_connection, key_id, "staged"), client, target(key_id), None, "a.csv")

    assert result.outcome == ObjectOutcome.REENCRYPTED, result.reason
    assert sorted(client.requests) == ["CopyObject", "GetObjectAcl", "HeadObject"] and client.stages == 2
    assert result.requests == 3 and result.after == ("kms", "AES256", key_id)
    head = oss.head_object("staged", "a.csv")
    assert head.header("x-oss-server-side-encryption-key-id") == key_id
    assert head.user_metadata == {"owner": "ops"} and oss.object_acl("staged", "a.csv") == "public-read"


def test_the_full_check_adds_a_head_after_the_copy_four_requests_in_three_stages(cloud_connection):
    key_id = named_key(cloud_connection)
    new_bucket(cloud_connection, "staged")
    OssClient(cloud_connection).put_object("staged", "a.csv", b"a,b\n", {})
    old_enough(cloud_connection, "staged", "a.csv")
    client = StagedClient(cloud_connection)
    job = job_to(cloud_connection, key_id, "staged", check_after_copy=Job.CHECK_FULL)

    result = object_worker.process(job, client, target(key_id), None, "a.csv")

    assert result.outcome == ObjectOutcome.REENCRYPTED, result.reason
    assert client.requests[-2:] == ["CopyObject", "HeadObject"] and client.stages == 3 and result.requests == 4


def test_an_object_written_moments_before_has_its_acl_read_again_after_the_head(cloud_connection):
    key_id = named_key(cloud_connection)
    new_bucket(cloud_connection, "staged")
    OssClient(cloud_connection).put_object("staged", "fresh.csv", b"a,b\n", {"x-oss-object-acl": "private"})
    client = StagedClient(cloud_connection)

    result = object_worker.process(
        job_to(cloud_connection, key_id, "staged"), client, target(key_id), None, "fresh.csv"
    )

    assert result.outcome == ObjectOutcome.REENCRYPTED, result.reason
    assert client.requests.count("GetObjectAcl") == 2 and client.stages == 3 and result.requests == 4


def test_an_overwrite_with_another_acl_between_the_acl_read_and_the_head_keeps_its_acl_and_content(
    cloud_connection,
):
    key_id = named_key(cloud_connection)
    new_bucket(cloud_connection, "staged")
    oss = OssClient(cloud_connection)
    oss.put_object("staged", "a.csv", b"old version", {"x-oss-object-acl": "private"})
    old_enough(cloud_connection, "staged", "a.csv")

    result = object_worker.process(
        job_to(cloud_connection, key_id, "staged"), AclChangingClient(cloud_connection), target(key_id), None, "a.csv"
    )

    assert result.outcome == ObjectOutcome.REENCRYPTED, result.reason
    assert b"".join(oss.open_object("staged", "a.csv")) == b"new version"
    assert oss.object_acl("staged", "a.csv") == "public-read", "the ACL read before the overwrite is not sent"
    assert oss.head_object("staged", "a.csv").header("x-oss-server-side-encryption-key-id") == key_id


@pytest.mark.parametrize("check", [Job.CHECK_RESPONSE, Job.CHECK_FULL])
def test_a_copy_that_wrote_another_encryption_fails_the_object_with_the_reason(cloud_connection, check):
    key_id = named_key(cloud_connection)
    new_bucket(cloud_connection, "staged")
    OssClient(cloud_connection).put_object("staged", "a.csv", b"a,b\n", {})
    job = job_to(cloud_connection, key_id, "staged", check_after_copy=check)

    result = object_worker.process(job, MisencryptingClient(cloud_connection), target(key_id), None, "a.csv")

    assert result.outcome == ObjectOutcome.FAILED and result.code == "VerificationFailed"
    assert result.reason.startswith("check after the copy: the encryption is "), result.reason
    assert result.after == ("oss", "AES256", "")


def test_an_object_already_as_targeted_costs_its_head_and_the_acl_read_alongside_and_is_not_copied(
    cloud_connection,
):
    key_id = named_key(cloud_connection)
    new_bucket(cloud_connection, "staged")
    headers = {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": key_id}
    OssClient(cloud_connection).put_object("staged", "done.csv", b"a,b\n", headers)
    client = StagedClient(cloud_connection)

    result = object_worker.process(job_to(cloud_connection, key_id, "staged"), client, target(key_id), None, "done.csv")

    assert result.outcome == ObjectOutcome.COMPLIANT
    assert sorted(client.requests) == ["GetObjectAcl", "HeadObject"] and client.stages == 1


@pytest.mark.slow
def test_a_job_checked_in_full_shows_its_check_and_requests_per_object_in_progress_and_manifest(
    cloud_connection, worker, operator
):
    named_key(cloud_connection)
    bucket = new_bucket(cloud_connection, "mixed")
    new_bucket(cloud_connection, "evidence")
    keys = fill(bucket, 12)  # cycling through None, AES256, SM4, KMS, KMS SM4: none under alias/jobs
    old_enough(cloud_connection, "mixed", keys[-1])
    spec = services.Spec(
        **{**TO_KMS.fields(), "check_after_copy": Job.CHECK_FULL, "report_bucket": "evidence", "concurrency": 4}
    )

    job = wait_for(services.create_job(actor=operator, connection=cloud_connection, bucket="mixed", spec=spec))

    assert job.state == Job.COMPLETED and job.check_after_copy == Job.CHECK_FULL
    counts = selectors.progress(job).counts()
    assert counts["reencrypted"] == 12 and counts["requests_per_object"] == 4.0
    manifest = report.manifest(job)
    assert manifest["check_after_copy"] == "full" and manifest["counts"]["requests_per_object"] == 4.0


def test_a_job_whose_objects_are_mostly_as_targeted_stops_reading_acls_alongside_heads(cloud_connection):
    key_id = named_key(cloud_connection)
    new_bucket(cloud_connection, "staged")
    oss = OssClient(cloud_connection)
    headers = {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": key_id}
    keys = [f"done-{number:02d}.csv" for number in range(12)]
    for key in keys:
        oss.put_object("staged", key, b"a,b\n", headers)
    oss.put_object("staged", "new.csv", b"a,b\n", {})
    job = job_to(cloud_connection, key_id, "staged")

    done = [object_worker.process(job, oss, target(key_id), None, key) for key in keys]
    client = StagedClient(cloud_connection)
    client.PAIRING_SECONDS = 0  # nothing is sent alongside any more: no request waits for another
    new = object_worker.process(job, client, target(key_id), None, "new.csv")

    # The share of objects needing a copy falls by a tenth per object: under one half after the seventh.
    assert [result.requests for result in done] == [2] * 7 + [1] * 5
    assert new.outcome == ObjectOutcome.REENCRYPTED and client.requests == ["HeadObject", "GetObjectAcl", "CopyObject"]
    assert client.stages == 3
