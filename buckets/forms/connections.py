"""Connection forms: the shape of the input; the rules themselves live in buckets.services.connections."""

from django import forms

from buckets.models import Connection
from console import input_limits


def _secret_input() -> forms.PasswordInput:
    # render_value=False: a secret is never written back into a page, not even after a refused submit.
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


class ConnectionForm(forms.Form):
    """Create a connection: every field but the STS token and the KMS endpoint is needed."""

    name = forms.CharField(max_length=100)
    oss_endpoint = forms.CharField(
        label="OSS endpoint", max_length=255, help_text="e.g. https://oss-cn-hangzhou.aliyuncs.com"
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

    def add_service_error(self, error) -> None:
        """A refusal of the service, next to the field it names when the form has that field."""
        field = getattr(error, "field", None)
        self.add_error(field if field in self.fields else None, error.message)


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
