from django import forms

from encryption import sse


class SseForm(forms.Form):
    """Encryption as the OSS console asks for it: method, algorithm, and for KMS the key.

    Every field is in the page, so it works without JavaScript; static/js/sse-form.js hides what the
    chosen method does not use. The region and key-state rules are the services' (shared with the API).
    """

    method = forms.ChoiceField(label="Encryption method", choices=sse.METHOD_CHOICES, widget=forms.RadioSelect)
    algorithm = forms.ChoiceField(
        label="Encryption algorithm",
        choices=sse.ALGORITHM_CHOICES,
        widget=forms.RadioSelect,
        initial=sse.AES256,
        required=False,
    )
    key_id = forms.ChoiceField(
        label="CMK", required=False, help_text="alias/acs/oss is the default key OSS manages in KMS for you."
    )

    def __init__(self, *args, key_choices=None, methods=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_id"].choices = key_choices.choices if key_choices else [("", "alias/acs/oss")]
        self.key_choices_error = key_choices.error if key_choices else ""
        if methods is not None:
            self.fields["method"].choices = [choice for choice in sse.METHOD_CHOICES if choice[0] in methods]

    def clean(self):
        data = super().clean()
        method = data.get("method")
        if method == sse.NONE:
            data["sse"] = sse.Sse()
        elif method == sse.OSS and data.get("key_id"):
            self.add_error("key_id", "A CMK can only be chosen with the KMS method.")
        elif method:
            data["sse"] = sse.Sse(method, data.get("algorithm") or sse.AES256, data.get("key_id", ""))
        return data

    @classmethod
    def initial_for(cls, current: sse.Sse) -> dict:
        return {"method": current.method, "algorithm": current.algorithm or sse.AES256, "key_id": current.key_id}
