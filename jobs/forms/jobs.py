"""Forms of the job and scan pages, and the parts the schedule and rewrap forms share with them: the shape of
the input only. Every rule (sizes, selections, targets, limits, timings) is the services', so a page, the API
and a schedule refuse the same things alike.

The bucket and the KMS key to select by are chosen from what the console knows of the posted connection (its
buckets, the keys of the bucket's region): the view lists them and the form refuses anything else, so a form
never works on a bucket or key of another connection than the one it shows."""

from django import forms

from buckets.models import Bucket, Connection
from cloud import sse
from console import input_limits
from console.form_reload import is_reload
from jobs.models import Job, JobSpec
from jobs.services import jobs as services

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


def prefix_lines(text: str) -> tuple[str, ...]:
    """The prefixes textarea as lines; services.normalise_prefixes trims, drops and checks them for every door."""
    return tuple(text.splitlines())


def bucket_label(bucket: Bucket) -> str:
    return f"{bucket.name} ({bucket.region or 'region unknown'}, default: {bucket.sse_label or 'None'})"


def quoted(text: str) -> str:
    """`text` for an error message Django %-formats."""
    return text.replace("%", "%%")


class BucketSelect(forms.Select):
    """The connection's buckets; each option carries its region, so the page can reload the region's keys."""

    def __init__(self, *args, regions: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.regions = regions or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value in self.regions:
            option["attrs"]["data-region"] = self.regions[value]
        return option


class ConnectionBucketMixin:
    """A connection select and a select of that connection's buckets (by name), refusing a bucket of another one.

    `connection` is the connection the buckets were listed for (the posted one); `buckets` its Bucket rows.
    """

    def _offer_buckets(self, connection: Connection | None, buckets) -> None:
        self.connection = connection
        buckets = list(buckets)
        field = self.fields["bucket"]
        field.choices = [("", "Choose a bucket"), *((bucket.name, bucket_label(bucket)) for bucket in buckets)]
        field.widget.regions = {bucket.name: bucket.region for bucket in buckets}
        name = quoted(connection.name if connection else "this connection")
        field.error_messages["invalid_choice"] = (
            f"Connection {name} has no bucket '%(value)s' (as the console last listed its buckets): "
            "choose one of its buckets."
        )

    def _check_connection(self, cleaned: dict) -> None:
        chosen = cleaned.get("connection")
        if self.connection is not None and chosen is not None and chosen.pk != self.connection.pk:
            self.add_error(
                "connection",
                f"The buckets offered were those of {self.connection.name}, not {chosen.name}: choose a bucket again.",
            )


class SpecForm(ConnectionBucketMixin, forms.Form):
    """Where a job works and how fast: connection, bucket, prefixes, target mode and limits (scans use only these)."""

    connection = forms.ModelChoiceField(
        queryset=Connection.objects.all(),
        empty_label=None,
        help_text="Changing it lists that connection's buckets and keys; what you entered is kept.",
    )
    bucket = forms.ChoiceField(
        widget=BucketSelect,
        help_text="The connection's buckets as the console last listed them, with their region and default encryption.",
    )
    prefixes = forms.CharField(
        max_length=input_limits.PREFIX_LINES,
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
    report_bucket = forms.ChoiceField(
        label="Report bucket",
        required=False,
        help_text="Where a CSV row per object goes (gzip, page by page), in a bucket of the same connection, "
        "written with that bucket's default encryption. None: only the counts and the failures are kept.",
    )
    report_prefix = forms.CharField(
        label="Report prefix",
        max_length=input_limits.OBJECT_KEY,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "reports/encryption", "spellcheck": "false"}),
        help_text="The report goes under <prefix>/job-<id>/, never among the objects the job works on.",
    )

    kind = Job.SCAN
    limit_fields = ("concurrency", "requests_per_second", "kms_per_second")
    report_fields = ("report_bucket", "report_prefix")

    def __init__(self, *args, connection: Connection | None = None, buckets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._offer_buckets(connection, buckets)
        report_bucket = self.fields["report_bucket"]
        report_bucket.choices = [("", "No report"), *self.fields["bucket"].choices[1:]]
        report_bucket.error_messages["invalid_choice"] = (
            f"Connection {quoted(connection.name if connection else 'this connection')} has no bucket '%(value)s' "
            "to write the report to (as the console last listed its buckets): choose one of its buckets."
        )

    def clean(self):
        cleaned = super().clean()
        self._check_connection(cleaned)
        return cleaned

    def spec_fields(self, target: sse.Sse | None) -> dict:
        data = self.cleaned_data
        fields = {
            "kind": self.kind,
            "prefixes": prefix_lines(data["prefixes"]),
            "target_mode": data["target_mode"],
            **{name: data[name] for name in self.limit_fields},
            **{name: data[name] for name in self.report_fields},
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

    @classmethod
    def initial_from_query(cls, query) -> dict:
        """Prefill from links such as ?connection=1&bucket=logs&prefix=a/&prefix=b/ (bucket page, scan results),
        or from the whole form sent back by "Use this connection" (see is_reload)."""
        return initial_from_query(cls, query)

    @staticmethod
    def initial_from_spec(spec: JobSpec) -> dict:
        names = (*SPEC_QUERY_FIELDS, *SpecForm.limit_fields, *SpecForm.report_fields, "verify", "check_after_copy")
        values = {name: getattr(spec, name) for name in names}
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
        max_length=input_limits.KMS_KEY,
        label="CMK to select by",
        required=False,
        help_text=(
            "With 'Objects under a given KMS key': the key the objects are encrypted under now. Every key of the "
            "bucket's region is listed, disabled ones too: objects may still be under them."
        ),
        widget=forms.Select,
    )
    select_algorithm = forms.ChoiceField(
        label="Algorithm to select by",
        choices=ALGORITHM_CHOICES,
        required=False,
        help_text="With 'Objects under a given algorithm'.",
    )
    min_size = forms.IntegerField(label="Minimum size (bytes)", min_value=0, required=False)
    max_size = forms.IntegerField(label="Maximum size (bytes)", min_value=0, required=False)
    verify = forms.BooleanField(
        label="Verify when it ends: scan the objects it worked on",
        required=False,
        initial=True,
        help_text="Scans exactly the objects this job worked on; that scan becomes the bucket's compliance record.",
    )
    check_after_copy = forms.ChoiceField(
        label="Check after each copy",
        choices=JobSpec.CHECKS_AFTER_COPY,
        initial=JobSpec.CHECK_RESPONSE,
        required=False,  # a form posted without it (a script's, an older page's) gets the default
        widget=forms.RadioSelect,
        help_text="Either way an object the copy did not write as targeted is a failure with its reason.",
    )

    purge_history = forms.BooleanField(
        label="Then delete its older versions that are not as targeted",
        required=False,
        help_text="Versioned buckets: once an object's current version is as targeted, its older versions that are "
        "not are deleted, each by its version id. A dry run counts them. This cannot be undone.",
    )
    purge_confirmation = forms.CharField(
        label="To delete older versions, type the bucket's name",
        max_length=63,
        required=False,
        help_text="Not needed for a dry run.",
    )

    def clean_check_after_copy(self) -> str:
        return self.cleaned_data["check_after_copy"] or JobSpec.CHECK_RESPONSE

    kind = Job.REENCRYPT

    def __init__(self, *args, select_keys=None, keys_region: str = "", **kwargs):
        """`select_keys`: encryption.catalog.KeyChoices of the keys objects may be under in `keys_region`."""
        super().__init__(*args, **kwargs)
        choices = select_keys.choices if select_keys else []
        self.select_keys_error = select_keys.error if select_keys else ""
        self.keys_region = keys_region
        self.fields["select_key_id"].widget.choices = [("", "—"), *choices]
        self.select_key_ids = {key_id for key_id, _ in choices}

    def selects_by_key(self, cleaned: dict) -> bool:
        return cleaned.get("select") == JobSpec.SELECT_KEY

    def clean(self):
        cleaned = super().clean()
        key_id = (cleaned.get("select_key_id") or "").strip()
        if self.selects_by_key(cleaned) and key_id and key_id not in self.select_key_ids:
            where = f" in {self.keys_region}" if self.keys_region else ""
            owner = self.connection.name if self.connection else "this connection"
            self.add_error(
                "select_key_id", f"'{key_id}' is not a CMK of connection {owner}{where}: choose one of its keys."
            )
        return cleaned

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
        fields |= {name: data[name] for name in ("select", "min_size", "max_size", "verify", "check_after_copy")}
        fields["purge_history"] = data.get("purge_history", False)
        # Without JavaScript every field is shown: a key or algorithm left over from another selection is dropped.
        fields["select_key_id"] = data["select_key_id"].strip() if data["select"] == JobSpec.SELECT_KEY else ""
        fields["select_algorithm"] = data["select_algorithm"] if data["select"] == JobSpec.SELECT_ALGORITHM else ""
        return fields


def initial_from_query(form_class: type[forms.Form], query) -> dict:
    """A form's start from a query: each of its fields given there; prefixes as repeated `prefix` (links) or as
    the textarea's text. A checkbox is read only from a form sent back whole (unchecked boxes are not sent)."""
    initial = {}
    for name, field in form_class.base_fields.items():
        if isinstance(field, forms.BooleanField):
            if is_reload(query):
                initial[name] = bool(query.get(name))
        elif query.get(name):
            initial[name] = query[name]
    prefixes = query.getlist("prefix")
    if prefixes:
        initial["prefixes"] = "\n".join(prefixes)
    return initial


def target_initial(spec: JobSpec | None = None, query=None, bucket: Bucket | None = None) -> dict:
    """The explicit-target fields' start: the spec's or the link's choice, else the bucket's default, else SSE-OSS."""
    if spec is not None and spec.target_mode == JobSpec.TARGET_EXPLICIT:
        return {"method": spec.target_method, "algorithm": spec.target_algorithm, "key_id": spec.target_key_id}
    if query is not None and query.get("target_method"):
        return {form_name: query.get(name, "") for name, form_name in TARGET_QUERY_FIELDS.items()}
    if query is not None and query.get("target-method"):  # the form sent back whole
        return {name: query.get(f"target-{name}", "") for name in TARGET_QUERY_FIELDS.values()}
    if bucket is not None and bucket.sse_method != sse.NONE:
        return {"method": bucket.sse_method, "algorithm": bucket.sse_algorithm, "key_id": bucket.sse_key_id}
    return {"method": sse.OSS, "algorithm": sse.AES256, "key_id": ""}
