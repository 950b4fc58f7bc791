"""The rewrap page: move a folder's client-side encrypted objects from one master key to another in one job."""

from django.contrib import messages
from django.shortcuts import redirect, render

from cloud.errors import ServiceError
from console.form_reload import without_csrf_token
from console.permissions import permission_required
from jobs.forms.jobs import initial_from_query
from jobs.forms.rewraps import RewrapForm
from jobs.services import jobs as services
from jobs.views.common import connection_buckets, pick_connection

ADD_JOB = "jobs.add_job"


@permission_required(ADD_JOB)
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
