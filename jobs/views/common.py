"""What the job, scan and schedule pages share: the connection and bucket a form is about, the explicit-target
fields (encryption.forms.SseForm, so they read like the bucket encryption page), and pages of kept outcomes."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.text import capfirst

from buckets.models import Bucket, Connection
from buckets.services.buckets import refresh_stale, refused_methods
from cloud import sse
from cloud.errors import NotFound
from console.form_reload import is_reload
from encryption.forms.sse import SseForm
from encryption.selectors import key_choices, selection_keys
from jobs import selectors
from jobs.forms.jobs import SpecForm, target_initial
from jobs.models import Job, JobSpec, ObjectOutcome
from jobs.services.jobs import NO_DECRYPTION_UNDER_A_DEFAULT, Spec
from jobs.templatetags.jobs_extras import duration

VIEW_JOB = "jobs.view_job"
OUTCOMES_PER_PAGE = 50
TARGET_PREFIX = "target"


def get_job_or_404(pk: int) -> Job:
    try:
        return selectors.get_job(pk)
    except NotFound as missing:
        raise Http404(missing.message) from None


def digits(value) -> int:
    value = str(value or "")
    return int(value) if value.isdigit() else 0


def pick_connection(data) -> Connection | None:
    """The connection the form is about: the submitted or linked one, else the first."""
    connections = Connection.objects.all()
    return connections.filter(pk=digits(data.get("connection"))).first() or connections.first()


@dataclass
class ConnectionBuckets:
    """A connection's buckets as a form offers them: the snapshot, refreshed first when stale."""

    connection: Connection
    buckets: list[Bucket]
    error: str = ""

    def named(self, name: str) -> Bucket | None:
        return next((bucket for bucket in self.buckets if bucket.name == (name or "").strip()), None)


def connection_buckets(connection: Connection) -> ConnectionBuckets:
    (outcome,) = refresh_stale([connection])
    buckets = list(Bucket.objects.filter(connection=connection).order_by("name"))
    return ConnectionBuckets(connection, buckets, outcome.error)


def target_form(data, connection: Connection, bucket: Bucket | None, initial: dict, kind: str) -> SseForm:
    """The explicit target's fields: what the bucket's region (else the connection's) refuses is shown disabled with
    the reason, and so is no encryption for a re-encryption on a bucket that encrypts by default."""
    region = bucket.region if bucket else connection.region
    refused = refused_methods(region)
    if kind == JobSpec.REENCRYPT and bucket is not None and bucket.sse_method != sse.NONE:
        refused[sse.NONE] = NO_DECRYPTION_UNDER_A_DEFAULT
    return SseForm(
        data, prefix=TARGET_PREFIX, initial=initial, key_choices=key_choices(connection, region), refused=refused
    )


def posted_target(data) -> dict:
    return {name: data.get(f"{TARGET_PREFIX}-{name}", "") for name in ("method", "algorithm", "key_id")}


class SpecForms:
    """A spec form and its target fields, bound to a POST or prefilled from a link, an existing spec or the form
    sent back for another connection. The bucket and key choices are the connection's: the posted one on a POST."""

    def __init__(self, form_class: type[SpecForm], request, connection: Connection, spec: JobSpec | None = None):
        self.connection = connection
        self.known = connection_buckets(connection)
        self.missing_bucket = self.missing_key = ""
        if request.method == "POST":
            data = request.POST
            self.bucket = self.known.named(data.get("bucket", ""))
            self.form = form_class(data, **self._choices(form_class))
            explicit = self.form.wants_explicit_target()
            # With the bucket default as target the encryption fields are unused: they keep what was chosen, unchecked.
            self.target = target_form(
                data if explicit else None, connection, self.bucket, posted_target(data), form_class.kind
            )
        else:
            if is_reload(request.GET):
                spec = None  # the form sent back: what was entered, not what the schedule has
            if spec is not None:
                initial = self._initial_from_spec(form_class, spec)
            else:
                initial = form_class.initial_from_query(request.GET)
            initial["connection"] = connection.pk
            self.bucket = self.known.named(initial.get("bucket", ""))
            if initial.get("bucket") and self.bucket is None:
                self.missing_bucket = initial["bucket"]
            if spec is None and "target_mode" not in initial and self._needs_explicit_target(form_class):
                initial["target_mode"] = JobSpec.TARGET_EXPLICIT
            self.form = form_class(initial=initial, **self._choices(form_class))
            key_id = initial.get("select_key_id", "")
            if key_id and hasattr(self.form, "select_key_ids") and key_id not in self.form.select_key_ids:
                self.missing_key = key_id
            self.target = target_form(
                None,
                connection,
                self.bucket,
                target_initial(spec=spec, query=request.GET, bucket=self.bucket),
                form_class.kind,
            )
        if self.bucket is not None:
            self.form.fields[
                "target_mode"
            ].help_text = (
                f"The default of {self.bucket.name}, as the console last saw it: {self.bucket.sse_label or 'None'}."
            )

    @property
    def region(self) -> str:
        """The region whose keys the form offers: the bucket's, else the connection's."""
        return self.bucket.region if self.bucket else self.connection.region

    def _choices(self, form_class) -> dict:
        choices = {"connection": self.connection, "buckets": self.known.buckets}
        if "select_key_id" in form_class.base_fields:
            choices |= {"select_keys": selection_keys(self.connection, self.region), "keys_region": self.region}
        return choices

    def _needs_explicit_target(self, form_class) -> bool:
        """A re-encryption of a bucket known to have no default cannot target 'the bucket default'."""
        return form_class.kind == Job.REENCRYPT and self.bucket is not None and self.bucket.sse_method == sse.NONE

    @staticmethod
    def _initial_from_spec(form_class, spec):
        builder = getattr(form_class, "initial_from_schedule", None)
        return builder(spec) if builder and hasattr(spec, "crontab") else form_class.initial_from_spec(spec)

    def is_valid(self) -> bool:
        form_valid = self.form.is_valid()
        target_valid = self.target.is_valid() if self.target.is_bound else True
        return form_valid and target_valid

    def spec(self) -> Spec:
        return self.form.spec(self.target.cleaned_data.get("sse") if self.target.is_bound else None)

    def add_error(self, message: str) -> None:
        self.form.add_error(None, message)


def outcome_page(request, job: Job, kinds: tuple[str, ...], parameter: str = "page"):
    """One page of the kept outcomes of `kinds` (failures, skips, non-matching objects), oldest first."""
    return Paginator(selectors.kept_outcomes(job, kinds), OUTCOMES_PER_PAGE).get_page(request.GET.get(parameter))


def outcome_choices() -> list[tuple[str, str]]:
    labels = dict(ObjectOutcome.KINDS)
    return [(kind, capfirst(labels[kind])) for kind in ObjectOutcome.KEPT]


# What happened to a job's objects, per kind of job: (outcome, label). Keys are those of Progress.counts().
REENCRYPT_OUTCOMES = [
    ("reencrypted", "Re-encrypted"),
    ("compliant", "Already compliant"),
    ("filtered", "Outside the filter"),
    ("skipped", "Skipped"),
    ("failed", "Failed"),
]
DRY_RUN_OUTCOMES = [("planned", "Would be re-encrypted"), *REENCRYPT_OUTCOMES[1:]]
REWRAP_OUTCOMES = [
    ("reencrypted", "Moved to the new master key"),
    ("compliant", "Already under the new master key"),
    ("filtered", "Not under the old master key"),
    ("skipped", "Skipped"),
    ("failed", "Failed"),
]
REWRAP_DRY_RUN_OUTCOMES = [("planned", "Would move to the new master key"), *REWRAP_OUTCOMES[1:]]
SCAN_OUTCOMES = [
    ("compliant", "Compliant"),
    ("not_matching", "Not matching the target"),
    ("skipped", "Cannot be re-encrypted"),
    ("failed", "Could not be read"),
]


def outcome_kinds(job: Job) -> list[tuple[str, str]]:
    if job.kind == Job.SCAN:
        return SCAN_OUTCOMES
    if job.kind == Job.REWRAP:
        return REWRAP_DRY_RUN_OUTCOMES if job.dry_run else REWRAP_OUTCOMES
    return DRY_RUN_OUTCOMES if job.dry_run else REENCRYPT_OUTCOMES


def live_numbers(job: Job, progress: selectors.Progress) -> dict:
    """What the progress bar shows, the same at page load and in the JSON the page polls."""
    counts = progress.counts()
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": job.get_state_display(),
        "finished": job.state in Job.FINISHED_STATES,
        "percent": round(progress.percent, 1),
        "objects_done": progress.objects_done,
        "objects_total": job.total_objects,
        "total_known": job.total_known,
        "counting_note": _counting_note(job),
        "purged_versions": progress.purged_versions,
        "purged_bytes_label": filesizeformat(progress.purged_bytes),
        "bytes_done": progress.bytes_done,
        "bytes_total": job.total_bytes,
        "bytes_done_label": filesizeformat(progress.bytes_done),
        "bytes_total_label": filesizeformat(job.total_bytes),
        "rate": round(progress.rate, 2),
        "requests": progress.requests,
        "requests_per_object": f"{progress.requests_per_object:.1f}",
        "eta_seconds": None if progress.eta_seconds is None else round(progress.eta_seconds),
        "eta": duration(progress.eta_seconds),
        "elapsed": duration(job.running_seconds()),
        "errors": progress.errors,
        "counts": counts,
        "outcomes": [{"name": name, "label": label, "count": counts[name]} for name, label in outcome_kinds(job)],
        "skipped_reasons": selectors.skipped_reasons(job) if counts["skipped"] else [],
        "throttled": "; ".join(str(throttling) for throttling in selectors.throttling(job)),
    }


def actions(job: Job, progress: selectors.Progress) -> dict:
    """Which buttons beyond steering the job allows (pause, resume and cancel are the job's can_* properties;
    permissions are checked in the template and again on POST)."""
    return {
        "can_retry": job.state in Job.FINISHED_STATES and progress.errors > 0,
        "can_run": job.dry_run and job.state in Job.COMPLETED_STATES,
    }


def report_context(job: Job, progress: selectors.Progress) -> dict:
    """The completion report section: where the per-object report is, and the objects and bytes per outcome."""
    labels = dict(outcome_kinds(job))
    counts = [
        {"label": labels.get(name.replace("-", "_"), capfirst(name)), "objects": objects, "bytes": size}
        for name, (objects, size) in sorted(progress.outcomes.items())
    ]
    return {"completion_report": selectors.completion_report(job), "outcome_counts": counts}


def _counting_note(job: Job) -> str:
    if job.total_known:
        return ""
    return f"(total unknown: {job.count_error})" if job.count_error else "(still counting)"
