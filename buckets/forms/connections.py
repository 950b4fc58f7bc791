"""Connection forms: the shape of the input; the rules themselves live in buckets.services.connections."""

import re
import secrets as tokens

from django import forms

from buckets.models import Connection
from console import input_limits, secrets

SECRET_FIELDS = ("access_key_secret", "sts_token")
KEPT_HELP = "The secret you typed is kept (never shown); leave blank to keep it."


def _secret_input() -> forms.PasswordInput:
    # render_value=False: a secret is never written back into a page, not even after a refused submit.
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


class ConnectionForm(forms.Form):
    """Create a connection: every field but the STS token and the KMS endpoint is needed."""

    name = forms.CharField(max_length=100)
    oss_endpoint = forms.CharField(
        label="OSS endpoint",
        max_length=255,
        help_text="e.g. oss-cn-hangzhou.aliyuncs.com (https:// is assumed) or http://127.0.0.1:9000",
    )
    region = forms.CharField(max_length=64, help_text="The region id, e.g. cn-hangzhou.")
    access_key_id = forms.CharField(label="AccessKey ID", max_length=128)
    access_key_secret = forms.CharField(
        max_length=input_limits.ACCESS_KEY_SECRET, label="AccessKey secret", widget=_secret_input()
    )
    sts_token = forms.CharField(
        max_length=input_limits.STS_TOKEN,
        label="STS token",
        required=False,
        widget=_secret_input(),
        help_text="Only for temporary credentials.",
    )
    kms_endpoint = forms.CharField(
        label="KMS endpoint",
        max_length=255,
        required=False,
        help_text="Leave blank to derive it: kms.<region>.aliyuncs.com on Alibaba Cloud, else the OSS host.",
    )
    # Posted by the "Save anyway" button, offered once a test of the connection has failed.
    save_anyway = forms.BooleanField(required=False)
    form_token = forms.CharField(required=False, max_length=input_limits.FORM_TOKEN, widget=forms.HiddenInput)

    failed_test = None

    def add_service_error(self, error) -> None:
        """A refusal of the service, next to the field it names when the form has that field; a failed test
        is kept whole, so the page shows each check and offers to save anyway."""
        self.failed_test = getattr(error, "test", None)
        if self.failed_test is not None:
            codes = ", ".join(check.code for check in self.failed_test.failures)
            message = f"The connection was not saved: its test failed ({codes}). Correct it, or save it anyway."
            self.add_error(None, message)  # each check and its advice are listed below the summary
            return
        field = getattr(error, "field", None)
        self.add_error(field if field in self.fields else None, error.message)

    def service_arguments(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "form_token"}

    def say_secrets_are_kept(self, kept: list[str]) -> None:
        for name in kept:
            # The bound field copied the help text when the form was validated.
            self.fields[name].help_text = self[name].help_text = KEPT_HELP


class ConnectionEditForm(ConnectionForm):
    """Change a connection: the secret and the STS token are never shown; blank keeps the stored ones."""

    def __init__(self, *args, connection: Connection, **kwargs):
        initial = {
            "name": connection.name,
            "oss_endpoint": connection.oss_endpoint,
            "region": connection.region,
            "access_key_id": connection.access_key_id,
            "kms_endpoint": connection.kms_endpoint,
        }
        super().__init__(*args, initial=initial, **kwargs)
        secret = self.fields["access_key_secret"]
        secret.required = False
        secret.help_text = "Leave blank to keep the current secret (a new endpoint needs it again)."
        token = self.fields["sts_token"]
        if connection.sealed_sts_token:
            token.help_text = "Leave blank to keep the current STS token (a new endpoint needs it again, or clear it)."
            self.fields["clear_sts_token"] = forms.BooleanField(
                label="Remove the STS token", required=False, help_text="Sign with the AccessKey pair alone."
            )
        else:
            token.help_text = "Only for temporary credentials; this connection has none."


class KeptSecrets:
    """The secrets typed into a connection form that was sent back (a refused field, a failed test), kept for
    its next submit in the server-side session, sealed, under the form's token: the page never holds them.

    One form at a time per session; the entry names the page, so another connection's form never receives it.
    """

    SESSION_KEY = "connection-form-secrets"
    _PURPOSE = "connection-form-secret"
    _TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

    def __init__(self, request):
        self.session = request.session
        self.page = request.path
        posted = request.POST.get("form_token", "")
        self.token = posted if self._TOKEN.match(posted) else tokens.token_urlsafe(24)

    def _entry(self) -> dict:
        entry = self.session.get(self.SESSION_KEY) or {}
        return entry if entry.get("token") == self.token and entry.get("page") == self.page else {}

    def fill_in(self, data) -> None:
        """Put the kept secrets into the blank secret fields of a submit (a mutable copy of the POST)."""
        sealed = self._entry().get("secrets", {})
        for name in SECRET_FIELDS:
            if not data.get(name) and name in sealed:
                try:
                    data[name] = secrets.unseal(self._PURPOSE, sealed[name], self.token)
                except secrets.SecretUnreadable:
                    pass  # sealed under a root key since replaced: the field stays blank and asks again
        data["form_token"] = self.token

    def keep(self, data) -> list[str]:
        """Keep what the refused submit carried; the names of the fields kept."""
        typed = {name: data[name] for name in SECRET_FIELDS if data.get(name)}
        sealed = {name: secrets.seal(self._PURPOSE, value, self.token) for name, value in typed.items()}
        self.session[self.SESSION_KEY] = {"token": self.token, "page": self.page, "secrets": sealed}
        return list(typed)

    def forget(self) -> None:
        self.session.pop(self.SESSION_KEY, None)
