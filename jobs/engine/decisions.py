"""What a job does with one object, decided from the object's HEAD and the job's spec alone (design.md §7 step 2).

No request is made here: the worker HEADs the object (and, for a rewrap, asks which master key the envelope
names), then acts on the Decision. So every rule of selection, compliance and refusal is a pure function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from buckets.services.objects import copy_refusal
from cloud.oss import ObjectHead
from cloud.sse import KMS, NONE, Sse
from encryption.models import MasterKey
from jobs.models import Job, ObjectOutcome

if TYPE_CHECKING:
    from jobs.engine.object_worker import Rewrap

ANY_ENCRYPTION = "any"  # a scan's target when the bucket has no default: encrypted at all
REWRITE = "rewrite"  # not an outcome: the object is to be copied onto itself, which then sets the outcome


@dataclass(frozen=True)
class Target:
    """What objects should become; a KMS target without key id means the default key `alias/acs/oss`, whose id
    `default_key_id` is when the job found it (blank: it did not exist yet)."""

    sse: Sse
    default_key_id: str = ""
    rewrap: Rewrap | None = None

    def matches(self, got: Sse) -> bool:
        want = self.sse
        if want.method == ANY_ENCRYPTION:
            return got.method != NONE
        if got.method != want.method:
            return False
        if want.method == NONE:
            return True
        if got.algorithm != want.algorithm:
            return False
        if want.method != KMS:
            return True
        wanted_key = want.key_id or self.default_key_id
        return got.key_id == wanted_key if wanted_key else False

    def kms_calls_for(self, got: Sse) -> int:
        """KMS requests OSS makes to rewrite an object: unwrap the old data key, generate the new one."""
        return int(got.method == KMS) + int(self.sse.method == KMS)


@dataclass(frozen=True)
class Decision:
    """An outcome (or REWRITE), with the reason of a skip and the KMS calls a dry run plans."""

    outcome: str
    reason: str = ""
    kms_calls: int = 0

    @property
    def rewrites(self) -> bool:
        return self.outcome == REWRITE


def outside_size_range(job: Job, size: int) -> bool:
    return (job.min_size is not None and size < job.min_size) or (job.max_size is not None and size > job.max_size)


def selected(job: Job, got: Sse) -> bool:
    if job.select == Job.SELECT_UNENCRYPTED:
        return got.method == NONE
    if job.select == Job.SELECT_KEY:
        return got.method == KMS and got.key_id == job.select_key_id
    if job.select == Job.SELECT_ALGORITHM:
        return got.method != NONE and got.algorithm == job.select_algorithm
    return True


def decide(job: Job, target: Target, head: ObjectHead) -> Decision:
    """A scan or a re-encryption: filtered, compliant, skipped (why), not matching, planned, or REWRITE."""
    got = Sse.of_headers(head.headers)
    if outside_size_range(job, head.size) or not selected(job, got):
        return Decision(ObjectOutcome.FILTERED)
    if target.matches(got):
        return Decision(ObjectOutcome.COMPLIANT)
    refusal = copy_refusal(head)
    if refusal:
        return Decision(ObjectOutcome.SKIPPED, refusal)
    if job.kind == Job.SCAN:
        return Decision(ObjectOutcome.NOT_MATCHING)
    if job.dry_run:
        return Decision(ObjectOutcome.PLANNED, kms_calls=target.kms_calls_for(got))
    return Decision(REWRITE)


def decide_noncurrent(job: Job, target: Target, head: ObjectHead) -> str:
    """A scan's verdict on an older version: filtered, compliant or not matching. It is never copied (that would
    make it current again), so what a copy would refuse does not matter here."""
    got = Sse.of_headers(head.headers)
    if outside_size_range(job, head.size) or not selected(job, got):
        return ObjectOutcome.FILTERED
    return ObjectOutcome.COMPLIANT if target.matches(got) else ObjectOutcome.NOT_MATCHING


def decide_rewrap(job: Job, target: Target, head: ObjectHead, client_side: bool, under: MasterKey | None) -> Decision:
    """A rewrap: objects under the source master key move to the target one. `client_side` says whether the object
    has an envelope at all, `under` which of the console's master keys it names (None: none)."""
    rewrap = target.rewrap
    if not client_side:
        return Decision(ObjectOutcome.FILTERED)
    if under is not None and under.pk == rewrap.target.pk:
        return Decision(ObjectOutcome.COMPLIANT)
    if under is None or under.pk != rewrap.source.pk:
        return Decision(ObjectOutcome.FILTERED)
    refusal = copy_refusal(head)
    if refusal:
        return Decision(ObjectOutcome.SKIPPED, refusal)
    if job.dry_run:
        return Decision(ObjectOutcome.PLANNED, kms_calls=rewrap.kms_calls())
    return Decision(REWRITE)
