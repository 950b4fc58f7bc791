"""What the job, scan and schedule pages share: the connection and bucket a form is about, the explicit-target
fields (encryption.forms.SseForm, so they read like the bucket encryption page), and pages of kept outcomes."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.text import capfirst

from buckets.models import Bucket, Connection
from buckets.services.buckets import offered_methods
from console.exceptions import NotFound
from encryption import sse
from encryption.catalog import key_choices
from encryption.forms import SseForm
from jobs import services
from jobs.forms import SpecForm, target_initial
from jobs.models import Job, JobSpec, ObjectOutcome

VIEW_JOB = "jobs.view_job"
OUTCOMES_PER_PAGE = 50
PAUSABLE = (Job.RUNNING, Job.PENDING)
CANCELLABLE = (Job.RUNNING, Job.PENDING, Job.PAUSED)
TARGET_PREFIX = "target"


def get_job_or_404(pk: int) -> Job:
    try:
        return services.get_job(pk)
    except NotFound as missing:
        raise Http404(missing.message) from None


def digits(value) -> int:
    value = str(value or "")
    return int(value) if value.isdigit() else 0


def pick_connection(data) -> Connection | None:
    """The connection the form is about: the submitted or linked one, else the first."""
    connections = Connection.objects.all()
    return connections.filter(pk=digits(data.get("connection"))).first() or connections.first()


def known_bucket(connection: Connection | None, name: str) -> Bucket | None:
    if connection is None or not name:
        return None
    return Bucket.objects.filter(connection=connection, name=name.strip()).first()


def target_form(data, connection: Connection, bucket: Bucket | None, initial: dict) -> tuple[SseForm, list[str]]:
    """The explicit target's fields, offering what the bucket's region (else the connection's) allows, and why
    the other methods are not offered."""
    region = bucket.region if bucket else connection.region
    methods, not_offered = offered_methods(region)
    choices = key_choices(connection, region)
    return SseForm(data, prefix=TARGET_PREFIX, initial=initial, key_choices=choices, methods=methods), not_offered


def posted_target(data) -> dict:
    return {name: data.get(f"{TARGET_PREFIX}-{name}", "") for name in ("method", "algorithm", "key_id")}


class SpecForms:
    """A spec form and its target fields, bound to a POST or prefilled from a link or an existing spec."""

    def __init__(self, form_class: type[SpecForm], request, connection: Connection, spec: JobSpec | None = None):
        if request.method == "POST":
            data = request.POST
            self.form = form_class(data)
            self.bucket = known_bucket(connection, data.get("bucket", ""))
            explicit = self.form.wants_explicit_target()
            # With the bucket default as target the encryption fields are unused: they keep what was chosen, unchecked.
            self.target, self.not_offered = target_form(
                data if explicit else None, connection, self.bucket, initial=posted_target(data)
            )
        else:
            if spec is not None:
                initial = self._initial_from_spec(form_class, spec)
            else:
                initial = form_class.initial_from_query(request.GET)
                initial.setdefault("connection", connection.pk)
            self.bucket = known_bucket(connection, initial.get("bucket", ""))
            if spec is None and "target_mode" not in initial and self._needs_explicit_target(form_class):
                initial["target_mode"] = JobSpec.TARGET_EXPLICIT
            self.form = form_class(initial=initial)
            self.target, self.not_offered = target_form(
                None, connection, self.bucket, target_initial(spec=spec, query=request.GET, bucket=self.bucket)
            )
        if self.bucket is not None:
            self.form.fields[
                "target_mode"
            ].help_text = (
                f"The default of {self.bucket.name}, as the console last saw it: {self.bucket.sse_label or 'None'}."
            )

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

    def spec(self) -> services.Spec:
        return self.form.spec(self.target.cleaned_data.get("sse") if self.target.is_bound else None)

    def add_error(self, message: str) -> None:
        self.form.add_error(None, message)


def known_buckets():
    return Bucket.objects.select_related("connection").order_by("name", "connection__name")


def outcome_page(request, job: Job, kinds: tuple[str, ...], parameter: str = "page"):
    """One page of the kept outcomes of `kinds` (failures, skips, non-matching objects), oldest first."""
    outcomes = job.outcomes.filter(outcome__in=kinds).order_by("id")
    return Paginator(outcomes, OUTCOMES_PER_PAGE).get_page(request.GET.get(parameter))


def outcome_choices() -> list[tuple[str, str]]:
    labels = dict(ObjectOutcome.KINDS)
    return [(kind, capfirst(labels[kind])) for kind in ObjectOutcome.KEPT]


def live_numbers(job: Job, progress: services.Progress) -> dict:
    """What the progress bar shows, the same at page load and in the JSON the page polls."""
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": job.get_state_display(),
        "finished": job.state in Job.FINISHED_STATES,
        "percent": round(progress.percent, 1),
        "objects_done": progress.objects_done,
        "objects_total": job.total_objects,
        "total_known": job.total_known,
        "bytes_done": progress.bytes_done,
        "bytes_total": job.total_bytes,
        "bytes_done_label": filesizeformat(progress.bytes_done),
        "bytes_total_label": filesizeformat(job.total_bytes),
        "rate": round(progress.rate, 2),
        "eta_seconds": None if progress.eta_seconds is None else round(progress.eta_seconds),
        "eta": services.format_duration(progress.eta_seconds),
        "elapsed": services.format_duration(job.running_seconds()),
        "errors": progress.errors,
        "counts": progress.counts(),
    }


def actions(job: Job, progress: services.Progress) -> dict:
    """Which buttons the job's state allows (permissions are checked in the template and again on POST)."""
    return {
        "can_pause": job.state in PAUSABLE,
        "can_resume": job.state == Job.PAUSED,
        "can_cancel": job.state in CANCELLABLE,
        "can_retry": job.state in Job.FINISHED_STATES and progress.errors > 0,
        "can_run": job.dry_run and job.state in (Job.COMPLETED, Job.COMPLETED_WITH_ERRORS),
    }
