"""Schedule pages: the list with next and last runs, the form (a job spec plus name and timing), deletion."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cloud.errors import NotFound, ServiceError
from console.form_reload import is_reload, without_csrf_token
from console.permissions import permission_required
from jobs import selectors
from jobs.forms.schedules import ScheduleForm
from jobs.models import Schedule, ScheduleRun
from jobs.services import schedules
from jobs.templatetags.jobs_extras import describe_spec, targets_label, timing_label
from jobs.views.common import SpecForms, pick_connection

SCHEDULES_PER_PAGE = 50
RUNS_SHOWN = 3


def _schedule_or_404(pk: int) -> Schedule:
    try:
        return selectors.get_schedule(pk)
    except NotFound as missing:
        raise Http404(missing.message) from None


@permission_required("jobs.view_schedule")
def schedule_list(request):
    page = Paginator(selectors.schedules_listed(RUNS_SHOWN), SCHEDULES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"schedule": schedule, "next_run": selectors.next_run(schedule)} for schedule in page.object_list]
    return render(request, "jobs/schedule_list.html", {"page": page, "rows": rows})


def _facts(schedule: Schedule) -> dict[str, str]:
    """What a person reads of a schedule, to tell what a save changed."""
    return {
        "name": schedule.name,
        "buckets": f"{targets_label(schedule)} on {schedule.connection.name}",
        "what it does": describe_spec(schedule),
        "timing": _in_a_sentence(timing_label(schedule)),
        "state": "enabled" if schedule.enabled else "disabled",
    }


def _in_a_sentence(label: str) -> str:
    """'Every Monday at 02:00 UTC' inside a sentence."""
    return label[:1].lower() + label[1:]


def _saved_message(before: dict[str, str] | None, saved: Schedule) -> str:
    after = _facts(saved)
    if before is None:
        return f"Schedule {saved.name} created: {after['what it does']}, {after['timing']}, {after['state']}."
    changes = [f"{label}: {was} → {after[label]}" for label, was in before.items() if was != after[label]]
    return f"Schedule {saved.name} saved: {'; '.join(changes) if changes else 'nothing changed'}."


def _schedule_form(request, schedule: Schedule | None):
    if cleaned := without_csrf_token(request):
        return cleaned
    if request.method == "POST":
        connection = pick_connection(request.POST)
    elif schedule and not is_reload(request.GET):
        connection = schedule.connection
    else:
        connection = pick_connection(request.GET)
    if connection is None:
        return render(request, "jobs/schedule_form.html", {"forms": None, "schedule": schedule})
    forms = SpecForms(ScheduleForm, request, connection, spec=schedule)
    if request.method == "POST" and forms.is_valid():
        data = forms.form.cleaned_data
        before = _facts(schedule) if schedule else None
        try:
            saved = schedules.save_schedule(
                actor=request.user,
                connection=data["connection"],
                bucket=data["bucket"].strip(),
                spec=forms.spec(),
                schedule=schedule,
                **forms.form.timing(),
            )
        except ServiceError as error:
            forms.add_error(error.message)
        else:
            messages.success(request, _saved_message(before, saved))
            return redirect("jobs:schedule_list")
    context = {
        "forms": forms,
        "form": forms.form,
        "sse_form": forms.target,
        "schedule": schedule,
        "recent_runs": schedule.runs.select_related("job", "sweep")[:RUNS_SHOWN] if schedule else [],
    }
    return render(request, "jobs/schedule_form.html", context)


@permission_required("jobs.add_schedule")
def schedule_new(request):
    return _schedule_form(request, None)


@permission_required("jobs.change_schedule")
def schedule_edit(request, pk: int):
    return _schedule_form(request, _schedule_or_404(pk))


@permission_required("jobs.delete_schedule")
def schedule_delete(request, pk: int):
    schedule = _schedule_or_404(pk)
    if request.method == "POST":
        try:
            schedules.delete_schedule(schedule, request.user)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Schedule {schedule.name} deleted; the jobs it started are kept.")
        return redirect("jobs:schedule_list")
    return render(request, "jobs/schedule_confirm_delete.html", {"schedule": schedule})


@require_POST
@permission_required("jobs.add_job")
def schedule_run_now(request, pk: int):
    """Fire the schedule at once, through the very function beat calls; the run is recorded like beat's."""
    schedule = _schedule_or_404(pk)
    run = schedules.run_schedule(schedule.pk, actor=request.user)
    if run.outcome == ScheduleRun.STARTED and run.sweep_id:
        messages.success(request, f"Schedule {schedule.name} ran now: sweep #{run.sweep_id} started.")
        return redirect("jobs:sweep_detail", run.sweep_id)
    if run.outcome == ScheduleRun.STARTED:
        messages.success(request, f"Schedule {schedule.name} ran now: job #{run.job_id} started.")
        return redirect("jobs:job_detail", run.job_id)
    messages.error(request, f"Schedule {schedule.name} did not start a job: {run.reason}.")
    return redirect("jobs:schedule_edit", schedule.pk)
