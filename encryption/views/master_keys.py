"""CSE master key pages under /keys/cse/: the list and detail for every role, generating, importing, adding a KMS
key and deleting for Admins. The RSA private key never reaches a page: only the public key is shown or downloaded."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters

from cloud.errors import ServiceError
from console.permissions import permission_required
from encryption.forms.master_keys import GenerateForm, ImportForm, KmsForm
from encryption.models import MasterKey
from encryption.services import master_keys

VIEW = "encryption.view_masterkey"
ADD = "encryption.add_masterkey"
DELETE = "encryption.delete_masterkey"


@permission_required(VIEW)
def cse_key_list(request):
    return render(request, "encryption/cse_key_list.html", {"keys": master_keys.list_master_keys()})


@permission_required(VIEW)
def cse_key_detail(request, pk: int):
    key = get_object_or_404(master_keys.list_master_keys(), pk=pk)
    context = {"key": key, "generated": request.GET.get("new") == "1" and key.kind == MasterKey.RSA}
    return render(request, "encryption/cse_key_detail.html", context)


@permission_required(VIEW)
def cse_public_key(request, pk: int):
    key = get_object_or_404(MasterKey, pk=pk, kind=MasterKey.RSA)
    response = HttpResponse(key.public_key_pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{master_keys.public_pem_filename(key)}"'
    return response


# The three ways to add a master key share one form page; these are its words.
GENERATE_PAGE = {
    "heading": "Generate an RSA key pair",
    "submit": "Generate key",
    "help": "The private key is generated and sealed on the server; it is never shown or downloadable.",
}
IMPORT_PAGE = {
    "heading": "Import an RSA private key",
    "submit": "Import key",
    "help": "The private key is sealed on the server at once and never shown again, not even to Admins.",
}
KMS_PAGE = {
    "heading": "Add a KMS key",
    "submit": "Add key",
    "help": "The key must exist and be Enabled; data keys then come from KMS GenerateDataKey, "
    "as oss2 AliKMSProvider does.",
}


def _create(request, form, page: dict, create):
    if request.method == "POST" and form.is_valid():
        try:
            key = create(actor=request.user, **form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Master key {key.name} added.")
            return redirect(f"{key_url(key)}?new=1")
    return render(request, "encryption/cse_key_form.html", {"form": form, "page": page})


def key_url(key: MasterKey) -> str:
    return reverse("encryption:cse_key_detail", args=[key.pk])


@permission_required(ADD)
def cse_key_new(request):
    """Generate an RSA key pair, or (?kind=kms) add a KMS key."""
    if request.GET.get("kind") == MasterKey.KMS:
        return _create(request, KmsForm(request.POST or None), KMS_PAGE, master_keys.add_kms)
    return _create(request, GenerateForm(request.POST or None), GENERATE_PAGE, master_keys.generate_rsa)


@sensitive_post_parameters("pem", "passphrase")
@permission_required(ADD)
def cse_key_import(request):
    return _create(request, ImportForm(request.POST or None), IMPORT_PAGE, master_keys.import_rsa)


@permission_required(DELETE)
def cse_key_delete(request, pk: int):
    key = get_object_or_404(MasterKey, pk=pk)
    if request.method == "POST":
        try:
            master_keys.delete_master_key(actor=request.user, key=key)
        except ServiceError as error:
            messages.error(request, error.message)
            return redirect("encryption:cse_key_detail", key.pk)
        messages.success(request, f"Master key {key.name} deleted.")
        return redirect("encryption:cse_key_list")
    return render(request, "encryption/cse_key_delete.html", {"key": key})
