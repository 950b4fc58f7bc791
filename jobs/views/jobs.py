"""Re-encryption job pages: the list, the form (dry run or start), the detail with live progress and plan,
pause/resume/cancel/retry, the CSV report. Every change goes through jobs.services, which records the audit event."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cloud.errors import ServiceError
from console import input_limits
from console.csv_export import csv_download
from console.form_reload import without_csrf_token
from console.permissions import permission_required
from jobs import selectors
from jobs.filtersets import JobFilterSet
from jobs.forms.jobs import JobForm, ScanForm
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services
from jobs.views.common import (
    VIEW_JOB,
    SpecForms,
    actions,
    get_job_or_404,
    live_numbers,
    outcome_choices,
    outcome_page,
    pick_connection,
    report_context,
)
from jobs.views.scans import scan_detail

ADD_JOB, CHANGE_JOB = "jobs.add_job", "jobs.change_job"
JOBS_PER_PAGE = 25


@permission_required(VIEW_JOB)
def job_list(request):
    filters = JobFilterSet(request.GET or None, queryset=selectors.jobs_listed())
    page = Paginator(filters.qs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "job": job,
            "progress": selectors.progress(job, reload=False),
            "scan": (
                selectors.summarise_scan(job, reload=False, outdated_by=(), name_keys=False)
                if job.kind == Job.SCAN
                else None
            ),
        }
        for job in page.object_list
    ]
    return render(request, "jobs/job_list.html", {"filters": filters, "page": page, "rows": rows})


def _spec_page(request, form_class, template: str):
    if cleaned := without_csrf_token(request):
        return cleaned
    connection = pick_connection(request.POST if request.method == "POST" else request.GET)
    if connection is None:
        return render(request, template, {"forms": None})
    forms = SpecForms(form_class, request, connection)
    if request.method == "POST" and forms.is_valid():
        dry_run = form_class.kind == Job.REENCRYPT and request.POST.get("run") == "dry-run"
        try:
            job = services.create_job(
                actor=request.user,
                connection=forms.form.cleaned_data["connection"],
                bucket=forms.form.cleaned_data["bucket"].strip(),
                spec=forms.spec(),
                dry_run=dry_run,
                purge_confirmation=forms.form.cleaned_data.get("purge_confirmation", ""),
            )
        except ServiceError as error:
            forms.add_error(error.message)
        else:
            messages.success(request, f"{_name(job)} started on {job.bucket}: {job.resolved_label}.")
            return redirect("jobs:job_detail", job.pk)
    context = {
        "forms": forms,
        "form": forms.form,
        "sse_form": forms.target,
    }
    return render(request, template, context)


def _name(job: Job) -> str:
    if job.kind == Job.SCAN:
        return f"Scan #{job.pk}"
    return f"Dry run #{job.pk}" if job.dry_run else f"Job #{job.pk}"


@permission_required(ADD_JOB)
def job_new(request):
    return _spec_page(request, JobForm, "jobs/job_form.html")


@permission_required(ADD_JOB)
def scan_new(request):
    return _spec_page(request, ScanForm, "jobs/scan_form.html")


@permission_required(VIEW_JOB)
def job_detail(request, pk: int):
    job = get_job_or_404(pk)
    if job.kind == Job.SCAN:
        return scan_detail(request, job)
    progress = selectors.progress(job)
    shown = request.GET.get("outcome", "")
    kinds = (shown,) if shown in ObjectOutcome.KEPT else ObjectOutcome.KEPT
    context = {
        "job": job,
        "live": live_numbers(job, progress),
        "plan": selectors.plan(job) if job.dry_run else None,
        "outcomes": outcome_page(request, job, kinds),
        "outcome_choices": outcome_choices(),
        "shown_outcome": shown if shown in ObjectOutcome.KEPT else "",
        "retries": selectors.follow_ups(job),
        **report_context(job, progress),
        **actions(job, progress),
    }
    return render(request, "jobs/job_detail.html", context)


@never_cache
@require_GET
@permission_required(VIEW_JOB)
def job_progress(request, pk: int):
    job = get_job_or_404(pk)
    return JsonResponse(live_numbers(job, selectors.progress(job)))


def _steer(request, pk: int, change, done: str, note: str = ""):
    """A state change, told as what changed: "Job #3 paused: Running → Paused." plus what it means."""
    job = get_job_or_404(pk)
    before = job.get_state_display()
    try:
        changed = change(job, request.user)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{_name(job)} {done}: {before} → {changed.get_state_display()}.{note}")
    return redirect("jobs:job_detail", job.pk)


@require_POST
@permission_required(CHANGE_JOB)
def job_pause(request, pk: int):
    return _steer(request, pk, services.pause_job, "paused", " Workers stop after the object they are on.")


@require_POST
@permission_required(CHANGE_JOB)
def job_resume(request, pk: int):
    return _steer(request, pk, services.resume_job, "resumed")


@require_POST
@permission_required(CHANGE_JOB)
def job_cancel(request, pk: int):
    return _steer(request, pk, services.cancel_job, "cancelled", " Objects already done stay done.")


@require_POST
@permission_required(CHANGE_JOB)
def job_retry(request, pk: int):
    job = get_job_or_404(pk)
    try:
        follow_up = services.retry_failed(job, request.user, from_report=request.POST.get("source") == "report")
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("jobs:job_detail", job.pk)
    messages.success(request, f"{_name(follow_up)} retries the {follow_up.total_objects} failed objects of #{job.pk}.")
    return redirect("jobs:job_detail", follow_up.pk)


@require_POST
@permission_required(ADD_JOB)
def job_run(request, pk: int):
    """A dry run's 'Run it for real': the same spec, on the bucket as it is now, without dry run."""
    planned = get_job_or_404(pk)
    if not planned.dry_run:
        messages.error(request, f"{_name(planned)} is not a dry run.")
        return redirect("jobs:job_detail", planned.pk)
    try:
        job = services.create_job(
            actor=request.user,
            connection=planned.connection,
            bucket=planned.bucket,
            spec=services.Spec.of(planned),
            purge_confirmation=request.POST.get("purge_confirmation", "")[: input_limits.BUCKET],
        )
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("jobs:job_detail", planned.pk)
    messages.success(request, f"{_name(job)} started from dry run #{planned.pk}: {job.resolved_label}.")
    return redirect("jobs:job_detail", job.pk)


@require_GET
@permission_required(VIEW_JOB)
def job_report(request, pk: int):
    job = get_job_or_404(pk)
    return csv_download(selectors.report_rows(job), selectors.report_filename(job))


@require_GET
@permission_required(VIEW_JOB)
def job_completion_report(request, pk: int):
    """The per-object completion report, streamed from the cloud part by part as one gzip file."""
    job = get_job_or_404(pk)
    if not job.report_bucket:
        messages.error(request, f"{_name(job)} was given no report location: it wrote no completion report.")
        return redirect("jobs:job_detail", job.pk)
    response = StreamingHttpResponse(selectors.completion_report_download(job), content_type="application/gzip")
    response["Content-Disposition"] = content_disposition_header(True, selectors.completion_report_filename(job))
    return response
