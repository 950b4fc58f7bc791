"""Bucket pages: the list across connections, creation, detail, and the server-side-encryption form."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from buckets.filtersets import BucketFilterSet
from buckets.forms.buckets import BucketCreateForm, ExpiryConfirmForm, ExpiryDaysForm
from buckets.models import Bucket, Connection
from buckets.services import buckets as services
from buckets.services import lifecycle
from cloud import regions
from cloud.errors import ServiceError
from cloud.sse import Sse
from console.form_reload import is_reload, without_csrf_token
from console.permissions import permission_required
from encryption.forms.sse import SseForm
from encryption.selectors import key_choices

BUCKETS_PER_PAGE = 50
# The state filters leave the counts alone: the counts say what each state filter would find.
STATE_PARAMETERS = ("encryption", "method", "algorithm", "page")


def _url_if_exists(name: str, *args, query: str = "") -> str:
    """A link to a page another part of the console may not have yet: "" until its URL name exists."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{query}" if query else url


def _bucket(pk: int) -> Bucket:
    return get_object_or_404(Bucket.objects.select_related("connection"), pk=pk)


@permission_required("buckets.view_bucket")
def bucket_list(request):
    outcomes = services.refresh_stale(Connection.objects.all())
    buckets = Bucket.objects.select_related("connection")
    filters = BucketFilterSet(request.GET or None, queryset=buckets)
    without_state = {name: value for name, value in request.GET.items() if name not in STATE_PARAMETERS}
    context = {
        "filters": filters,
        "page": Paginator(filters.qs, BUCKETS_PER_PAGE).get_page(request.GET.get("page")),
        "counts": services.state_counts(BucketFilterSet(without_state, queryset=buckets).qs),
        "failed_refreshes": [outcome for outcome in outcomes if outcome.error],
    }
    return render(request, "buckets/bucket_list.html", context)


@require_POST
@permission_required("buckets.view_bucket")
def bucket_refresh(request):
    services.refresh_stale(Connection.objects.all(), force=True)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("buckets:bucket_list")
    return redirect(back)


@permission_required("buckets.add_bucket")
def bucket_create(request):
    """The connection select is part of the form: what is created is always on the connection shown and posted.

    "Use this connection" (or the page script, on change) sends the form back by GET to offer that connection's
    region and keys, keeping what was entered.
    """
    if cleaned := without_csrf_token(request):
        return cleaned
    if request.method == "POST":
        connection = get_object_or_404(Connection, pk=_digits(request.POST.get("connection")))
    else:
        connection = _connection_or_first(_digits(request.GET.get("connection")))
    if connection is None:
        return render(
            request, "buckets/bucket_create.html", {"connections_url": _url_if_exists("buckets:connection_list")}
        )
    submitted = request.POST if request.method == "POST" else None
    entered = request.GET if is_reload(request.GET) else {}
    form = BucketCreateForm(submitted, initial=_entered(entered, BucketCreateForm.base_fields))
    sse_form = SseForm(
        submitted,
        initial={"method": "none", **_entered(entered, SseForm.base_fields)},
        key_choices=key_choices(connection, connection.region),
        refused=services.refused_methods(connection.region),
    )
    if submitted is not None and form.is_valid() and sse_form.is_valid():
        try:
            created = services.create_bucket(
                connection=connection, **form.cleaned_data, encryption=sse_form.cleaned_data["sse"], actor=request.user
            )
        except ServiceError as error:
            form.add_error(
                None, f"Bucket {form.cleaned_data['name']} was not created on {connection.name}: {error.message}"
            )
        else:
            return _created(request, created)
    context = {
        "form": form,
        "sse_form": sse_form,
        "connection": connection,
        "connections": Connection.objects.all(),
    }
    return render(request, "buckets/bucket_create.html", context)


def _entered(query, fields) -> dict:
    return {name: query[name] for name in fields if query.get(name)}


def _digits(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _connection_or_first(pk: int) -> Connection | None:
    """The connection whose keys the form offers: the one picked with ?connection=, else the first."""
    connections = Connection.objects.all()
    return connections.filter(pk=pk).first() or connections.first()


def _created(request, created: services.CreatedBucket):
    if created.encryption_error:
        context = {
            "created": created,
            "requested_label": created.requested.label(),
            "encryption_url": reverse("buckets:bucket_encryption", args=[created.bucket.pk]),
        }
        return render(request, "buckets/bucket_create_report.html", context)
    name = created.bucket.name
    if created.encryption:
        encryption = f"{created.encryption.before_label} → {created.encryption.after_label}"
    else:
        encryption = "None (none was asked for)"
    connection = created.bucket.connection.name
    messages.success(request, f"Bucket {name} created on {connection}. Default encryption of {name}: {encryption}.")
    return redirect("buckets:bucket_detail", pk=created.bucket.pk)


@permission_required("buckets.view_bucket")
def bucket_detail(request, pk):
    """The bucket live from OSS with its lifecycle rules; for an Operator and a versioned bucket, ?days= shows the
    dry-run plan of the rule expiring older versions, and the form confirming it."""
    bucket = _bucket(pk)
    overview = services.bucket_overview(bucket)
    context = {
        "overview": overview,
        "bucket": bucket,
        "region_name": regions.region_name(bucket.region),
        "objects_url": _url_if_exists("buckets:object_list", bucket.pk),
        "console_rule_id": lifecycle.CONSOLE_RULE_ID,
    }
    try:
        context["lifecycle_rules"] = lifecycle.lifecycle_rules(bucket)
    except ServiceError as error:
        context["lifecycle_error"] = error.message
    if overview.versioning and request.user.has_perm("buckets.change_lifecycle"):
        context |= _expiry_card(request, bucket)
    return render(request, "buckets/bucket_detail.html", context)


def _expiry_card(request, bucket: Bucket) -> dict:
    asked = "days" in request.GET
    days_form = ExpiryDaysForm(request.GET if asked else None)
    card = {"days_form": days_form}
    if asked and days_form.is_valid():
        days = days_form.cleaned_data["days"]
        try:
            card["plan"] = lifecycle.expiry_plan(bucket, days)
        except ServiceError as error:
            card["plan_error"] = error.message
        else:
            card["confirm_form"] = ExpiryConfirmForm(initial={"days": days}, auto_id="confirm_%s")
    return card


@require_POST
@permission_required("buckets.change_lifecycle")
def bucket_expire(request, pk):
    bucket = _bucket(pk)
    form = ExpiryConfirmForm(request.POST)
    back = reverse("buckets:bucket_detail", args=[bucket.pk])
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect(f"{back}?{urlencode({'days': request.POST.get('days', '')})}")
    days = form.cleaned_data["days"]
    try:
        change = lifecycle.expire_noncurrent_versions(bucket, days, request.user, form.cleaned_data["confirmation"])
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect(f"{back}?{urlencode({'days': days})}")
    plan = change.plan
    messages.success(
        request,
        f"Rule {lifecycle.CONSOLE_RULE_ID} set on {bucket.name}: older versions are deleted {days} days after they "
        f"became noncurrent. {plan.due_versions} of {plan.noncurrent_versions} are past that already and go at "
        "OSS's next lifecycle run.",
    )
    return redirect(back)


@require_POST
@permission_required("buckets.change_lifecycle")
def bucket_expiry_remove(request, pk):
    bucket = _bucket(pk)
    try:
        lifecycle.remove_expiry(bucket, request.user)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Rule {lifecycle.CONSOLE_RULE_ID} removed from {bucket.name}: older versions are kept again."
        )
    return redirect("buckets:bucket_detail", pk=bucket.pk)


@permission_required("buckets.change_encryption")
def bucket_encryption(request, pk):
    bucket = _bucket(pk)
    refused = services.refused_methods(bucket.region)
    choices = key_choices(bucket.connection, bucket.region)
    read_error = ""
    if request.method == "POST":
        form = SseForm(request.POST, key_choices=choices, refused=refused)
        if form.is_valid():
            try:
                change = services.set_default_encryption(bucket, form.cleaned_data["sse"], request.user)
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                return _encryption_saved(request, change)
    else:
        try:
            services.read_default_encryption(bucket)
        except ServiceError as error:
            read_error = error.message
        current = Sse(bucket.sse_method, bucket.sse_algorithm, bucket.sse_key_id)
        form = SseForm(initial=SseForm.initial_for(current), key_choices=choices, refused=refused)
    context = {
        "bucket": bucket,
        "form": form,
        "read_error": read_error,
        "region_name": regions.region_name(bucket.region),
    }
    return render(request, "buckets/bucket_encryption.html", context)


def _encryption_saved(request, change: services.EncryptionChange):
    context = {
        "bucket": change.bucket,
        "change": change,
        "new_objects_only": services.NEW_OBJECTS_ONLY,
    }
    return render(request, "buckets/bucket_encryption_saved.html", context)
