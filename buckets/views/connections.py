"""Connection pages: everyone with a role sees and tests them; only Admins add, change or remove them."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from buckets.forms import ConnectionEditForm, ConnectionForm
from buckets.models import Connection
from buckets.services import connections as services
from console.exceptions import ServiceError


def _connections():
    return Connection.objects.annotate(bucket_count=Count("buckets"))


@permission_required("buckets.view_connection", raise_exception=True)
def connection_list(request):
    return render(request, "buckets/connection_list.html", {"connections": _connections()})


@permission_required("buckets.view_connection", raise_exception=True)
def connection_detail(request, pk):
    connection = get_object_or_404(_connections(), pk=pk)
    return render(request, "buckets/connection_detail.html", {"connection": connection})


@require_POST
@permission_required("buckets.view_connection", raise_exception=True)
def connection_test(request, pk):
    """Runs the checks and shows them on the connection's page; nothing changes, so no redirect is needed."""
    connection = get_object_or_404(_connections(), pk=pk)
    result = services.test_connection(connection, request.user)
    return render(request, "buckets/connection_detail.html", {"connection": connection, "test": result})


@permission_required("buckets.add_connection", raise_exception=True)
def connection_create(request):
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.create_connection(actor=request.user, **form.cleaned_data)
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Connection {connection.name} added. Test it to check its credentials.")
            return redirect("buckets:connection_detail", pk=connection.pk)
    return render(request, "buckets/connection_form.html", {"form": form})


@permission_required("buckets.change_connection", raise_exception=True)
def connection_edit(request, pk):
    connection = get_object_or_404(Connection, pk=pk)
    form = ConnectionEditForm(request.POST or None, connection=connection)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_connection(actor=request.user, connection=connection, **form.cleaned_data)
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Connection {connection.name} saved.")
            return redirect("buckets:connection_detail", pk=connection.pk)
    return render(request, "buckets/connection_form.html", {"form": form, "connection": connection})


@permission_required("buckets.delete_connection", raise_exception=True)
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
