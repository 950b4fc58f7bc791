"""Forms of the job, scan and schedule pages: the shape of the input only. Every rule (sizes, selections,
targets, limits, timings) is the services', so a page, the API and a schedule refuse the same things alike."""

import django_filters
from django import forms

from buckets.models import Bucket, Connection
from encryption import sse
from encryption.models import MasterKey
from jobs import services
from jobs.models import Job, JobSpec

ALGORITHM_CHOICES = [("", "—"), *sse.ALGORITHM_CHOICES]
SPEC_QUERY_FIELDS = (
    "connection",
    "bucket",
    "select",
    "select_key_id",
    "select_algorithm",
    "min_size",
    "max_size",
    "target_mode",
)
TARGET_QUERY_FIELDS = {"target_method": "method", "target_algorithm": "algorithm", "target_key_id": "key_id"}


class JobFilterSet(django_filters.FilterSet):
    """The filters of the jobs page (the bucket by its exact name, so a bucket page can link to its jobs)."""

    state = django_filters.ChoiceFilter(choices=Job.STATES, empty_label="Any state")
    kind = django_filters.ChoiceFilter(choices=Job.KINDS, empty_label="Any kind")
    connection = django_filters.ModelChoiceFilter(queryset=Connection.objects.all(), empty_label="All connections")
    bucket = django_filters.CharFilter(
        label="Bucket", widget=forms.TextInput(attrs={"list": "job-buckets", "autocomplete": "off"})
    )

    class Meta:
        model = Job
        fields = ["state", "kind", "connection", "bucket"]

    @staticmethod
    def bucket_names() -> list[str]:
        """The buckets jobs ran on, offered as the bucket filter's suggestions."""
        return list(Job.objects.order_by("bucket").values_list("bucket", flat=True).distinct())


def _bucket_input() -> forms.TextInput:
    return forms.TextInput(attrs={"list": "known-buckets", "autocomplete": "off", "spellcheck": "false"})


class SpecForm(forms.Form):
    """Where a job works and how fast: connection, bucket, prefixes, target mode and limits (scans use only these)."""

    connection = forms.ModelChoiceField(queryset=Connection.objects.all(), empty_label=None)
    bucket = forms.CharField(max_length=63, widget=_bucket_input(), help_text="The bucket's name on the connection.")
    prefixes = forms.CharField(
        label="Prefixes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "logs/\nexports/2024/", "spellcheck": "false"}),
        help_text="One per line; empty: the whole bucket.",
    )
    target_mode = forms.ChoiceField(
        label="Target encryption",
        choices=JobSpec.TARGET_MODES,
        initial=JobSpec.TARGET_DEFAULT,
        widget=forms.RadioSelect,
    )
    concurrency = forms.IntegerField(
        min_value=1, max_value=services.MAX_CONCURRENCY, initial=8, help_text="Objects worked on at once."
    )
    requests_per_second = forms.IntegerField(
        label="OSS requests per second", min_value=0, max_value=services.MAX_RATE, initial=200, help_text="0: no cap."
    )
    kms_per_second = forms.IntegerField(
        label="KMS calls per second", min_value=0, max_value=services.MAX_RATE, initial=100, help_text="0: no cap."
    )

    kind = Job.SCAN
    limit_fields = ("concurrency", "requests_per_second", "kms_per_second")

    def spec_fields(self, target: sse.Sse | None) -> dict:
        data = self.cleaned_data
        fields = {
            "kind": self.kind,
            "prefixes": tuple(line.strip() for line in data["prefixes"].splitlines() if line.strip()),
            "target_mode": data["target_mode"],
            **{name: data[name] for name in self.limit_fields},
        }
        if data["target_mode"] == JobSpec.TARGET_EXPLICIT and target is not None:
            fields |= {"target_method": target.method, "target_algorithm": target.algorithm}
            fields["target_key_id"] = target.key_id
        if self.kind == Job.SCAN:
            fields["select"] = Job.SELECT_ALL
        return fields

    def spec(self, target: sse.Sse | None) -> services.Spec:
        """The services' Spec; `target` is the explicit encryption (ignored with the bucket default)."""
        return services.Spec(**self.spec_fields(target))

    def wants_explicit_target(self) -> bool:
        return self.data.get(self.add_prefix("target_mode")) == JobSpec.TARGET_EXPLICIT

    @staticmethod
    def initial_from_query(query) -> dict:
        """Prefill from links such as ?connection=1&bucket=logs&prefix=a/&prefix=b/ (bucket page, scan results)."""
        initial = {name: query[name] for name in SPEC_QUERY_FIELDS if query.get(name)}
        prefixes = query.getlist("prefix")
        if prefixes:
            initial["prefixes"] = "\n".join(prefixes)
        return initial

    @staticmethod
    def initial_from_spec(spec: JobSpec) -> dict:
        values = {name: getattr(spec, name) for name in (*SPEC_QUERY_FIELDS, *SpecForm.limit_fields)}
        values["connection"] = spec.connection_id
        values["prefixes"] = "\n".join(spec.prefixes)
        return {name: value for name, value in values.items() if value is not None}


class ScanForm(SpecForm):
    """A compliance scan: every object in the prefixes is compared with the target, nothing is written."""


class JobForm(SpecForm):
    """A re-encryption job: which objects (selection and size range), what they become, how fast."""

    select = forms.ChoiceField(
        label="Objects",
        choices=[choice for choice in JobSpec.SELECTIONS if choice[0] != JobSpec.SELECT_ALL],
        initial=JobSpec.SELECT_NOT_MATCHING,
        widget=forms.RadioSelect,
    )
    select_key_id = forms.CharField(
        label="KMS key to select by",
        max_length=128,
        required=False,
        help_text="With 'Objects under a given KMS key': the key id the objects are encrypted under now.",
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    select_algorithm = forms.ChoiceField(
        label="Algorithm to select by",
        choices=ALGORITHM_CHOICES,
        required=False,
        help_text="With 'Objects under a given algorithm'.",
    )
    min_size = forms.IntegerField(label="Minimum size (bytes)", min_value=0, required=False)
    max_size = forms.IntegerField(label="Maximum size (bytes)", min_value=0, required=False)

    kind = Job.REENCRYPT
    field_order = [
        "connection",
        "bucket",
        "prefixes",
        "select",
        "select_key_id",
        "select_algorithm",
        "min_size",
        "max_size",
        "target_mode",
    ]

    def spec_fields(self, target: sse.Sse | None) -> dict:
        data = self.cleaned_data
        fields = super().spec_fields(target)
        fields |= {name: data[name] for name in ("select", "min_size", "max_size")}
        # Without JavaScript every field is shown: a key or algorithm left over from another selection is dropped.
        fields["select_key_id"] = data["select_key_id"].strip() if data["select"] == JobSpec.SELECT_KEY else ""
        fields["select_algorithm"] = data["select_algorithm"] if data["select"] == JobSpec.SELECT_ALGORITHM else ""
        return fields


class ScheduleForm(JobForm):
    """A schedule: a job spec (re-encryption or scan) with a name and a crontab or an interval."""

    name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"placeholder": "Nightly: encrypt new objects under logs/"})
    )
    schedule_kind = forms.ChoiceField(
        label="Each run", choices=JobSpec.KINDS[::-1], initial=Job.REENCRYPT, widget=forms.RadioSelect
    )
    crontab = forms.CharField(
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "0 2 * * *", "spellcheck": "false"}),
        help_text="minute hour day-of-month month day-of-week, e.g. 0 2 * * * for every night at 02:00.",
    )
    interval_minutes = forms.IntegerField(
        label="Or every … minutes", min_value=1, required=False, help_text="Give a crontab or an interval, not both."
    )
    enabled = forms.BooleanField(required=False, initial=True, help_text="A disabled schedule does not run.")

    rewrap_from = forms.ModelChoiceField(
        label="Rotation: from master key",
        queryset=MasterKey.objects.order_by("name"),
        required=False,
        help_text="Only for a client-side master key rotation.",
    )
    rewrap_to = forms.ModelChoiceField(
        label="Rotation: to master key", queryset=MasterKey.objects.order_by("name"), required=False
    )

    field_order = ["name", "schedule_kind", "rewrap_from", "rewrap_to", *JobForm.field_order]

    def spec_fields(self, target: sse.Sse | None) -> dict:
        self.kind = self.cleaned_data["schedule_kind"]
        if self.kind == Job.REWRAP:
            # A rotation keeps each object's server-side encryption: no selection and no target apply.
            data = self.cleaned_data
            return {
                "kind": Job.REWRAP,
                "prefixes": tuple(line.strip() for line in data["prefixes"].splitlines() if line.strip()),
                "rewrap_from_id": data["rewrap_from"].pk if data["rewrap_from"] else None,
                "rewrap_to_id": data["rewrap_to"].pk if data["rewrap_to"] else None,
                **{name: data[name] for name in self.limit_fields},
            }
        fields = super().spec_fields(target)
        if self.kind == Job.SCAN:
            fields |= {"select": Job.SELECT_ALL, "select_key_id": "", "select_algorithm": ""}
        return fields

    def timing(self) -> dict:
        data = self.cleaned_data
        return {
            "crontab": data["crontab"],
            "interval_minutes": data["interval_minutes"],
            "enabled": data["enabled"],
            "name": data["name"],
        }

    @staticmethod
    def initial_from_schedule(schedule) -> dict:
        initial = SpecForm.initial_from_spec(schedule)
        initial |= {"select": schedule.select, "min_size": schedule.min_size, "max_size": schedule.max_size}
        initial |= {"name": schedule.name, "schedule_kind": schedule.kind, "crontab": schedule.crontab}
        initial |= {"interval_minutes": schedule.interval_minutes, "enabled": schedule.enabled}
        initial |= {"rewrap_from": schedule.rewrap_from_id, "rewrap_to": schedule.rewrap_to_id}
        if schedule.kind == Job.SCAN:
            initial["select"] = Job.SELECT_NOT_MATCHING
        return initial


def target_initial(spec: JobSpec | None = None, query=None, bucket: Bucket | None = None) -> dict:
    """The explicit-target fields' start: the spec's or the link's choice, else the bucket's default, else SSE-OSS."""
    if spec is not None and spec.target_mode == JobSpec.TARGET_EXPLICIT:
        return {"method": spec.target_method, "algorithm": spec.target_algorithm, "key_id": spec.target_key_id}
    if query is not None and query.get("target_method"):
        return {form_name: query.get(name, "") for name, form_name in TARGET_QUERY_FIELDS.items()}
    if bucket is not None and bucket.sse_method != sse.NONE:
        return {"method": bucket.sse_method, "algorithm": bucket.sse_algorithm, "key_id": bucket.sse_key_id}
    return {"method": sse.OSS, "algorithm": sse.AES256, "key_id": ""}
