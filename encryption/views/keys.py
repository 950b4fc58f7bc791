"""Keys pages (KMS keys of a connection and region), the BYOK wizard and the RAM policy helper."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from buckets.models import Bucket, Connection
from cloud import sse as sse_rules
from cloud.errors import CloudError, ServiceError
from console.permissions import permission_required
from encryption import byok, selectors
from encryption.forms.keys import (
    AliasForm,
    ByokStartForm,
    GeneratedMaterialForm,
    KeyCreateForm,
    KeyScopeForm,
    MaterialImportForm,
    RamPolicyForm,
    ScheduleDeletionForm,
    WrappingForm,
)
from encryption.forms.sse import SseForm
from encryption.services import keys as services

VIEW_KEY = "encryption.view_key"
MANAGE_KEY = "encryption.manage_key"
KEY_NOT_FOUND = "Forbidden.KeyNotFound"
# The wizard's state in the session: connection id, region, key id, and once fetched the wrapping algorithm, public
# key, import token and its expiry. Never key material.
WIZARD = "encryption.byok"


def _scoped_connection(connection_id: int, region: str) -> Connection:
    connection = get_object_or_404(Connection, pk=connection_id)
    if region not in services.key_regions(connection):
        raise Http404("No such region for this connection.")
    return connection


def _to_key(connection: Connection, region: str, key_id: str):
    return redirect("encryption:key_detail", connection.pk, region, key_id)


# Keys


@permission_required(VIEW_KEY)
def key_list(request):
    first = Connection.objects.first()
    if first is None:
        return render(request, "encryption/key_list.html", {"form": None})
    form = KeyScopeForm(
        {"connection": request.GET.get("connection") or first.pk, "region": request.GET.get("region", "")}
    )
    context = {"form": form, "rows": [], "error": ""}
    if form.is_valid():
        connection, region = form.cleaned_data["connection"], form.cleaned_data["region"]
        context |= {
            "connection": connection,
            "region": region,
            "form": KeyScopeForm(initial={"connection": connection.pk, "region": region}),
        }
        try:
            context["rows"] = services.list_keys(connection, region)
        except ServiceError as error:
            context["error"] = error.message
    return render(request, "encryption/key_list.html", context)


@permission_required(VIEW_KEY)
def key_detail(request, connection_id: int, region: str, key_id: str):
    connection = _scoped_connection(connection_id, region)
    context = {"connection": connection, "region": region, "key_id": key_id, "alias_form": AliasForm()}
    try:
        context["row"] = services.get_key(connection, region, key_id)
    except CloudError as error:
        context["error"] = error.message
        return render(
            request, "encryption/key_detail.html", context, status=404 if error.code == KEY_NOT_FOUND else 200
        )
    return render(request, "encryption/key_detail.html", context)


@permission_required(MANAGE_KEY)
def key_create(request, connection_id: int, region: str):
    connection = _scoped_connection(connection_id, region)
    form = KeyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.create_key(actor=request.user, connection=connection, region=region, **form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            key = change.key
            messages.success(request, f"Key {key.display_name} created: {key.spec}, {key.origin}, {key.state}.")
            return _to_key(connection, region, change.key.key_id)
    return render(request, "encryption/key_create.html", {"form": form, "connection": connection, "region": region})


def _change_key(request, connection_id: int, region: str, key_id: str, change, done: str = "", **arguments):
    """Run one key change from a button and go back to the key, with what changed (before → after) as a message."""
    connection = _scoped_connection(connection_id, region)
    try:
        result = change(actor=request.user, connection=connection, region=region, key_id=key_id, **arguments)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, result.summary(f"Key {result.name} {done}" if done else ""))
    return _to_key(connection, region, key_id)


@require_POST
@permission_required(MANAGE_KEY)
def key_alias_add(request, connection_id: int, region: str, key_id: str):
    return _change_alias(request, connection_id, region, key_id, services.add_alias)


@require_POST
@permission_required(MANAGE_KEY)
def key_alias_remove(request, connection_id: int, region: str, key_id: str):
    return _change_alias(request, connection_id, region, key_id, services.remove_alias)


def _change_alias(request, connection_id: int, region: str, key_id: str, change):
    form = AliasForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["alias"]))
        return _to_key(_scoped_connection(connection_id, region), region, key_id)
    return _change_key(request, connection_id, region, key_id, change, alias=form.cleaned_data["alias"])


@require_POST
@permission_required(MANAGE_KEY)
def key_enable(request, connection_id: int, region: str, key_id: str):
    return _change_key(request, connection_id, region, key_id, services.enable_key)


@require_POST
@permission_required(MANAGE_KEY)
def key_disable(request, connection_id: int, region: str, key_id: str):
    return _change_key(request, connection_id, region, key_id, services.disable_key)


@require_POST
@permission_required(MANAGE_KEY)
def key_cancel_deletion(request, connection_id: int, region: str, key_id: str):
    return _change_key(request, connection_id, region, key_id, services.cancel_deletion)


@require_POST
@permission_required(MANAGE_KEY)
def key_rotate(request, connection_id: int, region: str, key_id: str):
    return _change_key(request, connection_id, region, key_id, services.rotate_key, "has a new key version")


@permission_required(MANAGE_KEY)
def key_schedule_deletion(request, connection_id: int, region: str, key_id: str):
    connection = _scoped_connection(connection_id, region)
    form = ScheduleDeletionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.schedule_deletion(
                actor=request.user,
                connection=connection,
                region=region,
                key_id=key_id,
                pending_days=form.cleaned_data["pending_days"],
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, change.summary())
            return _to_key(connection, region, key_id)
    context = {"form": form, "connection": connection, "region": region, "key_id": key_id}
    return render(request, "encryption/key_schedule_deletion.html", context)


# Bring your own key: create an EXTERNAL key, get the wrapping key and token, import the wrapped material


def _begin_wizard(request, connection: Connection, region: str, key_id: str) -> None:
    request.session[WIZARD] = {"connection_id": connection.pk, "region": region, "key_id": key_id}


def _wizard(request, *needed: str):
    """The wizard's state and connection, or None when the wizard has not got that far (or its connection is gone)."""
    state = request.session.get(WIZARD)
    if not state or any(name not in state for name in needed):
        return None, None
    connection = Connection.objects.filter(pk=state["connection_id"]).first()
    return (state, connection) if connection else (None, None)


@permission_required(MANAGE_KEY)
def byok_start(request):
    first = Connection.objects.first()
    form = ByokStartForm(request.POST or None, initial={"connection": first.pk if first else None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            change = services.create_key(
                actor=request.user,
                connection=data["connection"],
                region=data["region"],
                spec=data["spec"],
                origin="EXTERNAL",
                description=data["description"],
                alias=data["alias"],
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            _begin_wizard(request, data["connection"], data["region"], change.key.key_id)
            key = change.key
            messages.success(
                request, f"EXTERNAL key {key.display_name} created: {key.spec}, {key.state} until its material comes."
            )
            return redirect("encryption:byok_parameters")
    return render(request, "encryption/byok_start.html", {"form": form, "step": 1, "has_connections": bool(first)})


@require_POST
@permission_required(MANAGE_KEY)
def key_import(request, connection_id: int, region: str, key_id: str):
    """Into the wizard at step 2 for an existing EXTERNAL key (a first import, or again after the material expired)."""
    _begin_wizard(request, _scoped_connection(connection_id, region), region, key_id)
    return redirect("encryption:byok_parameters")


@permission_required(MANAGE_KEY)
def byok_parameters(request):
    state, connection = _wizard(request, "key_id")
    if state is None:
        messages.error(request, "Start with an EXTERNAL key: create one here, or open one on the Keys page.")
        return redirect("encryption:byok_start")
    chosen = state.get("wrapping_algorithm", byok.DEFAULT_WRAPPING_ALGORITHM)
    form = WrappingForm(request.POST or None, initial={"wrapping_algorithm": chosen})
    if request.method == "POST" and form.is_valid():
        algorithm = form.cleaned_data["wrapping_algorithm"]
        try:
            parameters = services.import_parameters(
                connection=connection, region=state["region"], key_id=state["key_id"], wrapping_algorithm=algorithm
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            request.session[WIZARD] = state | {
                "wrapping_algorithm": algorithm,
                "public_key": parameters.public_key,
                "import_token": parameters.import_token,
                "token_expires": parameters.token_expires,
            }
            return redirect("encryption:byok_parameters")
    context = {"state": state, "connection": connection, "form": form, "step": 2}
    if "public_key" in state:
        context["public_key_pem"] = byok.public_key_pem(state["public_key"])
    return render(request, "encryption/byok_parameters.html", context)


@permission_required(MANAGE_KEY)
def byok_public_key(request):
    state, _ = _wizard(request, "public_key")
    if state is None:
        raise Http404("No wrapping key fetched yet.")
    response = HttpResponse(byok.public_key_pem(state["public_key"]), content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{state["key_id"]}-wrapping-key.pem"'
    return response


def _import_page(request, state, connection, form, generate_form, status=200):
    context = {
        "state": state,
        "connection": connection,
        "form": form,
        "generate_form": generate_form,
        "step": 3,
        "sha": "sha1" if state["wrapping_algorithm"] == "RSAES_OAEP_SHA_1" else "sha256",
    }
    return render(request, "encryption/byok_import.html", context, status=status)


def _imported(request, state, change):
    request.session[WIZARD] = {name: state[name] for name in ("connection_id", "region", "key_id")} | {"imported": True}
    messages.success(request, change.summary(f"Key material imported into {change.name}"))
    return redirect("encryption:byok_done")


def _wizard_with_token(request):
    state, connection = _wizard(request, "import_token", "public_key")
    if state is None:
        messages.error(request, "Get the wrapping public key and import token first.")
    return state, connection


@sensitive_post_parameters("encrypted_key_material")
@permission_required(MANAGE_KEY)
def byok_import(request):
    state, connection = _wizard_with_token(request)
    if state is None:
        return redirect("encryption:byok_parameters")
    form = MaterialImportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.import_material(
                actor=request.user,
                connection=connection,
                region=state["region"],
                key_id=state["key_id"],
                encrypted_key_material=form.cleaned_data["encrypted_key_material"],
                import_token=state["import_token"],
                expires_unix=form.expires_unix,
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            return _imported(request, state, change)
    return _import_page(request, state, connection, form, GeneratedMaterialForm())


@require_POST
@permission_required(MANAGE_KEY)
def byok_generate(request):
    state, connection = _wizard_with_token(request)
    if state is None:
        return redirect("encryption:byok_parameters")
    form = GeneratedMaterialForm(request.POST)
    if form.is_valid():
        try:
            change = services.import_generated_material(
                actor=request.user,
                connection=connection,
                region=state["region"],
                key_id=state["key_id"],
                public_key=state["public_key"],
                import_token=state["import_token"],
                wrapping_algorithm=state["wrapping_algorithm"],
                expires_unix=form.expires_unix,
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            return _imported(request, state, change)
    return _import_page(request, state, connection, MaterialImportForm(), form)


@permission_required(MANAGE_KEY)
def byok_done(request):
    state, connection = _wizard(request, "imported")
    if state is None:
        return redirect("encryption:byok_start")
    context = {"state": state, "connection": connection, "step": 4}
    try:
        context["row"] = services.get_key(connection, state["region"], state["key_id"])
    except ServiceError as error:
        context["error"] = error.message
    return render(request, "encryption/byok_done.html", context)


# RAM policy helper


def _chosen(options, wanted, name: str):
    """The option whose `name` is `wanted`, else the first: what the page shows before anything is submitted."""
    return next((option for option in options if str(getattr(option, name)) == wanted), options[0] if options else None)


@permission_required(VIEW_KEY)
def ram_policy(request):
    """GET only: the form's query string is the API's (connection, bucket, method, algorithm, key_id, purposes)."""
    connection = _chosen(list(Connection.objects.all()), request.GET.get("connection", ""), "pk")
    buckets = list(Bucket.objects.filter(connection=connection).order_by("name")) if connection else []
    bucket = _chosen(buckets, request.GET.get("bucket", ""), "name")
    submitted = request.GET if "generate" in request.GET else None
    key_choices = selectors.key_choices(connection, bucket.region) if bucket else selectors.KeyChoices()
    initial = {"connection": connection.pk if connection else None, "bucket": bucket.name if bucket else ""}
    form = RamPolicyForm(submitted, buckets=buckets, initial=initial)
    sse_form = SseForm(submitted, key_choices=key_choices, methods=(sse_rules.OSS, sse_rules.KMS))
    sse_form.fields["method"].initial = sse_rules.KMS
    context = {"form": form, "sse_form": sse_form, "has_connections": connection is not None}
    if submitted and form.is_valid() and sse_form.is_valid():
        try:
            context["result"] = services.ram_policy_for(
                connection=form.cleaned_data["connection"],
                bucket_name=form.cleaned_data["bucket"],
                sse=sse_form.cleaned_data["sse"],
                purposes=form.cleaned_data["purposes"],
            )
        except ServiceError as error:
            form.add_error(None, error.message)
    return render(request, "encryption/ram_policy.html", context)
