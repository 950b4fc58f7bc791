from django import forms

from cloud import sse
from cloud.errors import ServiceError

# What a key missing from the chooser most often is: disabled or deleted while the page was open.
KEY_NOT_OFFERED = (
    "The key %(value)s is not one of the keys offered now (the Enabled encryption keys of the region): it may have "
    "been disabled or deleted since the page was shown. Choose a key from the list."
)


class RefusingRadioSelect(forms.RadioSelect):
    """Radio buttons where a choice that would be refused is disabled and carries the reason (`refusal`)."""

    refused: dict[str, str] = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value in self.refused:
            option["attrs"]["disabled"] = True
            option["refusal"] = self.refused[value]
        return option


class SseForm(forms.Form):
    """Encryption as the OSS console asks for it: method, algorithm, and for KMS the key.

    Every field is in the page, so it works without JavaScript; static/js/sse-form.js hides and disables what the
    chosen method does not use. Like the OSS console, the form neither keeps nor judges those fields: a CMK still
    selected when OSS-managed is chosen is dropped, not refused; only a value that is no choice at all (an
    algorithm the API refuses too) is refused. What remains goes through cloud.sse.parse,
    the parser the API uses; the region and key-state rules are the services' (shared with the API).
    """

    # The fields each method uses; a method this form does not know uses none (the method field refuses it).
    FIELDS_OF_METHOD = {sse.NONE: (), sse.OSS: ("algorithm",), sse.KMS: ("algorithm", "key_id")}
    # The algorithm's help for the method chosen (static/js/sse-form.js swaps it when the method changes).
    ALGORITHM_HELP = {
        sse.OSS: "OSS encrypts each object's data with AES256 or SM4 under keys OSS manages.",
        sse.KMS: "OSS encrypts each object's data with AES256 or SM4 under a data key of the CMK below.",
    }
    OPTIONAL_FIELDS = ("algorithm", "key_id")

    method = forms.ChoiceField(label="Encryption method", choices=sse.METHOD_CHOICES, widget=RefusingRadioSelect)
    algorithm = forms.ChoiceField(
        label="Encryption algorithm",
        choices=sse.ALGORITHM_CHOICES,
        widget=forms.RadioSelect,
        initial=sse.AES256,
        required=False,
    )
    key_id = forms.ChoiceField(
        label="CMK",
        required=False,
        help_text="alias/acs/oss is the default key OSS manages in KMS for you.",
        error_messages={"invalid_choice": KEY_NOT_OFFERED},
    )

    def __init__(self, *args, key_choices=None, methods=None, refused: dict[str, str] | None = None, **kwargs):
        """`methods`: the choices that exist here (default: all); `refused`: method -> why it would be refused,
        shown disabled with the reason rather than offered and then refused."""
        super().__init__(*args, **kwargs)
        self.refused = refused or {}
        self.fields["method"].widget.refused = self.refused
        self.fields["key_id"].choices = key_choices.choices if key_choices else [("", "alias/acs/oss")]
        self.key_choices_error = key_choices.error if key_choices else ""
        if methods is not None:
            self.fields["method"].choices = [choice for choice in sse.METHOD_CHOICES if choice[0] in methods]
        if self.is_bound:
            self.data = self._without_unused_fields(self.data)
        self.match_algorithm_help()

    def match_algorithm_help(self) -> None:
        """The algorithm's help for the method chosen, in the page as served (the script follows later changes)."""
        self.fields["algorithm"].help_text = self.ALGORITHM_HELP.get(self._chosen_method(), "")

    def _chosen_method(self) -> str:
        if self.is_bound:
            return self.data.get(self.add_prefix("method"), "")
        return self.initial.get("method") or self.fields["method"].initial or ""

    def _without_unused_fields(self, data):
        """The post without the fields its method does not use, unless one holds what is no choice at all: an
        algorithm the API refuses is refused here too, whatever the method."""
        used = self.FIELDS_OF_METHOD.get(data.get(self.add_prefix("method"), ""), ())
        unused = [
            self.add_prefix(name)
            for name in self.OPTIONAL_FIELDS
            if name not in used and self._offered(name, data.get(self.add_prefix(name), ""))
        ]
        if not any(name in data for name in unused):
            return data
        data = data.copy()
        for name in unused:
            data.pop(name, None)
        return data

    def _offered(self, name: str, value: str) -> bool:
        # A key id is only ever one of the keys offered or one that went away meanwhile: not the input's fault.
        return name == "key_id" or not value or self.fields[name].valid_value(value)

    def clean_method(self):
        method = self.cleaned_data["method"]
        if method in self.refused:
            raise forms.ValidationError(self.refused[method])
        return method

    def clean(self):
        data = super().clean()
        if data.get("method"):
            try:
                data["sse"] = sse.parse(data["method"], self._algorithm(data), data.get("key_id", ""))
            except ServiceError as refusal:
                raise forms.ValidationError(refusal.message) from None
        return data

    def _algorithm(self, data) -> str:
        """A method that takes an algorithm gets the radio group's preset one when the post has none."""
        if "algorithm" not in self.FIELDS_OF_METHOD.get(data["method"], ()):
            return ""
        return data.get("algorithm") or sse.AES256

    @classmethod
    def initial_for(cls, current: sse.Sse) -> dict:
        return {"method": current.method, "algorithm": current.algorithm or sse.AES256, "key_id": current.key_id}
