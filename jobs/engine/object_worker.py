"""One object through a job (design.md §7): HEAD, decide, copy onto itself, verify; transient errors retried.

Two round-trip stages per object: the HEAD and the ACL read in parallel, then the conditional copy, checked from
its answer (the job option `check_after_copy: full` adds a third, a HEAD after the copy).

Every OSS request takes a token from the connection's shared bucket first; KMS work OSS does on our behalf
(decrypting the old data key, generating the new one) takes tokens from the KMS bucket.
"""

from __future__ import annotations

import datetime
import functools
import os
import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from django.conf import settings

from buckets.services.objects import (
    CRC64_HEADER,
    ObjectState,
    changed_aspects,
    copy_with_encryption,
    rewritten_headers,
)
from cloud import retries
from cloud.cse import recognition as cse
from cloud.cse.envelope import CEK_ALG, ENVELOPE_HEADERS, Envelope
from cloud.cse.errors import CseError
from cloud.cse.wrapping import Wrapper
from cloud.errors import CloudError
from cloud.oss import (
    SSE_DATA_HEADER,
    SSE_HEADER,
    SSE_KEY_HEADER,
    USER_META_PREFIX,
    ObjectAcl,
    ObjectEntry,
    ObjectHead,
    ObjectVersion,
    OssClient,
    Written,
)
from cloud.sse import KMS, Sse
from encryption.models import MasterKey
from encryption.services import master_keys
from jobs.engine import decisions, limits
from jobs.engine.decisions import ANY_ENCRYPTION as ANY_ENCRYPTION  # where the jobs services and views look
from jobs.engine.decisions import Target
from jobs.models import Job, ObjectOutcome

TRANSIENT_CODES = {"RequestError", "Throttling", "ServiceUnavailable", "InternalError", "RequestTimeout"}
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 10.0
MAX_REEVALUATIONS = 3
# Outcomes after which an object's current version is as targeted (or, in a dry run, would be).
PURGED_AFTER = (ObjectOutcome.REENCRYPTED, ObjectOutcome.COMPLIANT, ObjectOutcome.PLANNED)
CLIENT_SIDE_MARK = "+ client-side"
# A job reads neither tags nor the ACL after its copy (two requests more per object, on millions of objects): the
# tag count stands for the tags, and the ACL is sent with the copy as it was read.
JOB_ASPECTS = ("size", "CRC64", "storage class", "user metadata", "content headers", "tag count")
# A rewrap keeps the server-side encryption as it is (the copy asks for it again) and rewrites the user metadata
# to the new envelope; the storage class is sent as it was read.
REWRAP_ASPECTS = ("size", "CRC64", "server-side encryption", "content headers", "tag count", "user metadata")
# What a copy's answer tells of the object it wrote; everything else was sent with the copy as it was read.
ANSWERED_HEADERS = ("etag", CRC64_HEADER, SSE_HEADER, SSE_KEY_HEADER, SSE_DATA_HEADER)
# OSS dates whole seconds, on servers whose clocks may differ a little: an ACL read counts as later than a write
# only when OSS served it at least this long after the write's Last-Modified second.
ACL_CLOCK_MARGIN = datetime.timedelta(seconds=2)
# ACL reads alongside HEADs, for every job of the worker process (more than any one job has objects in flight).
SIDE_THREADS = 64
# Reading the ACL alongside the HEAD saves a round trip on an object to copy and wastes a request on one already as
# targeted (under a request cap, that is time too): a job reads it so while at least half its recent objects
# needed a copy, by a moving share in which the latest object weighs a tenth.
SPECULATE_FROM_SHARE = 0.5
LATEST_WEIGHT = 0.1
MAX_JOBS_FOLLOWED = 1000


def is_transient(error: CloudError) -> bool:
    return error.code in TRANSIENT_CODES or error.transient


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter: spreads the retries of many workers hitting the same trouble."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))


def failure_reason(error: CloudError) -> str:
    if error.refused_by_kms:
        return "forbidden by kms"
    if error.http_status == 403:
        return "access denied"
    if error.http_status == 404:
        return "not found"
    return error.code


class ObjectReplaced(Exception):
    """A newer version of the object appeared after our copy; it is decided afresh."""


@dataclass
class Rewrap:
    """The two master keys of a rewrap job, their wrappers opened once per page."""

    source: MasterKey
    target: MasterKey
    source_wrapper: Wrapper
    target_wrapper: Wrapper

    @classmethod
    def of(cls, job: Job) -> Rewrap:
        if job.rewrap_from is None or job.rewrap_to is None:
            raise CseError("A master key of this rewrap job was deleted: the job cannot go on.")
        source, target = job.rewrap_from, job.rewrap_to
        return cls(source, target, master_keys.wrapper_for(source), master_keys.wrapper_for(target))

    def kms_calls(self) -> int:
        """KMS requests for one object: unwrap key and IV with the source, wrap both with the target."""
        return 2 * (self.source.kind == MasterKey.KMS) + 2 * (self.target.kind == MasterKey.KMS)


@dataclass
class Result:
    """What one object came to: counted per page, kept when it is a failure or skip, and a row of the completion
    report (so it is all noted in the page's Redis hash: a page re-run after a worker's death writes every row)."""

    outcome: str
    size: int = 0
    state: str = ""  # the encryption before, labelled as the console shows it
    reason: str = ""
    code: str = ""
    request_id: str = ""  # the copy's, else the error's, else the HEAD's
    requests: int = 0
    kms_calls: int = 0
    head_seconds: float = 0.0
    before: tuple[str, str, str] = ("", "", "")  # method, algorithm, key id
    after_state: str = ""
    after: tuple[str, str, str] = ("", "", "")
    at: str = ""  # when the object was done, UTC ISO 8601
    purged_versions: int = 0  # older versions deleted after the current one (a dry run: that would be)
    purged_bytes: int = 0

    def as_dict(self) -> dict:
        return self.__dict__.copy()

    def saw(self, head: ObjectHead) -> None:
        """The object as a HEAD found it: its state before, and after unless the job changes it."""
        got = Sse.of_headers(head.headers)
        self.size, self.state, self.request_id = head.size, state_label(head), head.request_id
        self.before = self.after = (got.method, got.algorithm, got.key_id)
        self.after_state = self.state

    def became(self, head: ObjectHead) -> None:
        """The object as the check after the copy found it."""
        got = Sse.of_headers(head.headers)
        self.after_state, self.after = state_label(head), (got.method, got.algorithm, got.key_id)


def state_label(head: ObjectHead) -> str:
    """How a scan names an object's encryption: the SSE label, then for client-side encrypted content the master
    key it is under (by its envelope's material description), or that the console holds none that fits."""
    label = Sse.of_headers(head.headers).label()
    if not cse.describe(head.headers):
        return label
    try:
        _, master_key = master_keys.master_key_of(head.headers)
    except CseError:  # a scan reports the object rather than fail on it; a rewrap fails on it when it acts
        master_key = None
    return f"{label} {CLIENT_SIDE_MARK} ({master_key.name if master_key else 'unknown master key'})"


@dataclass
class ObjectWork:
    """The job's view of one object, and the counters its requests add up to."""

    job: Job
    oss: OssClient
    target: Target
    result: Result = field(default_factory=lambda: Result(Job.PENDING))
    counting: threading.Lock = field(default_factory=threading.Lock)  # two requests of an object run at once

    def call(self, operation, *args, **kwargs):
        def counted(*args, **kwargs):
            with self.counting:
                self.result.requests += 1
            return operation(*args, **kwargs)

        return call_with_retries(self.job, counted, *args, **kwargs)


@functools.cache
def side_threads() -> ThreadPoolExecutor:
    """Made on first use in each process: a forked worker process does not inherit its parent's threads, so it
    must not inherit a pool that counts them as idle."""
    return ThreadPoolExecutor(max_workers=SIDE_THREADS, thread_name_prefix="acl-read")


os.register_at_fork(after_in_child=side_threads.cache_clear)


class CopyShares:
    """Per job, in this process, the moving share of its objects that needed a copy."""

    def __init__(self):
        self._lock = threading.Lock()
        self._shares: dict[int, float] = {}

    def mostly_copied(self, job: Job) -> bool:
        with self._lock:
            return self._shares.get(self._key(job), 1.0) >= SPECULATE_FROM_SHARE

    def note(self, job: Job, copied: bool) -> None:
        with self._lock:
            key = self._key(job)
            share = self._shares.pop(key, 1.0)
            self._shares[key] = (1 - LATEST_WEIGHT) * share + LATEST_WEIGHT * copied
            if len(self._shares) > MAX_JOBS_FOLLOWED:
                del self._shares[next(iter(self._shares))]  # the job noted least recently

    @staticmethod
    def _key(job: Job) -> int:
        return job.pk or id(job)


copy_shares = CopyShares()


def call_with_retries(job: Job, operation, *args, **kwargs):
    """One OSS request under the connection's rate limit, with transient errors retried (here only: the cloud
    client's own retries are off) and throttling slowing every worker of the connection down."""
    bucket = limits.oss_bucket(job.connection_id)
    return _retried(bucket, job.requests_per_second, False, operation, *args, **kwargs)


def call_kms_with_retries(job: Job, operation, *args, **kwargs):
    """KMS calls of a rewrap (their tokens already taken), retried as OSS requests are, slowing down the KMS
    bucket when KMS throttles."""
    return _retried(limits.kms_bucket(job.connection_id), job.kms_per_second, True, operation, *args, **kwargs)


def _retried(bucket: str, rate: int, first_token_taken: bool, operation, *args, **kwargs):
    for attempt in range(MAX_ATTEMPTS):
        if attempt or not first_token_taken:
            limits.take(bucket, rate)
        try:
            with retries.retried_by_caller():
                return operation(*args, **kwargs)
        except CloudError as error:
            if error.throttled:
                limits.slow_down(bucket, rate)
            if not is_transient(error) or attempt == MAX_ATTEMPTS - 1:
                raise
            time.sleep(max(backoff_seconds(attempt), error.qos_delay_ms / 1000))
    raise AssertionError("unreachable")


def process(job: Job, oss: OssClient, target: Target, entry: ObjectEntry | None, key: str) -> Result:
    """Decide and (unless scanning or dry-running) rewrite one object; every error becomes a recorded outcome."""
    work = ObjectWork(job, oss, target)
    try:
        result = _process(work, entry, key)
    except CseError as error:
        result = work.result
        result.outcome, result.reason, result.code = ObjectOutcome.FAILED, error.message, "ClientSideEncryption"
    except CloudError as error:
        result = work.result
        result.outcome, result.reason = ObjectOutcome.FAILED, failure_reason(error)
        result.code, result.request_id = error.code, error.request_id
        if error.message and result.reason != error.message:
            result.reason = f"{result.reason}: {error.message}"
    result.at = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return result


def look_at_version(job: Job, oss: OssClient, target: Target, version: ObjectVersion) -> Result:
    """A scan's look at one noncurrent version: its own encryption, from a HEAD of that version, and whether it is
    as targeted. Nothing is ever written to an older version: a copy of it would make it current again."""
    work = ObjectWork(job, oss, target)
    result = work.result
    try:
        head = work.call(oss.head_object, job.bucket, version.key, version.version_id)
    except CloudError as error:
        if error.http_status == 404:
            result.outcome, result.reason = ObjectOutcome.SKIPPED, "deleted since it was listed"
            return result
        result.outcome, result.reason, result.code = ObjectOutcome.FAILED, failure_reason(error), error.code
        if error.message and result.reason != error.message:
            result.reason = f"{result.reason}: {error.message}"
        return result
    result.saw(head)
    result.outcome = decisions.decide_noncurrent(job, target, head)
    return result


def _process(work: ObjectWork, entry: ObjectEntry | None, key: str) -> Result:
    job, result = work.job, work.result
    if entry is not None and decisions.outside_size_range(job, entry.size):
        result.outcome, result.size = ObjectOutcome.FILTERED, entry.size
        return result
    for _ in range(MAX_REEVALUATIONS):
        acl_read = _read_acl_alongside(work, key)
        try:
            if _attempt(work, key, acl_read):
                if job.purge_history and result.outcome in PURGED_AFTER:
                    _purge_history(work, key)
                return result
        finally:
            if acl_read is not None:
                wait([acl_read])  # its request counts for this object, and none outlives the object's slot
    result.outcome, result.reason = ObjectOutcome.SKIPPED, "the object kept changing while the job tried to copy it"
    return result


def _purge_history(work: ObjectWork, key: str) -> None:
    """Delete the object's older versions that are not as targeted, now that its current version is: the version
    the copy superseded among them. A dry run counts them. Only versions listed as noncurrent are deleted, each by
    its version id: the current version, and any version written since the listing, are never touched."""
    job, result, oss = work.job, work.result, work.oss
    if result.outcome == ObjectOutcome.PLANNED:  # the current version, once a run's copy supersedes it
        result.purged_versions, result.purged_bytes = 1, result.size
    for version in _noncurrent_versions(work, key):
        head = work.call(oss.head_object, job.bucket, key, version.version_id)
        if work.target.matches(Sse.of_headers(head.headers)):
            continue
        if not job.dry_run:
            work.call(oss.delete_object, job.bucket, key, version.version_id)
        result.purged_versions += 1
        result.purged_bytes += head.size


def _noncurrent_versions(work: ObjectWork, key: str) -> list[ObjectVersion]:
    """Every noncurrent version of exactly `key` (delete markers are no data: they stay)."""
    found: list[ObjectVersion] = []
    key_marker = version_id_marker = ""
    while True:
        page = work.call(work.oss.list_object_versions, work.job.bucket, key, key_marker, version_id_marker, 100)
        found += [v for v in page.versions if v.key == key and not v.is_latest and not v.delete_marker]
        if page.next_key_marker != key:
            return found
        key_marker, version_id_marker = page.next_key_marker, page.next_version_id_marker


def _copies(job: Job) -> bool:
    return job.kind in (Job.REENCRYPT, Job.REWRAP) and not job.dry_run


def _read_acl_alongside(work: ObjectWork, key: str) -> Future | None:
    """The object's ACL read in parallel with its HEAD, when the job copies objects and most of its recent
    objects needed a copy."""
    job = work.job
    if not (_copies(job) and copy_shares.mostly_copied(job)):
        return None
    return side_threads().submit(work.call, work.oss.object_acl_served, job.bucket, key)


def _attempt(work: ObjectWork, key: str, acl_read: Future | None) -> bool:
    """Stage 1 (HEAD, the ACL read alongside), the decision, stage 2 (the conditional copy) and the check after it.
    False: the object changed meanwhile, and is to be looked at afresh."""
    job, result = work.job, work.result
    started = time.monotonic()
    try:
        head = work.call(work.oss.head_object, job.bucket, key)
    except CloudError as error:
        if error.http_status != 404:
            raise
        result.outcome, result.reason = ObjectOutcome.SKIPPED, "deleted since it was listed"
        return True
    result.head_seconds += time.monotonic() - started
    got = Sse.of_headers(head.headers)
    result.saw(head)
    decision = _decision(work, head)
    if _copies(job):
        copy_shares.note(job, decision.rewrites)
    if not decision.rewrites:
        result.outcome, result.reason = decision.outcome, decision.reason
        result.kms_calls += decision.kms_calls
        return True
    acl = _acl_of(work, head, acl_read)
    try:
        if job.kind == Job.REWRAP:
            _rewrap(work, head, got, acl)
        else:
            _rewrite(work, head, got, acl)
    except ObjectReplaced:
        return False
    except CloudError as error:
        if error.http_status == 412:
            return False  # overwritten meanwhile: look at the new version, never clobber it
        raise
    return True


def _acl_of(work: ObjectWork, head: ObjectHead, acl_read: Future | None) -> str:
    """The ACL the copy sends: the one read alongside the HEAD when OSS served it after the version the HEAD saw
    was written (so it is that version's: a newer version's would go with a copy its ETag condition refuses);
    else, for an object written moments ago, read again now that the HEAD has answered."""
    if acl_read is not None and acl_read.exception() is None:
        read: ObjectAcl = acl_read.result()
        written = head.last_modified
        if read.served_at and written and read.served_at - written >= ACL_CLOCK_MARGIN:
            return read.acl
    return work.call(work.oss.object_acl, work.job.bucket, head.key)


def _decision(work: ObjectWork, head: ObjectHead) -> decisions.Decision:
    if work.job.kind != Job.REWRAP:
        return decisions.decide(work.job, work.target, head)
    envelope, under = master_keys.master_key_of(head.headers)
    return decisions.decide_rewrap(work.job, work.target, head, envelope is not None, under)


def _rewrite(work: ObjectWork, head: ObjectHead, got: Sse, acl: str) -> None:
    """Steps 3 and 4: copy onto itself as targeted, then check what the copy wrote."""
    job, result, oss = work.job, work.result, work.oss
    state = ObjectState(head, acl, {})
    kms_calls = work.target.kms_calls_for(got)
    limits.take_kms(job.connection_id, job.kms_per_second, kms_calls)
    result.kms_calls += kms_calls
    if head.size > job.copy_threshold:
        written = _multipart_rewrite(work, state)
    else:
        written = work.call(copy_with_encryption, oss, job.bucket, state, work.target.sse)
    result.request_id = written.request_id
    if job.check_after_copy == Job.CHECK_FULL:
        after = _head_after_copy(work, head.key, written)
        problems = _encryption_problems(after, work.target) + changed_aspects(
            ObjectState(head, "", {}), ObjectState(after, "", {}), JOB_ASPECTS
        )
    else:
        after = _as_answered(head, written)
        problems = _encryption_problems(after, work.target) + _answer_problems(head, written)
    _checked(result, after, problems)


def _head_after_copy(work: ObjectWork, key: str, written: Written) -> ObjectHead:
    """The object as a HEAD after the copy finds it, when it is still what the copy wrote."""
    after = work.call(work.oss.head_object, work.job.bucket, key)
    if written.etag and after.etag != written.etag.strip('"'):
        raise ObjectReplaced()  # someone wrote a newer version after our copy: judge that one instead
    return after


def _as_answered(before: ObjectHead, written: Written) -> ObjectHead:
    """The object as the copy's answer tells it: what the copy sent (the object as read, as it was rewritten),
    with the ETag, CRC64 and server-side encryption the answer carries, or none where it carries none."""
    answer = {name.lower(): value for name, value in written.headers.items()}
    kept = {name: value for name, value in before.headers.items() if name not in ANSWERED_HEADERS}
    answered = {name: answer[name] for name in ANSWERED_HEADERS if name in answer}
    return ObjectHead(before.key, {**kept, **answered}, written.request_id)


def _answer_problems(before: ObjectHead, written: Written) -> list[str]:
    """What the copy's answer shows went wrong with the content: no ETag, or a CRC64 other than the source's."""
    answer = {name.lower(): value for name, value in written.headers.items()}
    problems = [] if written.etag or answer.get("etag") else ["the copy's answer carries no ETag"]
    crc64 = before.header(CRC64_HEADER)
    if crc64 and answer.get(CRC64_HEADER) != crc64:
        problems.append(f"the CRC64 is {answer.get(CRC64_HEADER) or 'missing from the answer'}, not {crc64}")
    return problems


def _checked(result: Result, after: ObjectHead, problems: list[str]) -> None:
    result.became(after)
    if problems:
        result.outcome, result.reason = ObjectOutcome.FAILED, "check after the copy: " + "; ".join(problems)
        result.code = "VerificationFailed"
        return
    result.outcome = ObjectOutcome.REENCRYPTED


def _multipart_rewrite(work: ObjectWork, state: ObjectState):
    job, oss, head = work.job, work.oss, state.head
    headers = rewritten_headers(state, work.target.sse)
    if head.header("x-oss-tagging-count") not in ("", "0"):
        tags = work.call(oss.object_tags, job.bucket, head.key)
        headers["x-oss-tagging"] = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags.items())
    part_size = settings.JOBS_PART_SIZE_BYTES
    parts = -(-head.size // part_size)
    limits.take_oss(job.connection_id, job.requests_per_second, parts + 2)
    result = work.call(oss.multipart_copy_in_place, job.bucket, head.key, head.etag, head.size, headers, part_size)
    work.result.requests += parts + 2
    return result


def _encryption_problems(after: ObjectHead, target: Target) -> list[str]:
    got = Sse.of_headers(after.headers)
    if target.sse.method == KMS and not (target.sse.key_id or target.default_key_id):
        # alias/acs/oss did not exist when the job started: OSS has just created it for this copy.
        target = Target(target.sse, got.key_id)
    return [] if target.matches(got) else [f"the encryption is {got.label()}, not {target.sse.label()}"]


# Rewrap: a client-side encrypted object changes master key; only its envelope metadata is rewritten.


def rewrapped_metadata(head: ObjectHead, envelope: Envelope, wrapper: Wrapper, data_key: bytes, iv: bytes) -> dict:
    """The object's user metadata with the envelope's key fields under the new master key, all else as it was."""
    wrapped_key, wrapped_start, wrap_alg = wrapper.wrap(data_key, iv)
    new_envelope = replace(
        envelope,
        wrapped_key=wrapped_key,
        wrapped_start=wrapped_start,
        wrap_alg=wrap_alg,
        cek_alg=CEK_ALG,
        matdesc=wrapper.matdesc_json,
        older_names=False,
    )
    envelope_names = {name.removeprefix(USER_META_PREFIX) for name in ENVELOPE_HEADERS}
    kept = {name: value for name, value in head.user_metadata.items() if name not in envelope_names}
    envelope_metadata = new_envelope.to_metadata()
    return {**kept, **{name.removeprefix(USER_META_PREFIX): value for name, value in envelope_metadata.items()}}


def _rewrap(work: ObjectWork, head: ObjectHead, got: Sse, acl: str) -> None:
    """Unwrap the data key with the source master key, wrap it with the target, and copy the object onto itself
    with only that metadata changed: same SSE, content headers, tags, ACL and storage class; no data moves."""
    job, result, oss, rewrap = work.job, work.result, work.oss, work.target.rewrap
    envelope = Envelope.from_headers(head.headers)
    limits.take_kms(job.connection_id, job.kms_per_second, rewrap.kms_calls())
    result.kms_calls += rewrap.kms_calls()
    data_key, iv = call_kms_with_retries(job, rewrap.source_wrapper.unwrap, envelope)
    metadata = call_kms_with_retries(job, rewrapped_metadata, head, envelope, rewrap.target_wrapper, data_key, iv)
    others = {name: value for name, value in head.headers.items() if not name.startswith(USER_META_PREFIX)}
    rewritten = ObjectHead(
        head.key, {**others, **{f"{USER_META_PREFIX}{name}": value for name, value in metadata.items()}}, ""
    )
    written = work.call(copy_with_encryption, oss, job.bucket, ObjectState(rewritten, acl, {}), got)
    result.request_id = written.request_id
    # `rewritten` is what the object must now be: its user metadata is the rewrapped envelope.
    if job.check_after_copy == Job.CHECK_FULL:
        after = _head_after_copy(work, head.key, written)
        problems = changed_aspects(ObjectState(rewritten, "", {}), ObjectState(after, "", {}), REWRAP_ASPECTS)
    else:
        after = _as_answered(rewritten, written)
        problems = _answer_problems(head, written) + changed_aspects(
            ObjectState(rewritten, "", {}), ObjectState(after, "", {}), ("server-side encryption",)
        )
    _checked(result, after, problems)
