"""The status page of a background client-side encrypted upload, and the small JSON it polls."""

from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode

from console.permissions import permission_required
from encryption.models import CseTransfer


def _transfer_of(request, pk) -> CseTransfer:
    """One of the user's own transfers (an administrator sees all of them)."""
    transfer = get_object_or_404(CseTransfer.objects.select_related("bucket", "master_key"), pk=pk)
    if not request.user.is_superuser and transfer.created_by_id != request.user.pk:
        raise Http404("No such upload.")
    return transfer


def status_of(transfer: CseTransfer) -> dict:
    object_url = ""
    if transfer.state == CseTransfer.DONE and transfer.bucket_id:
        object_url = f"{reverse('buckets:object_detail', args=[transfer.bucket_id])}?{urlencode({'key': transfer.key})}"
    return {
        "state": transfer.state,
        "state_label": transfer.get_state_display(),
        "finished": transfer.finished,
        "size": transfer.size,
        "bytes_done": transfer.bytes_done,
        "percent": round(transfer.percent, 1),
        "error": transfer.error,
        "object_url": object_url,
    }


@permission_required("buckets.upload_object")
def cse_transfer(request, pk):
    transfer = _transfer_of(request, pk)
    return render(request, "encryption/cse_transfer.html", {"transfer": transfer, "status": status_of(transfer)})


@permission_required("buckets.upload_object")
def cse_transfer_status(request, pk):
    response = JsonResponse(status_of(_transfer_of(request, pk)))
    response["Cache-Control"] = "no-store"
    return response
