"""Jobs as people drive them: create (scan, dry run or real run), pause, resume, cancel, retry the failures.
Form views, the API, `manage.py reencrypt` and schedules all come through here; what they read (progress, plan,
report) is in jobs.selectors, and the workers' side in jobs.engine.page_worker.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import record
from buckets.models import Bucket, Connection
from buckets.services.buckets import check_encryption_allowed, refresh_buckets
from cloud.errors import CloudError, Conflict, NotFound, ServiceError
from cloud.kms import KmsClient
from cloud.oss import OssClient
from cloud.sse import AES256, KMS, NONE, SM4, Sse, parse
from encryption.selectors import key_names
from jobs import selectors
from jobs.engine import control, page_worker, report
from jobs.engine.object_worker import ANY_ENCRYPTION, call_with_retries
from jobs.models import Job, JobPage, JobSpec, ObjectOutcome

MAX_PREFIXES = 20
MAX_CONCURRENCY = 64
MAX_RATE = 10_000
MAX_REPORT_PREFIX_BYTES = 900
PAST = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}
NO_DECRYPTION_UNDER_A_DEFAULT = (
    "This bucket encrypts by default, and OSS encrypts a copy that asks for no encryption with the bucket default: "
    "delete the bucket default before decrypting objects."
)


@dataclass(frozen=True)
class Spec:
    """Everything a job or a schedule is asked to do, before checks."""

    kind: str = Job.REENCRYPT
    prefixes: tuple[str, ...] = ()
    select: str = Job.SELECT_NOT_MATCHING
    select_key_id: str = ""
    select_algorithm: str = ""
    min_size: int | None = None
    max_size: int | None = None
    target_mode: str = Job.TARGET_DEFAULT
    target_method: str = ""
    target_algorithm: str = ""
    target_key_id: str = ""
    concurrency: int = 8
    requests_per_second: int = 200
    # KMS allows about 1,000 symmetric cryptographic calls per second per account and region, shared by every
    # application and OSS's own calls for SSE-KMS, and the quota cannot be raised: a job takes a tenth of it.
    kms_per_second: int = 100
    rewrap_from_id: int | None = None
    rewrap_to_id: int | None = None
    verify: bool = True
    purge_history: bool = False
    check_after_copy: str = Job.CHECK_RESPONSE
    report_bucket: str = ""
    report_prefix: str = ""

    def fields(self) -> dict:
        return {**self.__dict__, "prefixes": list(self.prefixes)}

    @classmethod
    def of(cls, spec: JobSpec) -> Spec:
        return cls(
            **{name: getattr(spec, name) for name in cls.__dataclass_fields__ if name != "prefixes"},
            prefixes=tuple(spec.prefixes),
        )


# Checking a request


def find_bucket(connection: Connection, name: str) -> Bucket:
    """The console's snapshot of the bucket, refreshed once from OSS when the console has not seen it yet."""
    bucket = Bucket.objects.filter(connection=connection, name=name).select_related("connection").first()
    if bucket is None:
        refresh_buckets(connection)
        bucket = Bucket.objects.filter(connection=connection, name=name).select_related("connection").first()
    if bucket is None:
        raise NotFound(f"Connection {connection.name} has no bucket {name!r}.")
    return bucket


def normalise_prefixes(prefixes) -> tuple[str, ...]:
    """Distinct prefixes, none inside another (an object must be visited once), in a stable order."""
    cleaned = sorted({(prefix or "").strip() for prefix in prefixes or () if (prefix or "").strip()})
    if len(cleaned) > MAX_PREFIXES:
        raise ServiceError(f"At most {MAX_PREFIXES} prefixes per job.")
    for prefix in cleaned:
        if prefix.startswith("/") or len(prefix.encode()) > 1023:
            raise ServiceError(f"Prefix {prefix!r} cannot start an object key: no leading '/', at most 1023 bytes.")
    kept: list[str] = []
    for prefix in cleaned:
        if not any(prefix.startswith(outer) for outer in kept):
            kept.append(prefix)
    return tuple(kept)


def _check_numbers(spec: Spec) -> None:
    for name, value, low, high in (
        ("concurrency", spec.concurrency, 1, MAX_CONCURRENCY),
        ("requests per second", spec.requests_per_second, 0, MAX_RATE),
        ("KMS calls per second", spec.kms_per_second, 0, MAX_RATE),
    ):
        if not isinstance(value, int) or not low <= value <= high:
            raise ServiceError(f"The {name} must be a whole number from {low} to {high}.")
    for name, value in (("minimum size", spec.min_size), ("maximum size", spec.max_size)):
        if value is not None and (not isinstance(value, int) or value < 0):
            raise ServiceError(f"The {name} must be a number of bytes, 0 or more.")
    if spec.min_size is not None and spec.max_size is not None and spec.min_size > spec.max_size:
        raise ServiceError("The minimum size is above the maximum size: no object could match.")


def _check_selection(spec: Spec) -> None:
    if spec.select not in dict(Job.SELECTIONS):
        raise ServiceError(
            f"Unknown object selection {spec.select!r}: choose one of {', '.join(dict(Job.SELECTIONS))}."
        )
    if spec.select == Job.SELECT_KEY and not spec.select_key_id.strip():
        raise ServiceError("Name the KMS key whose objects to select.")
    if spec.select == Job.SELECT_ALGORITHM and spec.select_algorithm not in (AES256, SM4):
        raise ServiceError("Choose the algorithm whose objects to select: AES256 or SM4.")
    if spec.select != Job.SELECT_KEY and spec.select_key_id:
        raise ServiceError("A key to select by goes only with the selection 'Objects under a given KMS key'.")
    if spec.select != Job.SELECT_ALGORITHM and spec.select_algorithm:
        raise ServiceError("An algorithm to select by goes only with the selection 'Objects under a given algorithm'.")


def check_spec(bucket: Bucket, spec: Spec) -> Spec:
    """The spec with its prefixes normalised and an explicit target checked against design.md §5."""
    if spec.kind not in dict(Job.KINDS):
        raise ServiceError(f"Unknown job kind {spec.kind!r}: choose scan, reencrypt or rewrap.")
    _check_numbers(spec)
    _check_selection(spec)
    if spec.check_after_copy not in dict(Job.CHECKS_AFTER_COPY):
        raise ServiceError(
            f"Unknown check after the copy {spec.check_after_copy!r}: choose one of "
            f"{', '.join(dict(Job.CHECKS_AFTER_COPY))}."
        )
    if spec.kind != Job.REENCRYPT:
        spec = replace(spec, verify=False)  # only a re-encryption changes what a scan would find
        if spec.purge_history:
            raise ServiceError("Deleting older versions goes only with a re-encryption.")
    if spec.select == Job.SELECT_KEY:
        spec = replace(spec, select_key_id=_existing_key_id(bucket, spec.select_key_id.strip()))
    prefixes = normalise_prefixes(spec.prefixes)
    spec = _check_report_location(bucket, spec, prefixes)
    if spec.kind == Job.REWRAP:
        return _check_rewrap(Spec(**{**spec.fields(), "prefixes": prefixes}))
    if spec.rewrap_from_id or spec.rewrap_to_id:
        raise ServiceError("Master keys to rewrap from and to go only with a rewrap job.")
    if spec.target_mode == Job.TARGET_DEFAULT:
        if spec.target_method or spec.target_algorithm or spec.target_key_id:
            raise ServiceError("With the bucket default as target, leave the method, algorithm and key empty.")
        return Spec(**{**spec.fields(), "prefixes": prefixes})
    if spec.target_mode != Job.TARGET_EXPLICIT:
        raise ServiceError("The target is either the bucket default or an explicit encryption.")
    target = check_encryption_allowed(bucket, parse(spec.target_method, spec.target_algorithm, spec.target_key_id))
    return Spec(
        **{
            **spec.fields(),
            "prefixes": prefixes,
            "target_method": target.method,
            "target_algorithm": target.algorithm,
            "target_key_id": target.key_id,
        }
    )


def _check_purge(bucket: Bucket, *, confirmation: str | None) -> None:
    """Older versions are deleted only in a bucket that keeps them, and only once the bucket's name is typed."""
    if not OssClient(bucket.connection).versioning(bucket.name):
        raise ServiceError(f"Bucket {bucket.name} has never had versioning: it keeps no older versions to delete.")
    if confirmation is not None and confirmation != bucket.name:
        raise ServiceError(
            f"Deleting older versions cannot be undone: type the bucket's name, {bucket.name}, to confirm."
        )


def _existing_key_id(bucket: Bucket, key: str) -> str:
    """The id of the KMS key to select objects by, named by id or alias; refused when the bucket's region does
    not know it (a disabled key or one pending deletion is fine: objects may still be under it)."""
    try:
        return KmsClient(bucket.connection, bucket.region).describe_key(key).key_id
    except CloudError as error:
        if error.status_code == 404:
            raise ServiceError(
                f"KMS key {key} is not a key of the bucket's region {bucket.region or '(unknown)'}: choose one of "
                "its keys to select objects by."
            ) from None
        raise


def _check_report_location(bucket: Bucket, spec: Spec, prefixes: tuple[str, ...]) -> Spec:
    """The spec with its report prefix normalised; the report goes to a bucket of the job's connection, never
    among the objects the job works on (it would visit its own report)."""
    report_bucket, report_prefix = spec.report_bucket.strip(), spec.report_prefix.strip().rstrip("/")
    if not report_bucket:
        if report_prefix:
            raise ServiceError("A report prefix goes with a report bucket: name the bucket the report goes to.")
        return replace(spec, report_bucket="", report_prefix="")
    if report_prefix.startswith("/") or len(report_prefix.encode()) > MAX_REPORT_PREFIX_BYTES:
        raise ServiceError(
            f"Report prefix {report_prefix!r} cannot start an object key: no leading '/', "
            f"at most {MAX_REPORT_PREFIX_BYTES} bytes."
        )
    try:
        find_bucket(bucket.connection, report_bucket)
    except NotFound:
        raise ServiceError(
            f"Connection {bucket.connection.name} has no bucket {report_bucket!r} to write the report to."
        ) from None
    folder = f"{report_prefix}/" if report_prefix else ""
    if report_bucket == bucket.name:
        inside = [prefix or "the whole bucket" for prefix in prefixes or ("",) if folder.startswith(prefix)]
        inside += [prefix for prefix in prefixes if prefix and prefix.startswith(folder) and prefix not in inside]
        if inside:
            raise ServiceError(
                f"The report location {report_bucket}/{folder} is among the objects this job works on "
                f"({', '.join(inside)}): choose another bucket, or a prefix outside the job's prefixes."
            )
    return replace(spec, report_bucket=report_bucket, report_prefix=report_prefix)


def _check_rewrap(spec: Spec) -> Spec:
    """A rewrap names two different client-side master keys and no server-side target."""
    from encryption.models import MasterKey

    if spec.target_mode != Job.TARGET_DEFAULT or spec.target_method or spec.target_algorithm or spec.target_key_id:
        raise ServiceError("A rewrap keeps each object's server-side encryption: give no target encryption.")
    if not spec.rewrap_from_id or not spec.rewrap_to_id:
        raise ServiceError("A rewrap needs the master key objects are under now and the one to move them to.")
    if spec.rewrap_from_id == spec.rewrap_to_id:
        raise ServiceError("The master keys to rewrap from and to are the same key.")
    found = set(MasterKey.objects.filter(pk__in=(spec.rewrap_from_id, spec.rewrap_to_id)).values_list("pk", flat=True))
    if found != {spec.rewrap_from_id, spec.rewrap_to_id}:
        raise ServiceError("A master key of this rewrap does not exist (any more).")
    return spec


@dataclass(frozen=True)
class ResolvedTarget:
    method: str
    algorithm: str
    key_id: str
    default_key_id: str
    label: str


def resolve_target(bucket: Bucket, spec: Spec) -> ResolvedTarget:
    """The encryption the job brings objects to, read now: the bucket default is frozen for the whole run."""
    if spec.kind == Job.REWRAP:
        from encryption.models import MasterKey

        to = MasterKey.objects.get(pk=spec.rewrap_to_id)
        return ResolvedTarget("", "", "", "", f"Client-side master key {to.name}")
    oss = OssClient(bucket.connection)
    default = Sse.of_rule(oss.get_encryption(bucket.name))
    if spec.target_mode == Job.TARGET_DEFAULT:
        target = default
        if target.method == NONE:
            if spec.kind == Job.SCAN:
                return ResolvedTarget(
                    ANY_ENCRYPTION, "", "", "", "Any server-side encryption (the bucket has no default)"
                )
            raise ServiceError(
                f"Bucket {bucket.name} has no default encryption, so 'the bucket default' would decrypt objects: "
                "set a default first, or choose an explicit encryption."
            )
    else:
        target = Sse(spec.target_method, spec.target_algorithm, spec.target_key_id)
        if target.method == NONE and default.method != NONE and spec.kind == Job.REENCRYPT:
            raise ServiceError(NO_DECRYPTION_UNDER_A_DEFAULT)
    default_key_id = ""
    names: dict[str, str] = {}
    if target.method == KMS:
        kms = KmsClient(bucket.connection, bucket.region)
        default_key = kms.default_oss_key()
        default_key_id = default_key.key_id if default_key else ""
        names = key_names(bucket.connection, bucket.region)
    return ResolvedTarget(target.method, target.algorithm, target.key_id, default_key_id, target.label(names))


# Creating and steering


def create_job(
    *,
    actor,
    connection: Connection,
    bucket: str,
    spec: Spec,
    dry_run: bool = False,
    schedule=None,
    retry_of: Job | None = None,
    retry_keys: list[str] | None = None,
    verifies: Job | None = None,
    purge_confirmation: str = "",
) -> Job:
    """Check, record and start a job; workers pick up its first page at once. A job that deletes older versions
    (purge_history) starts only with the bucket's name typed as `purge_confirmation`, unless it is a dry run."""
    found = find_bucket(connection, bucket)
    action = {Job.SCAN: "scan.start", Job.REWRAP: "rewrap.start"}.get(spec.kind, "job.start")
    action = "job.dry-run" if dry_run and spec.kind != Job.SCAN else action
    where = {"actor": actor, "connection": connection, "bucket": bucket}
    try:
        spec = check_spec(found, spec)
        target = resolve_target(found, spec)
        if spec.purge_history:
            _check_purge(found, confirmation=None if dry_run else purge_confirmation)
    except ServiceError as refusal:
        record(
            action,
            **where,
            after=spec.fields(),
            outcome=AuditEvent.FAILURE,
            error=refusal.message,
            request_id=getattr(refusal, "request_id", ""),
        )
        raise
    # A scan of a bucket that has had versioning counts its noncurrent versions too (a re-encryption acts on
    # current versions only: it lists objects, never versions).
    versioned = spec.kind == Job.SCAN and not retry_keys and bool(OssClient(connection).versioning(bucket))
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.create(
            **spec.fields(),
            versioned=versioned,
            connection=connection,
            bucket=bucket,
            dry_run=dry_run and spec.kind != Job.SCAN,
            state=Job.RUNNING,
            resolved_method=target.method,
            resolved_algorithm=target.algorithm,
            resolved_key_id=target.key_id,
            resolved_label=target.label,
            default_key_id=target.default_key_id,
            page_size=settings.JOBS_PAGE_SIZE,
            copy_threshold=settings.JOBS_COPY_THRESHOLD_BYTES,
            schedule=schedule,
            retry_of=retry_of,
            retry_keys=retry_keys or [],
            verifies=verifies,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            started_at=now,
            running_since=now,
        )
        JobPage.objects.create(job=job, number=0)
        if retry_keys:
            Job.objects.filter(pk=job.pk).update(total_objects=len(retry_keys), total_known=True)
        record(
            action,
            **where,
            target=f"job:{job.pk}",
            after={**spec.fields(), "target": target.label, "dry_run": job.dry_run, "job": job.pk},
        )
        page_worker.enqueue(job.pk, 0)
        if not retry_keys:
            from jobs.tasks import count_objects_task

            transaction.on_commit(lambda: count_objects_task.delay(job.pk))
    control.publish(job)
    return job


def _transition(job: Job, actor, action: str) -> Job:
    """Steer the job by `action` as Job.TRANSITIONS allows, and record the change or its refusal."""
    where = {"actor": actor, "connection": job.connection, "bucket": job.bucket, "target": f"job:{job.pk}"}
    try:
        job = _change_state(job, action, where)
    except Conflict as refusal:
        # Recorded here, once the transaction that refused it has rolled back: inside, the event went with it.
        record(f"job.{action}", **where, outcome=AuditEvent.FAILURE, error=refusal.message)
        raise
    control.publish(job)
    return job


def _change_state(job: Job, action: str, where: dict) -> Job:
    _, new_state = Job.TRANSITIONS[action]
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if not job.allows(action):
            raise Conflict(f"Job {job.pk} is {job.get_state_display().lower()}: it cannot be {PAST[action]} now.")
        before = job.state
        if new_state == Job.PAUSED:
            job.active_seconds, job.running_since = job.running_seconds(), None
        elif new_state == Job.RUNNING:
            job.running_since = timezone.now()
        job.state = new_state
        job.save(update_fields=["state", "active_seconds", "running_since"])
        record(f"job.{action}", **where, before={"state": before}, after={"state": new_state})
    return job


def pause_job(job: Job, actor) -> Job:
    return _transition(job, actor, "pause")


def resume_job(job: Job, actor) -> Job:
    job = _transition(job, actor, "resume")
    for number in job.pages.filter(state=JobPage.PENDING).values_list("number", flat=True):
        page_worker.enqueue(job.pk, number)
    return job


def cancel_job(job: Job, actor) -> Job:
    job = _transition(job, actor, "cancel")
    return page_worker.finish_if_done(job.pk) or selectors.get_job(job.pk)


def retry_failed(job: Job, actor, *, from_report: bool = False) -> Job:
    """A follow-up job over exactly the objects that failed, with the same spec and limits. The failed keys come
    from the job's kept outcomes, or (`from_report`) from its completion report in the cloud, read part by part."""
    if job.is_active:
        raise Conflict(f"Job {job.pk} is still {job.get_state_display().lower()}: retry its failures once it ends.")
    if from_report:
        if not job.report_bucket:
            raise Conflict(f"Job {job.pk} wrote no completion report: retry from the failures it kept instead.")
        if not job.report_written_at:
            raise Conflict(
                f"The completion report of job {job.pk} has no manifest yet, so it cannot be read whole: "
                "retry from the failures the job kept, or once the report is written."
            )
        keys = list(dict.fromkeys(report.failed_keys(job)))
    else:
        keys = list(job.outcomes.filter(outcome=ObjectOutcome.FAILED).values_list("key", flat=True))
    if not keys:
        raise Conflict(f"Job {job.pk} has no failed objects to retry.")
    return create_job(
        actor=actor,
        connection=job.connection,
        bucket=job.bucket,
        spec=Spec.of(job),
        dry_run=job.dry_run,
        retry_of=job,
        retry_keys=keys,
    )


def job_finished(job: Job) -> None:
    """What follows the end of a job: its audit event, its completion report's manifest, the next scan of its
    sweep, the scan that verifies a re-encryption."""
    from jobs.services import sweeps  # sweeps build on this module

    summary = selectors.progress(job)
    _record_finish(job, summary)
    if job.purge_history and not job.dry_run:
        record(
            "job.purge-history",
            connection=job.connection,
            bucket=job.bucket,
            target=f"job:{job.pk}",
            after={"versions_deleted": summary.purged[0], "bytes_deleted": summary.purged[1]},
        )
    report.write_manifest(job, summary.counts())
    sweeps.job_finished(job)
    if _needs_verification(job, summary):
        start_verification(job)


def write_missing_manifests() -> int:
    """Write the manifests that workers which died just after ending their job left unwritten; returns how many."""
    ended_before = timezone.now() - datetime.timedelta(seconds=page_worker.lease_seconds())
    written = 0
    for job in report.unwritten_manifests(ended_before):
        report.write_manifest(job, selectors.progress(job).counts())
        written += 1
    return written


def _needs_verification(job: Job, summary: selectors.Progress) -> bool:
    if not (job.is_reencrypt and job.verify and not job.dry_run):
        return False
    if job.state == Job.CANCELLED:
        return summary.count(ObjectOutcome.REENCRYPTED) > 0
    return job.state in Job.COMPLETED_STATES


def start_verification(job: Job) -> Job | None:
    """A compliance scan of exactly what `job` worked on (prefixes, sizes, retried keys) against the job's own
    target; it becomes the bucket's compliance record. A refusal (the bucket is gone, say) is audited, not raised:
    the job itself has ended well."""
    spec = Spec.of(job)
    scan = replace(
        spec,
        kind=Job.SCAN,
        select=Job.SELECT_ALL,
        select_key_id="",
        select_algorithm="",
        verify=False,
        purge_history=False,
    )
    try:
        return create_job(
            actor=job.created_by,
            connection=job.connection,
            bucket=job.bucket,
            spec=scan,
            retry_keys=job.retry_keys or None,
            verifies=job,
        )
    except ServiceError:
        return None


def _record_finish(job: Job, summary: selectors.Progress) -> None:
    record(
        "scan.finish" if job.kind == Job.SCAN else "job.finish",
        connection=job.connection,
        bucket=job.bucket,
        target=f"job:{job.pk}",
        after={"state": job.state, **summary.counts()},
        outcome=AuditEvent.FAILURE if job.state == Job.FAILED else AuditEvent.SUCCESS,
    )


def count_objects(job_id: int) -> None:
    """The listing pass that gives progress its total: one request per 1,000 objects, memory flat."""
    job = selectors.get_job(job_id)
    oss = OssClient(job.connection)
    objects = size = 0
    for prefix in job.prefixes or [""]:
        token = ""
        while True:
            if control.state_of(job) in Job.FINISHED_STATES + (Job.CANCELLING,):
                return
            try:
                page = call_with_retries(job, oss.list_objects, job.bucket, prefix, token, 1000, delimiter="")
            except CloudError as error:  # not transient (those were retried): say why, the pages go on
                Job.objects.filter(pk=job.pk).update(count_error=f"Counting the objects failed: {error.message}"[:500])
                return
            objects += len(page.objects)
            size += sum(entry.size for entry in page.objects)
            Job.objects.filter(pk=job.pk).update(total_objects=objects, total_bytes=size)
            token = page.next_token
            if not token:
                break
    Job.objects.filter(pk=job.pk).update(total_objects=objects, total_bytes=size, total_known=True)
