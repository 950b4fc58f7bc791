"""Connection pages: everyone with a role sees and tests them; only Admins add, change or remove them."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from buckets.forms.connections import ConnectionEditForm, ConnectionForm, KeptSecrets
from buckets.models import Connection
from buckets.services import connections as services
from cloud.errors import ServiceError
from console.permissions import permission_required


def _connections():
    return Connection.objects.annotate(bucket_count=Count("buckets"))


@permission_required("buckets.view_connection")
def connection_list(request):
    return render(request, "buckets/connection_list.html", {"connections": _connections()})


@permission_required("buckets.view_connection")
def connection_detail(request, pk):
    connection = get_object_or_404(_connections(), pk=pk)
    return render(request, "buckets/connection_detail.html", {"connection": connection})


@require_POST
@permission_required("buckets.view_connection")
def connection_test(request, pk):
    """Runs the checks, keeps their outcome on the connection and shows it on the connection's page after a
    redirect, so that a reload shows the result again instead of testing again."""
    connection = get_object_or_404(Connection, pk=pk)
    result = services.test_connection(connection, request.user)
    outcome = "all checks passed" if result.ok else f"failed: {result.failures[0].code}"
    messages.info(request, f"Connection {connection.name} tested: {outcome}.")
    return redirect("buckets:connection_detail", pk=connection.pk)


@sensitive_post_parameters("access_key_secret", "sts_token")
@permission_required("buckets.add_connection")
def connection_create(request):
    kept = KeptSecrets(request)
    form = ConnectionForm(_submitted(request, kept))
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.create_connection(actor=request.user, **form.service_arguments())
        except ServiceError as error:
            form.add_service_error(error)
        else:
            kept.forget()
            messages.success(
                request,
                f"Connection {connection.name} added: {connection.oss_endpoint}, region {connection.region}, "
                f"AccessKey ID {connection.access_key_id}. {_test_said(connection)}",
            )
            return redirect("buckets:connection_detail", pk=connection.pk)
    return _form_again(request, form, kept)


@sensitive_post_parameters("access_key_secret", "sts_token")
@permission_required("buckets.change_connection")
def connection_edit(request, pk):
    connection = get_object_or_404(Connection, pk=pk)
    kept = KeptSecrets(request)
    form = ConnectionEditForm(_submitted(request, kept), connection=connection)
    if request.method == "POST" and form.is_valid():
        before = _shown_fields(connection)
        try:
            services.update_connection(actor=request.user, connection=connection, **form.service_arguments())
        except ServiceError as error:
            form.add_service_error(error)
        else:
            kept.forget()
            changes = _changes(before, _shown_fields(connection), form.cleaned_data)
            messages.success(
                request,
                f"Connection {connection.name} saved: {'; '.join(changes) or 'nothing changed'}. "
                f"{_test_said(connection)}",
            )
            return redirect("buckets:connection_detail", pk=connection.pk)
    return _form_again(request, form, kept, connection)


def _submitted(request, kept: KeptSecrets):
    """The POST with the secrets kept from a refused submit filled into its blank secret fields."""
    if request.method != "POST":
        return None
    data = request.POST.copy()
    kept.fill_in(data)
    return data


def _form_again(request, form, kept: KeptSecrets, connection=None):
    """The form, new or refused; a refused one keeps its typed secrets server-side and offers "Save anyway"
    when the refusal was a failed test."""
    if form.is_bound:
        form.say_secrets_are_kept(kept.keep(form.data))
    context = {"form": form, "connection": connection, "failed_test": form.failed_test}
    return render(request, "buckets/connection_form.html", context)


def _test_said(connection: Connection) -> str:
    failure = connection.last_test_failure
    if failure is None:
        return "Its test passed."
    return f"Saved although its test failed ({failure['name']}: {failure['code']})."


# What the success message of an edit names, in the form's order; secrets are only said to be replaced.
_SHOWN_FIELDS = (
    ("name", "name"),
    ("oss_endpoint", "OSS endpoint"),
    ("region", "region"),
    ("access_key_id", "AccessKey ID"),
    ("kms_endpoint", "KMS endpoint"),
)


def _shown_fields(connection: Connection) -> dict:
    return {name: getattr(connection, name) for name, _ in _SHOWN_FIELDS} | {
        "has_sts_token": bool(connection.sealed_sts_token)
    }


def _changes(before: dict, after: dict, data: dict) -> list[str]:
    """Each change as "label old → new" (a blank value as "none"); secrets only as replaced, set or removed."""
    changes = [
        f"{label} {before[name] or 'none'} → {after[name] or 'none'}"
        for name, label in _SHOWN_FIELDS
        if before[name] != after[name]
    ]
    if data.get("access_key_secret"):
        changes.append("AccessKey secret replaced")
    if data.get("sts_token"):
        changes.append("STS token replaced" if before["has_sts_token"] else "STS token set")
    elif before["has_sts_token"] and not after["has_sts_token"]:
        changes.append("STS token removed")
    return changes


@permission_required("buckets.delete_connection")
def connection_delete(request, pk):
    connection = get_object_or_404(_connections(), pk=pk)
    if request.method != "POST":
        return render(request, "buckets/connection_confirm_delete.html", {"connection": connection})
    try:
        services.delete_connection(actor=request.user, connection=connection)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("buckets:connection_detail", pk=connection.pk)
    messages.success(request, f"Connection {connection.name} removed.")
    return redirect("buckets:connection_list")
