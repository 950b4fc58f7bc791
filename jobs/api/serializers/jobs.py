"""Shapes of the jobs API. Inputs are checked for shape only (types, choices, lengths that fit the columns); the
rules (ranges, selections, targets) are the services', so a refusal is audited whichever door it came through."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from buckets.models import Connection
from cloud import sse
from jobs import selectors
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services
from jobs.templatetags.jobs_extras import duration

DEFAULT_SPEC = services.Spec()
SPEC_FIELDS = tuple(services.Spec.__dataclass_fields__)
MAX_BYTES = 2**63 - 1


def spec_of(data: dict) -> services.Spec:
    """The services' Spec from validated input (a SpecInputSerializer's data)."""
    return services.Spec(
        **{name: data[name] for name in SPEC_FIELDS if name != "prefixes"}, prefixes=tuple(data["prefixes"])
    )


# Inputs


class SpecInputSerializer(serializers.Serializer):
    """Where a job works (connection, bucket), on which objects (filter), towards what (target), how fast."""

    connection = serializers.PrimaryKeyRelatedField(queryset=Connection.objects.all(), help_text="The connection's id.")
    bucket = serializers.CharField(max_length=63)
    kind = serializers.ChoiceField(choices=Job.KINDS, default=DEFAULT_SPEC.kind)
    prefixes = serializers.ListField(
        child=serializers.CharField(max_length=1023, allow_blank=True),
        default=list,
        help_text=f"Key prefixes to work on (at most {services.MAX_PREFIXES}); empty: the whole bucket.",
    )
    select = serializers.ChoiceField(choices=Job.SELECTIONS, default=DEFAULT_SPEC.select)
    select_key_id = serializers.CharField(
        max_length=128, required=False, allow_blank=True, default="", help_text="With select=key: the KMS key id."
    )
    select_algorithm = serializers.ChoiceField(
        choices=sse.ALGORITHM_CHOICES, required=False, allow_blank=True, default="", help_text="With select=algorithm."
    )
    min_size = serializers.IntegerField(
        min_value=0, max_value=MAX_BYTES, required=False, allow_null=True, default=None, help_text="Bytes."
    )
    max_size = serializers.IntegerField(
        min_value=0, max_value=MAX_BYTES, required=False, allow_null=True, default=None, help_text="Bytes."
    )
    target_mode = serializers.ChoiceField(
        choices=Job.TARGET_MODES,
        default=DEFAULT_SPEC.target_mode,
        help_text="bucket-default: the bucket's default encryption, read when the job starts; explicit: the "
        "target_method, target_algorithm and target_key_id below.",
    )
    target_method = serializers.ChoiceField(
        choices=sse.METHOD_CHOICES, required=False, allow_blank=True, default="", help_text="Explicit target only."
    )
    target_algorithm = serializers.ChoiceField(
        choices=sse.ALGORITHM_CHOICES, required=False, allow_blank=True, default="", help_text="Explicit target only."
    )
    target_key_id = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        default="",
        help_text="Explicit KMS target: a CMK id or alias; blank: alias/acs/oss.",
    )
    concurrency = serializers.IntegerField(
        default=DEFAULT_SPEC.concurrency, help_text=f"Objects at once, 1 to {services.MAX_CONCURRENCY}."
    )
    requests_per_second = serializers.IntegerField(
        default=DEFAULT_SPEC.requests_per_second,
        help_text=f"OSS requests per second, 0 (no cap) to {services.MAX_RATE}.",
    )
    kms_per_second = serializers.IntegerField(
        default=DEFAULT_SPEC.kms_per_second, help_text=f"KMS calls per second, 0 (no cap) to {services.MAX_RATE}."
    )
    rewrap_from_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Rewrap only: the CSE master key objects are under."
    )
    rewrap_to_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Rewrap only: the CSE master key to move them to."
    )
    verify = serializers.BooleanField(
        default=DEFAULT_SPEC.verify,
        help_text="Re-encryption only: end with a compliance scan of the objects the job worked on "
        "(its 'verifies' names the job); ignored by other kinds.",
    )
    purge_history = serializers.BooleanField(
        default=DEFAULT_SPEC.purge_history,
        help_text="Re-encryption of a versioned bucket only: once an object's current version is as targeted, "
        "delete its older versions that are not (a dry run counts them). Cannot be undone: a job needs "
        "purge_confirmation; a schedule cannot have it.",
    )
    check_after_copy = serializers.ChoiceField(
        choices=Job.CHECKS_AFTER_COPY,
        default=DEFAULT_SPEC.check_after_copy,
        help_text="How each copy is checked: 'response' from the copy's answer (encryption, ETag, CRC64; two round "
        "trips per object), 'full' by a second HEAD (also size, metadata, content headers, storage class).",
    )
    report_bucket = serializers.CharField(
        max_length=63,
        required=False,
        allow_blank=True,
        default="",
        help_text="A bucket of the same connection for the per-object completion report; blank: none is written.",
    )
    report_prefix = serializers.CharField(
        max_length=services.MAX_REPORT_PREFIX_BYTES,
        required=False,
        allow_blank=True,
        default="",
        help_text="The report goes under <report_prefix>/job-<id>/; it may not lie among the job's own objects.",
    )


class JobCreateSerializer(SpecInputSerializer):
    dry_run = serializers.BooleanField(
        default=False, help_text="Re-encryption only: plan without writing (counts, bytes, requests, KMS calls)."
    )
    purge_confirmation = serializers.CharField(
        max_length=63,
        required=False,
        allow_blank=True,
        default="",
        help_text="With purge_history (not a dry run): the bucket's name, typed to confirm deleting older versions.",
    )


class RetryFailedSerializer(serializers.Serializer):
    source = serializers.ChoiceField(
        choices=[("outcomes", "The failures the job kept"), ("report", "The failures its completion report lists")],
        default="outcomes",
        help_text="Where the failed keys come from.",
    )


# Outputs


class TargetSerializer(serializers.Serializer):
    """The encryption the job brings objects to, resolved when it started."""

    method = serializers.CharField(
        source="resolved_method",
        help_text="none, oss, kms; 'any' for a scan of a bucket "
        "without default (any server-side encryption is compliant).",
    )
    algorithm = serializers.CharField(source="resolved_algorithm")
    key_id = serializers.CharField(source="resolved_key_id")
    label = serializers.CharField(source="resolved_label")


class JobSerializer(serializers.ModelSerializer):
    connection_name = serializers.CharField(source="connection.name")
    target = TargetSerializer(source="*")
    created_by = serializers.SerializerMethodField()
    running_seconds = serializers.FloatField(help_text="Time spent running, pauses excluded.")

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "state",
            "dry_run",
            "connection",
            "connection_name",
            "bucket",
            *(name for name in SPEC_FIELDS if name != "kind"),
            "target",
            "error",
            "schedule",
            "retry_of",
            "verifies",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "running_seconds",
        ]
        read_only_fields = fields

    def get_created_by(self, job) -> str | None:
        return job.created_by.username if job.created_by else None


@extend_schema_field(
    {
        "type": "object",
        "description": "Every outcome kind (reencrypted, compliant, planned, filtered, skipped, failed, "
        "not-matching) with its objects and bytes so far.",
        "additionalProperties": {
            "type": "object",
            "properties": {"objects": {"type": "integer"}, "bytes": {"type": "integer"}},
        },
    }
)
class OutcomeCountsField(serializers.Field):
    def to_representation(self, outcomes):
        return {
            name: dict(zip(("objects", "bytes"), outcomes.get(name, [0, 0]), strict=True))
            for name in dict(ObjectOutcome.KINDS)
        }


class ProgressSerializer(serializers.Serializer):
    """selectors.Progress: how far a job got, how fast, and what happened to the objects done."""

    objects_total = serializers.IntegerField(source="job.total_objects", help_text="Counted by a listing pass.")
    bytes_total = serializers.IntegerField(source="job.total_bytes")
    total_known = serializers.BooleanField(
        source="job.total_known", help_text="False while the listing pass is still counting."
    )
    count_error = serializers.CharField(
        source="job.count_error", help_text="Why the listing pass stopped before the total was known, if it did."
    )
    objects_done = serializers.IntegerField()
    bytes_done = serializers.IntegerField()
    purged_versions = serializers.IntegerField(
        help_text="With purge_history: older versions deleted so far (a dry run: that a run would delete)."
    )
    purged_bytes = serializers.IntegerField()
    percent = serializers.FloatField()
    rate_per_second = serializers.FloatField(source="rate", help_text="Objects per second while running.")
    eta_seconds = serializers.FloatField(allow_null=True, help_text="Null unless running with a known total.")
    errors = serializers.IntegerField(help_text="Objects that failed.")
    requests = serializers.IntegerField(help_text="OSS requests so far.")
    requests_per_object = serializers.FloatField(
        help_text="OSS requests per object looked at, over the pages recorded so far."
    )
    kms_calls = serializers.IntegerField(help_text="KMS calls so far (estimated for a dry run).")
    outcomes = OutcomeCountsField()


class PlanSerializer(serializers.Serializer):
    """selectors.Plan: what a real run would do, from a dry run (so far, while it runs)."""

    objects = serializers.IntegerField(help_text="Objects a real run would re-encrypt.")
    bytes = serializers.IntegerField()
    compliant = serializers.IntegerField(help_text="Objects already as targeted.")
    filtered = serializers.IntegerField(help_text="Objects outside the selection or the size range.")
    skipped = serializers.DictField(child=serializers.IntegerField(), help_text="Objects skipped, by reason.")
    requests = serializers.IntegerField(help_text="OSS requests a real run would make.")
    kms_calls = serializers.IntegerField()
    seconds = serializers.FloatField(help_text="Estimated duration at the job's limits.")
    duration = serializers.SerializerMethodField(help_text="The same as H:MM:SS.")

    def get_duration(self, plan) -> str:
        return duration(plan.seconds)


class StateShareSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="The encryption, e.g. 'KMS AES256 alias/app(...)' or 'None'.")
    objects = serializers.IntegerField()
    bytes = serializers.IntegerField()


class VersionFailureSerializer(serializers.Serializer):
    key = serializers.CharField()
    version_id = serializers.CharField()
    reason = serializers.CharField()


class ScanSummarySerializer(serializers.Serializer):
    """selectors.ScanSummary: a bucket's objects by encryption, and how many match the target."""

    states = serializers.SerializerMethodField(help_text="Largest share (bytes) first.")
    objects = serializers.IntegerField()
    bytes = serializers.IntegerField()
    compliant_objects = serializers.IntegerField()
    compliant_bytes = serializers.IntegerField()
    compliant_percent = serializers.FloatField(allow_null=True, help_text="Null while no object has been seen.")
    compliant_bytes_percent = serializers.FloatField(allow_null=True, help_text="Null while no byte has been seen.")
    counting = serializers.BooleanField(help_text="The scan is still running: the figures are so far.")
    outdated_by = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why the scan no longer tells the truth (jobs or changes on the bucket since); empty: current.",
    )
    not_matching = serializers.IntegerField()
    cannot_reencrypt = serializers.IntegerField(help_text="Skipped objects: archived, symlinks...")
    client_side = serializers.IntegerField(help_text="Objects that are client-side encrypted too.")
    history = serializers.SerializerMethodField(
        help_text="A versioned bucket's noncurrent versions by encryption (objects: versions), largest share first; "
        "empty when the bucket keeps none or never had versioning."
    )
    history_versions = serializers.IntegerField(help_text="Noncurrent versions seen.")
    history_bytes = serializers.IntegerField()
    exposed_versions = serializers.IntegerField(help_text="Noncurrent versions not as the scan targets.")
    exposed_bytes = serializers.IntegerField()
    history_failures = serializers.SerializerMethodField(
        help_text="Noncurrent versions whose HEAD failed (the first few of each listing page)."
    )

    @extend_schema_field(StateShareSerializer(many=True))
    def get_states(self, summary):
        return _shares(summary.states)

    @extend_schema_field(StateShareSerializer(many=True))
    def get_history(self, summary):
        return _shares(summary.history)

    @extend_schema_field(VersionFailureSerializer(many=True))
    def get_history_failures(self, summary):
        return [
            {"key": key, "version_id": version, "reason": reason} for key, version, reason in summary.history_failures
        ]


def _shares(states: list[tuple[str, int, int]]) -> list[dict]:
    return [{"label": label, "objects": objects, "bytes": size} for label, objects, size in states]


class CompletionReportSerializer(serializers.Serializer):
    """selectors.CompletionReport: where the per-object report is in the cloud, and how much is written."""

    bucket = serializers.CharField()
    folder = serializers.CharField(help_text="<report_prefix>/job-<id>/: the parts and the manifest are under it.")
    manifest_key = serializers.CharField(help_text="manifest.json, once the job has ended; blank before.")
    parts = serializers.IntegerField(help_text="Parts written so far: one gzip member per listing page.")
    rows = serializers.IntegerField(help_text="Rows written so far: one per object visited.")
    error = serializers.CharField(help_text="Why a part or the manifest was not written; blank when all was.")


class ReportPartSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    key = serializers.CharField()
    rows = serializers.IntegerField()
    bytes = serializers.IntegerField(required=False, help_text="Absent when the upload failed.")
    sha256 = serializers.CharField(required=False, help_text="Of the part as stored (gzip).")
    error = serializers.CharField(required=False, help_text="Only when the part could not be written.")


class ThrottlingSerializer(serializers.Serializer):
    """selectors.Throttling: a service holding the job's connection below its cap."""

    service = serializers.ChoiceField(choices=["OSS", "KMS"])
    rate = serializers.FloatField(help_text="Requests (KMS: calls) per second allowed now; it climbs back to the cap.")
    note = serializers.CharField(source="__str__", help_text='As the job page says it: "throttled by OSS, ..."')


class JobDetailSerializer(JobSerializer):
    progress = serializers.SerializerMethodField()
    throttled = serializers.SerializerMethodField(
        help_text="While OSS or KMS throttles the job's connection (running jobs only): the service and the rate "
        "all its workers share now. Empty otherwise."
    )
    plan = serializers.SerializerMethodField(help_text="Dry runs only.")
    summary = serializers.SerializerMethodField(help_text="Scans only.")
    completion_report = serializers.SerializerMethodField(help_text="Null when the job has no report location.")

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "progress", "throttled", "plan", "summary", "completion_report"]
        read_only_fields = fields

    @extend_schema_field(CompletionReportSerializer(allow_null=True))
    def get_completion_report(self, job):
        found = selectors.completion_report(job)
        return CompletionReportSerializer(found).data if found else None

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, job):
        return ProgressSerializer(selectors.progress(job)).data

    @extend_schema_field(ThrottlingSerializer(many=True))
    def get_throttled(self, job):
        return ThrottlingSerializer(selectors.throttling(job), many=True).data

    @extend_schema_field(PlanSerializer(allow_null=True))
    def get_plan(self, job):
        return PlanSerializer(selectors.plan(job)).data if job.dry_run else None

    @extend_schema_field(ScanSummarySerializer(allow_null=True))
    def get_summary(self, job):
        return ScanSummarySerializer(selectors.summarise_scan(job)).data if job.kind == Job.SCAN else None


class OutcomeSerializer(serializers.ModelSerializer):
    """An object the job kept a record of: failed, skipped, or (scans) not matching the target."""

    encryption_before = serializers.CharField(source="state", help_text="The encryption the object had.")

    class Meta:
        model = ObjectOutcome
        fields = ["id", "key", "size", "outcome", "encryption_before", "reason", "code", "request_id", "at"]
        read_only_fields = fields
