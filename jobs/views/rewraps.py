"""The rewrap page: move a folder's client-side encrypted objects from one master key to another in one job."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render

from buckets.models import Connection
from console.exceptions import ServiceError
from encryption.models import MasterKey
from jobs import services
from jobs.forms import SpecForm
from jobs.models import Job

ADD_JOB = "jobs.add_job"


class RewrapForm(forms.Form):
    connection = forms.ModelChoiceField(queryset=Connection.objects.all(), empty_label=None)
    bucket = forms.CharField(max_length=63)
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
    form = RewrapForm(request.POST or None, initial={k: v for k, v in request.GET.items() if k in ("bucket",)})
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
            messages.success(request, f"Rewrap job #{job.pk} started.")
            return redirect("jobs:job_detail", job.pk)
    return render(request, "jobs/rewrap_form.html", {"form": form})
