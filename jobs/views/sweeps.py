"""Sweep pages: start a scan of many buckets (the Buckets list's "Scan selected" and "Scan all"), and one page
following it across its buckets with the combined result. Starting goes through jobs.services.sweeps, which
creates each bucket's scan through the job service."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from buckets.models import Bucket, Connection
from cloud.errors import NotFound, ServiceError
from console.permissions import permission_required
from jobs import selectors
from jobs.services import sweeps
from jobs.views.common import VIEW_JOB, digits

SELECTED, ALL = "selected", "all"


def _chosen_buckets(data) -> tuple[list[Bucket], str]:
    """The buckets a POST of the Buckets list asks for, and how to say which they are."""
    if data.get("sweep") == ALL:
        connection = Connection.objects.filter(pk=digits(data.get("connection"))).first()
        where = f"every bucket of {connection.name}" if connection else "every bucket of every connection"
        return sweeps.every_bucket(connection), where
    ids = [digits(value) for value in data.getlist("bucket")]
    chosen = list(Bucket.objects.filter(pk__in=ids).select_related("connection").order_by("connection__name", "name"))
    return chosen, f"{len(chosen)} selected bucket{'s' if len(chosen) != 1 else ''}"


@require_POST
@permission_required("jobs.add_job")
def sweep_start(request):
    buckets, where = _chosen_buckets(request.POST)
    if not buckets:
        messages.error(request, "No bucket was chosen: tick the buckets to scan, or use Scan all.")
        return redirect("buckets:bucket_list")
    try:
        sweep = sweeps.start_sweep(actor=request.user, buckets=buckets, description=where)
    except ServiceError as error:
        messages.error(request, f"The scan of {where} did not start: {error.message}")
        return redirect("buckets:bucket_list")
    messages.success(request, f"Sweep #{sweep.pk} started: a compliance scan of {where}.")
    return redirect("jobs:sweep_detail", sweep.pk)


@never_cache
@permission_required(VIEW_JOB)
def sweep_detail(request, pk: int):
    """The sweep's buckets and combined result; `?live=1` answers only the part the page script swaps in."""
    try:
        sweep = selectors.get_sweep(pk)
    except NotFound as missing:
        raise Http404(missing.message) from None
    context = {"sweep": sweep, "result": selectors.sweep_result(sweep)}
    if request.GET.get("live"):
        return render(request, "jobs/sweep_live.html", context)
    return render(request, "jobs/sweep_detail.html", context)
