"""`manage.py reencrypt BUCKET`: start a re-encryption job, a dry run (--dry-run) or a compliance scan (--scan)
through the same service as the pages and the API, and with --wait follow it to its end."""

import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.template.defaultfilters import filesizeformat
from django.urls import NoReverseMatch, reverse

from buckets.models import Connection
from cloud import sse
from cloud.errors import ServiceError
from jobs import selectors
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services
from jobs.templatetags.jobs_extras import duration

# Outcomes worth a word in the summary, in the order people read them.
SUMMARY_OUTCOMES = [(name, label.lower()) for name, label in ObjectOutcome.KINDS]


def _size(value: int) -> str:
    return filesizeformat(value).replace("\xa0", " ")


def _objects(count: int) -> str:
    return f"{count} object" if count == 1 else f"{count} objects"


def page_path(job: Job) -> str:
    try:
        return reverse("jobs:job_detail", args=[job.pk])
    except NoReverseMatch:  # the UI is not mounted (an API-only deployment)
        return f"/jobs/{job.pk}/"


def master_key_id(name: str | None) -> int | None:
    """The id of the client-side master key named `name` (None when not given; the service says what is missing)."""
    from encryption.models import MasterKey

    if not name:
        return None
    key = MasterKey.objects.filter(name=name).first()
    if key is None:
        raise CommandError(f"There is no client-side master key named {name!r}.")
    return key.pk


def find_connection(name_or_id: str | None) -> Connection:
    """The connection named (or with this id); without one, the only connection there is."""
    if name_or_id:
        connection = Connection.objects.filter(name=name_or_id).first()
        if connection is None and name_or_id.isdigit():
            connection = Connection.objects.filter(pk=int(name_or_id)).first()
        if connection is None:
            raise CommandError(f"There is no connection named {name_or_id!r} (nor with that id).")
        return connection
    names = list(Connection.objects.order_by("name").values_list("name", flat=True)[:21])
    if not names:
        raise CommandError("There is no connection yet: an Admin adds one on the Connections page.")
    if len(names) > 1:
        raise CommandError(f"There are several connections: choose one with --connection ({', '.join(names[:20])}).")
    return Connection.objects.get(name=names[0])


class Command(BaseCommand):
    help = (
        "Start a re-encryption job (or a dry run, or a compliance scan) on a bucket; with --wait, follow it to its "
        "end and exit 0 when it completed, 1 otherwise."
    )
    poll_seconds = 1.0

    def add_arguments(self, parser):
        parser.add_argument("bucket")
        parser.add_argument("--connection", help="name or id; default: the only connection")
        parser.add_argument(
            "--prefix",
            action="append",
            default=[],
            dest="prefixes",
            metavar="PREFIX",
            help="key prefix (repeatable); default: all",
        )
        parser.add_argument("--select", choices=[value for value, _ in Job.SELECTIONS], help="which objects")
        parser.add_argument("--key-id", default="", help="with --select key: the KMS key whose objects to select")
        parser.add_argument("--algorithm", default="", help="with --select algorithm: AES256 or SM4")
        parser.add_argument("--min-size", type=int, help="bytes")
        parser.add_argument("--max-size", type=int, help="bytes")
        parser.add_argument(
            "--target",
            choices=[value for value, _ in Job.TARGET_MODES],
            help="the bucket default (default) or explicit (--method, --target-algorithm, --target-key); "
            "--method alone implies explicit",
        )
        parser.add_argument("--method", choices=[value for value, _ in sse.METHOD_CHOICES], default="")
        parser.add_argument("--target-algorithm", choices=[value for value, _ in sse.ALGORITHM_CHOICES], default="")
        parser.add_argument("--target-key", default="", help="KMS key id or alias; blank: alias/acs/oss")
        parser.add_argument("--concurrency", type=int, default=services.Spec.concurrency)
        parser.add_argument(
            "--rps", type=int, default=services.Spec.requests_per_second, help="OSS requests per second, 0: no cap"
        )
        parser.add_argument(
            "--kms-rps", type=int, default=services.Spec.kms_per_second, help="KMS calls per second, 0: no cap"
        )
        parser.add_argument(
            "--check-after-copy",
            choices=[value for value, _ in Job.CHECKS_AFTER_COPY],
            default=services.Spec.check_after_copy,
            help="response: check each copy from its answer (default, 2 round trips per object); "
            "full: by a HEAD after it (3)",
        )
        parser.add_argument(
            "--report-bucket", default="", help="a bucket of the connection for the per-object completion report"
        )
        parser.add_argument("--report-prefix", default="", help="the report goes under PREFIX/job-<id>/")
        parser.add_argument("--dry-run", action="store_true", help="plan without writing anything")
        parser.add_argument("--scan", action="store_true", help="a compliance scan (reads only)")
        parser.add_argument(
            "--rewrap-from",
            metavar="MASTER_KEY",
            help="rotate client-side encrypted objects from this master key (name)",
        )
        parser.add_argument("--rewrap-to", metavar="MASTER_KEY", help="... to this master key (name)")
        parser.add_argument("--wait", action="store_true", help="follow the job until it ends")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options):
        self.as_json = options["json"]
        connection = find_connection(options["connection"])
        try:
            job = services.create_job(
                actor=None,
                connection=connection,
                bucket=options["bucket"],
                spec=self.spec(options),
                dry_run=options["dry_run"],
            )
        except ServiceError as refusal:
            raise CommandError(refusal.message) from None
        if not (options["wait"] and self.as_json):  # with both, stdout is the one final JSON document
            self.show_started(job)
        if options["wait"]:
            self.wait(job)

    @staticmethod
    def spec(options) -> services.Spec:
        if options["rewrap_from"] or options["rewrap_to"]:
            return services.Spec(
                kind=Job.REWRAP,
                prefixes=tuple(options["prefixes"]),
                rewrap_from_id=master_key_id(options["rewrap_from"]),
                rewrap_to_id=master_key_id(options["rewrap_to"]),
                concurrency=options["concurrency"],
                requests_per_second=options["rps"],
                kms_per_second=options["kms_rps"],
                check_after_copy=options["check_after_copy"],
                report_bucket=options["report_bucket"],
                report_prefix=options["report_prefix"],
            )
        explicit = options["target"] == Job.TARGET_EXPLICIT or (options["target"] is None and options["method"])
        scan = options["scan"]
        return services.Spec(
            kind=Job.SCAN if scan else Job.REENCRYPT,
            prefixes=tuple(options["prefixes"]),
            select=options["select"] or (Job.SELECT_ALL if scan else Job.SELECT_NOT_MATCHING),
            select_key_id=options["key_id"],
            select_algorithm=options["algorithm"].upper(),
            min_size=options["min_size"],
            max_size=options["max_size"],
            target_mode=Job.TARGET_EXPLICIT if explicit else Job.TARGET_DEFAULT,
            target_method=options["method"],
            target_algorithm=options["target_algorithm"],
            target_key_id=options["target_key"],
            concurrency=options["concurrency"],
            requests_per_second=options["rps"],
            kms_per_second=options["kms_rps"],
            check_after_copy=options["check_after_copy"],
            report_bucket=options["report_bucket"],
            report_prefix=options["report_prefix"],
        )

    def show_started(self, job: Job) -> None:
        if self.as_json:
            self.stdout.write(self.as_json_text(job))
            return
        what = "dry run" if job.dry_run else job.get_kind_display().lower()
        self.stdout.write(f"Started {what} {job.pk} of {job.bucket} towards {job.resolved_label}.")
        self.stdout.write(f"job id: {job.pk}")
        self.stdout.write(f"page: {page_path(job)}")

    def wait(self, job: Job) -> None:
        """Print a progress line every poll until the job ends, then the summary; CommandError unless completed."""
        progress_out = self.stderr if self.as_json else self.stdout
        try:
            while True:
                progress = selectors.progress(job)
                progress_out.write(self.progress_line(progress))
                if job.state in Job.FINISHED_STATES:
                    break
                time.sleep(self.poll_seconds)
        except KeyboardInterrupt:
            raise CommandError(
                f"Stopped waiting; job {job.pk} goes on (pause or cancel it at {page_path(job)}).", returncode=130
            ) from None
        if self.as_json:
            self.stdout.write(self.as_json_text(job))
        else:
            self.show_summary(job, progress)
        if job.state != Job.COMPLETED:
            reason = f": {job.error}" if job.error else ""
            raise CommandError(f"Job {job.pk} ended {job.get_state_display().lower()}{reason}.", returncode=1)

    @staticmethod
    def progress_line(progress: selectors.Progress) -> str:
        job = progress.job
        total = str(job.total_objects) if job.total_known else (f"{job.total_objects}+" if job.total_objects else "?")
        eta = progress.eta_seconds
        return (
            f"{job.state:<10} {progress.percent:5.1f}%  {progress.objects_done}/{total} objects  "
            f"{_size(progress.bytes_done)}  {progress.rate:.1f} objects/s  "
            f"ETA {duration(eta) if eta is not None else '-'}  errors {progress.errors}"
        )

    def show_summary(self, job: Job, progress: selectors.Progress) -> None:
        write = self.stdout.write
        write(
            f"Job {job.pk} {job.get_state_display().lower()} in {duration(job.running_seconds())}: "
            f"{_objects(progress.objects_done)}, {_size(progress.bytes_done)}."
        )
        counts = progress.counts()
        for name, label in SUMMARY_OUTCOMES:
            if counts.get(name.replace("-", "_")):
                write(f"  {label}: {counts[name.replace('-', '_')]}")
        if job.error:
            write(f"  error: {job.error}")
        if progress.requests and not job.dry_run and job.kind != Job.SCAN:
            write(
                f"  {progress.requests} OSS requests, {progress.requests_per_object:.1f} per object; "
                f"check after each copy: {job.check_after_copy}"
            )
        if job.dry_run:
            plan = selectors.plan(job)
            write(
                f"Plan: {_objects(plan.objects)} ({_size(plan.bytes)}) would be re-encrypted to {job.resolved_label};"
            )
            write(f"  {plan.compliant} already compliant, {plan.filtered} outside the filter.")
            for reason, count in sorted(plan.skipped.items()):
                write(f"  skipped, {reason}: {count}")
            write(
                f"  a real run: about {plan.requests} OSS requests, {plan.kms_calls} KMS calls, "
                f"{duration(plan.seconds)} at {job.requests_per_second} requests/s."
            )
        if job.kind == Job.SCAN:
            summary = selectors.summarise_scan(job)
            if not summary.objects:
                write(f"No objects matched the scan's prefixes and filters (target {job.resolved_label}).")
            else:
                write(
                    f"Compliant with {job.resolved_label}: {summary.compliant_objects} of {summary.objects} objects "
                    f"({summary.compliant_percent:.1f}%), {summary.compliant_bytes_percent:.1f}% of the bytes."
                )
            for reason in summary.outdated_by:
                write(f"  outdated: {reason}")
            for label, objects, size in summary.states:
                write(f"  {label}: {_objects(objects)}, {_size(size)}")
        if job.outcomes.exists():
            report = reverse("job-report", args=[job.pk])
            write(f"Report: {report} (CSV of every failed, skipped and not-matching object).")

    @staticmethod
    def as_json_text(job: Job) -> str:
        from jobs.api.serializers.jobs import JobDetailSerializer

        data = JobDetailSerializer(selectors.get_job(job.pk)).data
        return json.dumps({**data, "url": page_path(job)}, cls=DjangoJSONEncoder, indent=2)
