"""The rewrap page: move a folder's client-side encrypted objects from one master key to another in one job."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render

from buckets.models import Connection
from cloud.errors import ServiceError
from console.form_reload import without_csrf_token
from encryption.models import MasterKey
from jobs.forms import ConnectionBucketMixin, SpecForm, initial_from_query
from jobs.models import Job
from jobs.services import jobs as services
from jobs.views.common import connection_buckets, pick_connection

ADD_JOB = "jobs.add_job"


class RewrapForm(ConnectionBucketMixin, forms.Form):
    connection = SpecForm.base_fields["connection"]
    bucket = SpecForm.base_fields["bucket"]
    prefixes = forms.CharField(
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
            prefixes=tuple(line.strip() for line in data["prefixes"].splitlines() if line.strip()),
            rewrap_from_id=data["rewrap_from"].pk,
            rewrap_to_id=data["rewrap_to"].pk,
            concurrency=data["concurrency"],
            requests_per_second=data["requests_per_second"],
            kms_per_second=data["kms_per_second"],
        )


@permission_required(ADD_JOB, raise_exception=True)
def rewrap_new(request):
    if cleaned := without_csrf_token(request):
        return cleaned
    connection = pick_connection(request.POST if request.method == "POST" else request.GET)
    if connection is None:
        return render(request, "jobs/rewrap_form.html", {"form": None})
    known = connection_buckets(connection)
    choices = {"connection": connection, "buckets": known.buckets}
    if request.method == "POST":
        form = RewrapForm(request.POST, **choices)
    else:
        initial = initial_from_query(RewrapForm, request.GET) | {"connection": connection.pk}
        form = RewrapForm(initial=initial, **choices)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.create_job(
                actor=request.user,
                connection=form.cleaned_data["connection"],
                bucket=form.cleaned_data["bucket"].strip(),
                spec=form.spec(),
                dry_run=request.POST.get("run") == "dry-run",
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            name = "Dry run" if job.dry_run else "Rewrap job"
            messages.success(request, f"{name} #{job.pk} started on {job.bucket}: {job.resolved_label}.")
            return redirect("jobs:job_detail", job.pk)
    linked = "" if form.is_bound else form.initial.get("bucket", "")
    context = {"form": form, "known": known, "missing_bucket": linked if known.named(linked) is None else ""}
    return render(request, "jobs/rewrap_form.html", context)
