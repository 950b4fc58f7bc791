"""Object pages: browse a bucket, one object's detail, upload, change one object's encryption, download.

Object keys contain slashes, so every page takes the key as the `key` query parameter.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from buckets.downloads import decrypted_download, streaming_download
from buckets.forms.objects import ObjectEncryptionForm, ObjectFilterForm, ObjectUploadForm
from buckets.models import Bucket
from buckets.services import cse_transfer
from buckets.services import objects as services
from cloud.errors import ServiceError
from console.permissions import permission_required
from encryption import selectors
from encryption.forms.sse import SseForm
from encryption.models import CseTransfer
from encryption.services import master_keys


def _key_of(request) -> str:
    key = request.GET.get("key", "")
    if not key:
        raise Http404("No object key given.")
    return key


def object_url(name: str, bucket: Bucket, **query) -> str:
    return f"{reverse(name, args=[bucket.pk])}?{urlencode(query)}"


def _error_page(request, bucket: Bucket, key: str, error: ServiceError):
    context = {"bucket": bucket, "key": key, "error": error, "crumbs": services.folder_crumbs(key)}
    return render(request, "buckets/object_error.html", context, status=error.status_code)


@permission_required("buckets.view_bucket")
def object_list(request, pk):
    bucket = get_object_or_404(Bucket, pk=pk)
    prefix, token = request.GET.get("prefix", ""), request.GET.get("token", "")
    filters = ObjectFilterForm(request.GET)
    state = filters.cleaned_data["encryption"] if filters.is_valid() else ""
    context = {
        "bucket": bucket,
        "prefix": prefix,
        "token": token,
        "crumbs": services.folder_crumbs(prefix),
        "filters": filters,
        "state": state,
        "state_label": dict(services.ENCRYPTION_FILTERS).get(state, ""),
    }
    try:
        listing = services.browse_objects(bucket, prefix=prefix, token=token)
    except ServiceError as error:
        return render(request, "buckets/object_list.html", {**context, "error": error}, status=error.status_code)
    context["listed"] = len(listing.objects)
    context["listing"] = services.filter_listing(listing, state) if state else listing
    return render(request, "buckets/object_list.html", context)


@permission_required("buckets.view_bucket")
def object_detail(request, pk):
    bucket = get_object_or_404(Bucket, pk=pk)
    key = _key_of(request)
    try:
        detail = services.describe_object(bucket, key)
    except ServiceError as error:
        return _error_page(request, bucket, key, error)
    context = {"bucket": bucket, "key": key, "detail": detail}
    if detail.head.version_id:
        context["versions"], context["versions_error"] = _versions_or_error(bucket, key)
    if detail.client_side is not None:
        envelope, context["cse_master_key"] = master_keys.master_key_of(detail.head.headers)
        context["cse_matdesc"] = (envelope.matdesc if envelope else "") or "no material description"
    return render(request, "buckets/object_detail.html", context)


def _versions_or_error(bucket: Bucket, key: str) -> tuple[services.VersionHistory | None, str]:
    """The object's versions for its page, or why they could not be listed (the rest of the page still shows)."""
    try:
        return services.object_versions(bucket, key), ""
    except ServiceError as error:
        return None, str(error)


@permission_required("buckets.upload_object")
def object_upload(request, pk):
    bucket = get_object_or_404(Bucket, pk=pk)
    prefix = request.GET.get("prefix", "")
    posted = request.method == "POST"
    form = ObjectUploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        initial={"prefix": prefix},
        key_choices=selectors.key_choices(bucket.connection, bucket.region),
        default_label=_default_label(bucket),
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        options = {
            "sse": data["sse"],
            "content_type": data["content_type"],
            "metadata": data["metadata"],
            "overwrite": data["overwrite"],
        }
        try:
            upload = cse_transfer.upload(
                bucket, data["object_key"], data["file"], data["cse_master_key"], request.user, **options
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            if isinstance(upload, CseTransfer):  # the status page follows the background task
                return redirect("encryption:cse_transfer", pk=upload.pk)
            return render(request, "buckets/object_uploaded.html", {"bucket": bucket, "upload": upload})
    return render(request, "buckets/object_upload.html", {"bucket": bucket, "form": form, "prefix": prefix})


def _default_label(bucket: Bucket) -> str:
    """The bucket default as OSS states it now, else as the console last saw it."""
    try:
        return services.bucket_default(bucket).label
    except ServiceError:
        return f"{bucket.sse_label or 'unknown'}, as last seen"


@permission_required("buckets.change_object")
def object_encryption(request, pk):
    bucket = get_object_or_404(Bucket, pk=pk)
    key = _key_of(request)
    try:
        detail = services.describe_object(bucket, key)
    except ServiceError as error:
        return _error_page(request, bucket, key, error)
    initial = {**SseForm.initial_for(detail.encryption.sse), "expected_etag": detail.head.etag}
    form = ObjectEncryptionForm(
        request.POST or None, initial=initial, key_choices=selectors.key_choices(bucket.connection, bucket.region)
    )
    if request.method == "POST" and form.is_valid():
        try:
            change = services.change_object_encryption(
                bucket, key, form.cleaned_data["sse"], request.user, expected_etag=form.cleaned_data["expected_etag"]
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _changed_message(change))
            return redirect(object_url("buckets:object_detail", bucket, key=key))
    context = {"bucket": bucket, "key": key, "detail": detail, "form": form, "default": _default_or_none(bucket)}
    return render(request, "buckets/object_encryption.html", context)


def _default_or_none(bucket: Bucket):
    try:
        return services.bucket_default(bucket)
    except ServiceError:
        return None


def _changed_message(change: services.EncryptionChange) -> str:
    return (
        f"Encryption of {change.key}: {change.before.label} → {change.after.label}. Checked afterwards: "
        f"{', '.join(services.ONE_OBJECT_ASPECTS)} (request id {change.request_id})."
    )


@permission_required("buckets.view_bucket")
def object_download(request, pk):
    bucket = get_object_or_404(Bucket, pk=pk)
    key = _key_of(request)
    try:
        if request.GET.get("decrypt", "") in ("1", "true"):
            byte_range = cse_transfer.parse_range(request.GET.get("range", ""))
            download = cse_transfer.download_client_side(bucket, key, actor=request.user, byte_range=byte_range)
            return decrypted_download(download)
        download = services.open_download(bucket, key)
    except ServiceError as error:
        return _error_page(request, bucket, key, error)
    return streaming_download(download, key)
