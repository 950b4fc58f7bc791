"""Forms of the CSE master key pages: input shapes only; the rules are encryption.masterkeys'."""

import json

from django import forms

from buckets.models import Connection
from cloud.cse.wrapping import RSA_KEY_SIZES
from console import input_limits


class MatdescField(forms.CharField):
    """A JSON object as text; blank means the default {"name": <key name>}."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Material description")
        kwargs.setdefault("help_text", 'A JSON object written into each object\'s metadata. Blank: {"name": <name>}.')
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            parsed = json.loads(value)
        except ValueError:
            raise forms.ValidationError('Not valid JSON: write an object, e.g. {"name": "finance"}.') from None
        if not isinstance(parsed, dict):
            raise forms.ValidationError('The material description must be a JSON object, e.g. {"name": "finance"}.')
        return parsed


class SecretTextarea(forms.Textarea):
    """A textarea that never sends its value back: a refused private key is not echoed into the page."""

    def format_value(self, value):
        return None


class _KeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=500, required=False)
    matdesc = MatdescField(
        max_length=input_limits.MATERIAL_DESCRIPTION,
    )


class GenerateForm(_KeyForm):
    bits = forms.TypedChoiceField(choices=[(bits, f"{bits} bits") for bits in RSA_KEY_SIZES], coerce=int)


class ImportForm(_KeyForm):
    pem = forms.CharField(
        max_length=input_limits.PEM,
        label="Private key (PEM)",
        widget=SecretTextarea(attrs={"rows": 10, "autocomplete": "off", "spellcheck": "false"}),
        help_text="PKCS#8 (BEGIN PRIVATE KEY) or traditional (BEGIN RSA PRIVATE KEY), at least 2048 bits.",
    )
    passphrase = forms.CharField(
        max_length=input_limits.PASSWORD,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Only for an encrypted key.",
    )


class KmsForm(_KeyForm):
    connection = forms.ModelChoiceField(queryset=Connection.objects.all(), empty_label=None)
    region = forms.CharField(max_length=64, required=False, help_text="Blank: the connection's region.")
    cmk_id = forms.CharField(max_length=255, label="CMK id", help_text="The id, alias or ARN of an Enabled key.")
