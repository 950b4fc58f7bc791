from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.views import LoginView
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import ApiTokenForm, SignInForm, UserCreateForm, UserRoleForm
from cloud.errors import ServiceError

User = get_user_model()


class SignInView(LoginView):
    """Django's login page (it already hides the password from error reports and is never cached)."""

    form_class = SignInForm
    redirect_authenticated_user = True


@permission_required("auth.view_user", raise_exception=True)
def user_list(request):
    users = User.objects.prefetch_related("groups").order_by("username")
    lockouts = services.account_lockouts(users)
    rows = [{"user": user, "role": services.role_of(user), "locked_until": lockouts.get(user.pk)} for user in users]
    return render(request, "accounts/user_list.html", {"rows": rows})


@sensitive_post_parameters("password")
@never_cache  # the answer may show the generated password
@permission_required("auth.add_user", raise_exception=True)
def user_create(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_user(actor=request.user, **_blank_password_as_none(form.cleaned_data))
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            role = services.role_of(created.user)
            messages.success(request, f"User {created.user.username} created with the role {role}.")
            if created.generated_password:
                return render(request, "accounts/user_created.html", {"created": created})
            return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {"form": form})


def _blank_password_as_none(data: dict) -> dict:
    return {**data, "password": data["password"] or None}


@permission_required("auth.change_user", raise_exception=True)
def user_role(request, pk):
    user = get_object_or_404(User, pk=pk)
    before = services.role_of(user)
    form = UserRoleForm(request.POST or None, initial={"role": (before or "").lower()})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_role(actor=request.user, user=user, role=form.cleaned_data["role"])
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            after = services.role_of(user)
            if after == before:
                messages.success(request, f"{user.username}: role unchanged ({after}).")
            else:
                messages.success(request, f"{user.username}: {before or 'no role'} → {after}.")
            return redirect("accounts:user_list")
    return render(request, "accounts/user_role.html", {"form": form, "subject": user})


@require_POST
@permission_required("auth.change_user", raise_exception=True)
def user_deactivate(request, pk):
    return _change_activation(request, pk, services.deactivate_user)


@require_POST
@permission_required("auth.change_user", raise_exception=True)
def user_activate(request, pk):
    return _change_activation(request, pk, services.activate_user)


def _state(user) -> str:
    return "active" if user.is_active else "deactivated"


def _change_activation(request, pk, operation):
    user = get_object_or_404(User, pk=pk)
    before = _state(user)
    try:
        operation(actor=request.user, user=user)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        after = _state(user)
        change = f"{before} → {after}" if after != before else f"already {after}"
        messages.success(request, f"{user.username}: {change}.")
    return redirect("accounts:user_list")


@require_POST
@permission_required("auth.change_user", raise_exception=True)
def user_unlock(request, pk):
    user = get_object_or_404(User, pk=pk)
    services.unlock_user(actor=request.user, user=user)
    messages.success(request, f"{user.username}: unlocked; failed sign-ins forgotten.")
    return redirect("accounts:user_list")


def token_list(request):
    """The signed-in user's API tokens, with the form that issues another."""
    return _token_page(request, request.user, ApiTokenForm())


@permission_required("auth.change_user", raise_exception=True)
def user_tokens(request, pk):
    return _token_page(request, get_object_or_404(User, pk=pk), form=None)


def _token_page(request, owner, form):
    tokens = services.visible_api_tokens(request.user, owner=owner)
    context = {"owner": owner, "own": owner == request.user, "tokens": tokens, "form": form}
    return render(request, "accounts/token_list.html", context)


@require_POST
@never_cache  # the answer shows the new token
def token_create(request):
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _token_page(request, request.user, form)
    issued = services.issue_api_token(actor=request.user, user=request.user, label=form.cleaned_data["label"])
    messages.success(request, f"API token {issued.token.prefix}… created; it expires {issued.token.expires:%Y-%m-%d}.")
    return render(request, "accounts/token_created.html", {"issued": issued})


@require_POST
def token_revoke(request, pk):
    token = services.visible_api_token(request.user, pk)
    services.revoke_api_token(actor=request.user, token=token)
    messages.success(request, f"API token {token.prefix}… of {token.user.username} revoked; it no longer works.")
    if token.user == request.user:
        return redirect("accounts:token_list")
    return redirect("accounts:user_tokens", token.user.pk)
