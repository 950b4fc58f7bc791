from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout, update_session_auth_hash
from django.contrib.auth.views import LoginView
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts import services
from accounts.forms import (
    ApiTokenForm,
    AuthenticatorCodeForm,
    CodeForm,
    PasswordChangeForm,
    SignInForm,
    UserCreateForm,
    UserRoleForm,
)
from cloud.errors import ServiceError
from console.permissions import permission_required

User = get_user_model()


class SignInView(LoginView):
    """Django's login page (it already hides the password from error reports and is never cached)."""

    form_class = SignInForm
    redirect_authenticated_user = True


def _next_page(request) -> str:
    target = request.POST.get("next") or request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("code")
@never_cache
def login_code(request):
    """The second step of signing in, for a user with an authenticator (console.middleware.TwoFactorMiddleware
    keeps them here until it is done)."""
    if request.user.is_verified() or not services.has_two_factor(request.user):
        return redirect(_next_page(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.verify_sign_in_code(request, user=request.user, code=form.cleaned_data["code"])
        except services.SignInLocked as locked:
            logout(request)
            messages.error(request, locked.message)
            return redirect("login")
        except services.WrongCode as wrong:
            form.add_error("code", wrong.message)
        else:
            otp_login(request, device)
            return redirect(_next_page(request))
    return render(request, "registration/login_code.html", {"form": form, "next": _next_page(request)})


@never_cache
def two_factor(request):
    """The user's own second factor: whether it is on, how to set it up or turn it off."""
    user = request.user
    context = {
        "enabled": services.has_two_factor(user),
        "required": services.two_factor_required(user),
        "form": CodeForm(),
        "next": _next_page(request),
    }
    return render(request, "accounts/two_factor.html", context)


@require_POST
@never_cache  # the answer shows the authenticator's secret
def two_factor_setup(request):
    try:
        authenticator = services.begin_two_factor(user=request.user)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("two_factor")
    return _setup_page(request, authenticator, AuthenticatorCodeForm())


def _setup_page(request, authenticator, form):
    context = {"authenticator": authenticator, "form": form, "next": _next_page(request)}
    return render(request, "accounts/two_factor_setup.html", context)


@require_POST
@sensitive_post_parameters("code")
@never_cache  # the answer shows the recovery codes, or the secret again after a wrong code
def two_factor_confirm(request):
    form = AuthenticatorCodeForm(request.POST)
    authenticator = services.pending_authenticator(user=request.user)
    if authenticator is None:
        messages.error(request, "There is no authenticator waiting for a code; start the set-up again.")
        return redirect("two_factor")
    if form.is_valid():
        try:
            device, recovery_codes = services.confirm_two_factor(user=request.user, code=form.cleaned_data["code"])
        except services.WrongCode as wrong:
            form.add_error("code", wrong.message)
        else:
            otp_login(request, device)
            context = {"recovery_codes": recovery_codes, "next": _next_page(request)}
            return render(request, "accounts/two_factor_recovery_codes.html", context)
    return _setup_page(request, authenticator, form)


@require_POST
@sensitive_post_parameters("code")
def two_factor_disable(request):
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            services.disable_two_factor(user=request.user, code=form.cleaned_data["code"])
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Two-factor sign-in is off: you sign in with your password alone.")
    else:
        messages.error(request, "Type a code to turn two-factor sign-in off.")
    return redirect("two_factor")


@sensitive_post_parameters("current_password", "new_password", "new_password_again")
@never_cache
def password_change(request):
    """The user's own password; the only page open while a generated password is still to be changed
    (console.middleware.PasswordChangeMiddleware)."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_own_password(
                user=request.user,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except services.WrongPassword as wrong:
            form.add_error("current_password", wrong.message)
        except ServiceError as error:
            form.add_error("new_password", error.message)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, "Password changed; your other sessions are signed out.")
            return redirect(_next_page(request))
    due = services.password_change_required(request.user)
    return render(request, "accounts/password_change.html", {"form": form, "due": due, "next": _next_page(request)})


@permission_required("auth.view_user")
def user_list(request):
    users = User.objects.prefetch_related("groups").order_by("username")
    lockouts = services.account_lockouts(users)
    second_factor = services.users_with_two_factor(users)
    owing_password_change = services.users_owing_password_change(users)
    rows = [
        {
            "user": user,
            "role": services.role_of(user),
            "locked_until": lockouts.get(user.pk),
            "two_factor": user.pk in second_factor,
            "password_change_due": user.pk in owing_password_change,
        }
        for user in users
    ]
    return render(request, "accounts/user_list.html", {"rows": rows})


@sensitive_post_parameters("password")
@never_cache  # the answer may show the generated password
@permission_required("auth.add_user")
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


@permission_required("auth.change_user")
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
@permission_required("auth.change_user")
def user_deactivate(request, pk):
    return _change_activation(request, pk, services.deactivate_user)


@require_POST
@permission_required("auth.change_user")
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
@permission_required("auth.change_user")
def user_unlock(request, pk):
    user = get_object_or_404(User, pk=pk)
    services.unlock_user(actor=request.user, user=user)
    messages.success(request, f"{user.username}: unlocked; failed sign-ins forgotten.")
    return redirect("accounts:user_list")


def token_list(request):
    """The signed-in user's API tokens, with the form that issues another."""
    return _token_page(request, request.user, ApiTokenForm())


@permission_required("auth.change_user")
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


@require_POST
@permission_required("auth.change_user")
def user_reset_two_factor(request, pk):
    user = get_object_or_404(User, pk=pk)
    try:
        services.reset_two_factor(actor=request.user, user=user)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{user.username}: authenticator and recovery codes removed.")
    return redirect("accounts:user_list")


@require_POST
@never_cache  # the answer shows the generated password
@permission_required("auth.change_user")
def user_reset_password(request, pk):
    user = get_object_or_404(User, pk=pk)
    try:
        password = services.reset_password(actor=request.user, user=user)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("accounts:user_list")
    messages.success(request, f"{user.username}: password reset; they choose a new one at their next sign-in.")
    return render(request, "accounts/password_reset.html", {"subject": user, "password": password})
