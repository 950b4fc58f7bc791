from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from accounts import services
from accounts.roles import ROLE_CHOICES
from console import input_limits


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES, widget=forms.RadioSelect, initial="viewer")
    password = forms.CharField(
        max_length=input_limits.PASSWORD,
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Leave empty to generate one; it is shown once.",
    )


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        max_length=input_limits.PASSWORD,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="The password you signed in with (the generated one, if you were given one).",
    )
    new_password = forms.CharField(
        max_length=input_limits.PASSWORD,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        max_length=input_limits.PASSWORD,
        strip=False,
        label="New password again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The rules of AUTH_PASSWORD_VALIDATORS, as Django words them, so the form says what the service checks.
        self.fields["new_password"].help_text = " ".join(password_validation.password_validators_help_texts())

    def clean(self):
        new, again = self.cleaned_data.get("new_password"), self.cleaned_data.get("new_password_again")
        if new and again and new != again:
            self.add_error("new_password_again", "The two new passwords differ; type the same one twice.")
        return self.cleaned_data


class ApiTokenForm(forms.Form):
    label = forms.CharField(max_length=100, required=False, help_text="What the token is for: the script using it.")


class UserRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES, widget=forms.RadioSelect)


class SignInForm(AuthenticationForm):
    """Django's login form with the lockouts of accounts.services.sign_in in front of the password check."""

    username = UsernameField(max_length=input_limits.NAME, widget=forms.TextInput(attrs={"autofocus": True}))
    password = forms.CharField(
        max_length=input_limits.PASSWORD,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    @sensitive_variables("password")
    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = services.sign_in(self.request, username=username, password=password)
            except services.SignInLocked as locked:
                raise ValidationError(locked.message, code="locked") from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=20,
        help_text="The 6 digits your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


class AuthenticatorCodeForm(CodeForm):
    code = forms.CharField(
        max_length=20,
        help_text="The 6 digits the app shows now for this console.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
