"""What a job decides for one object, from its HEAD and the job's spec alone: no worker, no cloud, no database."""

import pytest

from cloud.errors import CloudError
from cloud.oss import ObjectHead
from cloud.sse import Sse
from encryption.models import MasterKey
from jobs.engine.decisions import ANY_ENCRYPTION, REWRITE, Target, decide, decide_rewrap
from jobs.engine.object_worker import Rewrap, failure_reason
from jobs.models import Job, ObjectOutcome

FILTERED, COMPLIANT, SKIPPED = ObjectOutcome.FILTERED, ObjectOutcome.COMPLIANT, ObjectOutcome.SKIPPED
NOT_MATCHING, PLANNED = ObjectOutcome.NOT_MATCHING, ObjectOutcome.PLANNED

UNENCRYPTED = {}
OSS_AES = {"x-oss-server-side-encryption": "AES256"}
OSS_SM4 = {"x-oss-server-side-encryption": "SM4"}
KMS_KEY_1 = {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": "key-1"}
KMS_KEY_2 = {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": "key-2"}
KMS_SM4_KEY_1 = {**KMS_KEY_1, "x-oss-server-side-data-encryption": "SM4"}
KMS_DEFAULT = {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": "default-id"}
SYMLINK = {"x-oss-object-type": "Symlink"}
APPENDABLE = {"x-oss-object-type": "Appendable"}
ARCHIVE = {"x-oss-storage-class": "Archive"}
ARCHIVE_RESTORED = {**ARCHIVE, "x-oss-restore": 'ongoing-request="false", expiry-date="Sun, 16 Apr 2030 08:12:33 GMT"'}
COLD_ARCHIVE_RESTORING = {"x-oss-storage-class": "ColdArchive", "x-oss-restore": 'ongoing-request="true"'}

TO_KEY_1 = Target(Sse("kms", "AES256", "key-1"))
TO_OSS_AES = Target(Sse("oss", "AES256"))
TO_NONE = Target(Sse())
TO_DEFAULT_KEY = Target(Sse("kms", "AES256"), default_key_id="default-id")
TO_DEFAULT_KEY_NOT_YET_CREATED = Target(Sse("kms", "AES256"))
TO_ANY = Target(Sse(ANY_ENCRYPTION))


def job(**spec) -> Job:
    return Job(**{"kind": Job.REENCRYPT, "select": Job.SELECT_NOT_MATCHING, **spec})


def head(headers: dict, size: int = 100) -> ObjectHead:
    return ObjectHead("object", {"content-length": str(size), **headers}, "")


@pytest.mark.parametrize(
    "spec, target, headers, size, expected",
    [
        # Targets: what matches is compliant, anything else is rewritten.
        ({}, TO_KEY_1, KMS_KEY_1, 100, COMPLIANT),
        ({}, TO_KEY_1, KMS_KEY_2, 100, REWRITE),
        ({}, TO_KEY_1, KMS_SM4_KEY_1, 100, REWRITE),
        ({}, TO_KEY_1, UNENCRYPTED, 100, REWRITE),
        ({}, TO_OSS_AES, OSS_AES, 100, COMPLIANT),
        ({}, TO_OSS_AES, OSS_SM4, 100, REWRITE),
        ({}, TO_OSS_AES, KMS_KEY_1, 100, REWRITE),
        ({}, TO_NONE, UNENCRYPTED, 100, COMPLIANT),
        ({}, TO_NONE, OSS_AES, 100, REWRITE),
        # The default key: known by its id once it exists; before, no object can be under it yet.
        ({}, TO_DEFAULT_KEY, KMS_DEFAULT, 100, COMPLIANT),
        ({}, TO_DEFAULT_KEY, KMS_KEY_1, 100, REWRITE),
        ({}, TO_DEFAULT_KEY_NOT_YET_CREATED, KMS_DEFAULT, 100, REWRITE),
        # Selection modes.
        ({"select": Job.SELECT_ALL}, TO_KEY_1, OSS_AES, 100, REWRITE),
        ({"select": Job.SELECT_UNENCRYPTED}, TO_KEY_1, UNENCRYPTED, 100, REWRITE),
        ({"select": Job.SELECT_UNENCRYPTED}, TO_KEY_1, OSS_AES, 100, FILTERED),
        ({"select": Job.SELECT_KEY, "select_key_id": "key-2"}, TO_KEY_1, KMS_KEY_2, 100, REWRITE),
        ({"select": Job.SELECT_KEY, "select_key_id": "key-2"}, TO_KEY_1, KMS_DEFAULT, 100, FILTERED),
        ({"select": Job.SELECT_KEY, "select_key_id": "key-2"}, TO_KEY_1, OSS_AES, 100, FILTERED),
        ({"select": Job.SELECT_ALGORITHM, "select_algorithm": "SM4"}, TO_OSS_AES, OSS_SM4, 100, REWRITE),
        ({"select": Job.SELECT_ALGORITHM, "select_algorithm": "SM4"}, TO_OSS_AES, KMS_SM4_KEY_1, 100, REWRITE),
        ({"select": Job.SELECT_ALGORITHM, "select_algorithm": "SM4"}, TO_KEY_1, OSS_AES, 100, FILTERED),
        ({"select": Job.SELECT_ALGORITHM, "select_algorithm": "SM4"}, TO_KEY_1, UNENCRYPTED, 100, FILTERED),
        ({"min_size": 101}, TO_KEY_1, UNENCRYPTED, 100, FILTERED),
        ({"max_size": 99}, TO_KEY_1, UNENCRYPTED, 100, FILTERED),
        ({"min_size": 100, "max_size": 100}, TO_KEY_1, UNENCRYPTED, 100, REWRITE),
        # A selected object that already matches is compliant, refusable or not.
        ({}, TO_KEY_1, {**KMS_KEY_1, **SYMLINK}, 100, COMPLIANT),
        # Scans: compliant or not matching; nothing is ever written.
        ({"kind": Job.SCAN, "select": Job.SELECT_ALL}, TO_ANY, OSS_AES, 100, COMPLIANT),
        ({"kind": Job.SCAN, "select": Job.SELECT_ALL}, TO_ANY, UNENCRYPTED, 100, NOT_MATCHING),
        ({"kind": Job.SCAN, "select": Job.SELECT_ALL}, TO_KEY_1, KMS_KEY_2, 100, NOT_MATCHING),
        ({"kind": Job.SCAN, "select": Job.SELECT_ALL}, TO_KEY_1, ARCHIVE, 100, SKIPPED),
        # Cold storage: restored objects can be copied; restoring or not restored ones cannot.
        ({}, TO_KEY_1, ARCHIVE_RESTORED, 100, REWRITE),
        ({}, TO_KEY_1, COLD_ARCHIVE_RESTORING, 100, SKIPPED),
    ],
)
def test_the_decision_for_one_object(spec, target, headers, size, expected):
    assert decide(job(**spec), target, head(headers, size)).outcome == expected


@pytest.mark.parametrize(
    "headers, reason",
    [
        (SYMLINK, "symlink: re-encrypt the object it points to"),
        (APPENDABLE, "appendable object: a copy would end appending to it"),
        (ARCHIVE, "Archive object not restored"),
        ({"x-oss-storage-class": "DeepColdArchive"}, "DeepColdArchive object not restored"),
        (COLD_ARCHIVE_RESTORING, "ColdArchive object not restored"),
    ],
)
def test_objects_a_copy_cannot_re_encrypt_are_skipped_with_the_reason(headers, reason):
    decision = decide(job(), TO_KEY_1, head(headers))

    assert (decision.outcome, decision.reason) == (SKIPPED, reason)


@pytest.mark.parametrize(
    "target, headers, kms_calls",
    [(TO_KEY_1, KMS_KEY_2, 2), (TO_KEY_1, OSS_AES, 1), (TO_OSS_AES, KMS_KEY_1, 1), (TO_OSS_AES, OSS_SM4, 0)],
)
def test_a_dry_run_plans_the_rewrite_with_the_kms_calls_oss_would_make(target, headers, kms_calls):
    decision = decide(job(dry_run=True), target, head(headers))

    assert (decision.outcome, decision.kms_calls) == (PLANNED, kms_calls)


SOURCE, DESTINATION, OTHER = (MasterKey(pk=pk, kind=MasterKey.RSA) for pk in (1, 2, 3))
ROTATION = Target(Sse(), rewrap=Rewrap(SOURCE, MasterKey(pk=2, kind=MasterKey.KMS), None, None))


@pytest.mark.parametrize(
    "client_side, under, headers, dry_run, expected",
    [
        (False, None, UNENCRYPTED, False, FILTERED),
        (True, DESTINATION, UNENCRYPTED, False, COMPLIANT),
        (True, SOURCE, UNENCRYPTED, False, REWRITE),
        (True, OTHER, UNENCRYPTED, False, FILTERED),
        (True, None, UNENCRYPTED, False, FILTERED),
        (True, SOURCE, APPENDABLE, False, SKIPPED),
        (True, SOURCE, ARCHIVE, False, SKIPPED),
        (True, SOURCE, UNENCRYPTED, True, PLANNED),
    ],
)
def test_a_rewrap_moves_only_objects_under_its_source_key(client_side, under, headers, dry_run, expected):
    decision = decide_rewrap(job(kind=Job.REWRAP, dry_run=dry_run), ROTATION, head(headers), client_side, under)

    assert decision.outcome == expected
    assert decision.kms_calls == (2 if expected == PLANNED else 0)  # the KMS target wraps key and IV


@pytest.mark.parametrize(
    "status, code, message, reason",
    [
        (403, "AccessDenied", "The KMS key is disabled.", "forbidden by kms"),
        (403, "AccessDenied", "You have no right to access this object.", "access denied"),
        (404, "NoSuchKey", "The specified key does not exist.", "not found"),
        (409, "InvalidObjectState", "The object is being restored.", "InvalidObjectState"),
    ],
)
def test_failures_are_recorded_by_their_reason(status, code, message, reason):
    assert failure_reason(CloudError("oss", code, message, "", status)) == reason
