"""The rewrap form: a folder's client-side encrypted objects, the master key they are under and the one they move
to, and the limits every job form has."""

from django import forms

from buckets.models import Connection
from console import input_limits
from encryption.models import MasterKey
from jobs.forms.jobs import ConnectionBucketMixin, JobForm, SpecForm, prefix_lines
from jobs.models import Job
from jobs.services import jobs as services


class RewrapForm(ConnectionBucketMixin, forms.Form):
    connection = SpecForm.base_fields["connection"]
    bucket = SpecForm.base_fields["bucket"]
    prefixes = forms.CharField(
        max_length=input_limits.PREFIX_LINES,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "contracts/\nhr/2024/", "spellcheck": "false"}),
        help_text="One per line; empty: the whole bucket.",
    )
    rewrap_from = forms.ModelChoiceField(
        label="From master key", queryset=MasterKey.objects.order_by("name"), help_text="The key objects are under now."
    )
    rewrap_to = forms.ModelChoiceField(
        label="To master key", queryset=MasterKey.objects.order_by("name"), help_text="The key they move to."
    )
    # The limits as every job form has them.
    concurrency = SpecForm.base_fields["concurrency"]
    requests_per_second = SpecForm.base_fields["requests_per_second"]
    kms_per_second = SpecForm.base_fields["kms_per_second"]
    check_after_copy = JobForm.base_fields["check_after_copy"]
    clean_check_after_copy = JobForm.clean_check_after_copy

    def __init__(self, *args, connection: Connection | None = None, buckets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._offer_buckets(connection, buckets)
        self.fields["connection"].help_text = "Changing it lists that connection's buckets; what you entered is kept."

    def clean(self):
        cleaned = super().clean()
        self._check_connection(cleaned)
        return cleaned

    def spec(self) -> services.Spec:
        data = self.cleaned_data
        return services.Spec(
            kind=Job.REWRAP,
            prefixes=prefix_lines(data["prefixes"]),
            rewrap_from_id=data["rewrap_from"].pk,
            rewrap_to_id=data["rewrap_to"].pk,
            concurrency=data["concurrency"],
            requests_per_second=data["requests_per_second"],
            kms_per_second=data["kms_per_second"],
            check_after_copy=data["check_after_copy"],
        )
