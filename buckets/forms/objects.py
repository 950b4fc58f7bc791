"""Forms of the object pages: upload with an encryption choice, and one object's encryption.

They check the shape of the input only; the region and key rules are the services' (shared with the API).
"""

from django import forms

from buckets.services import objects as services
from cloud import sse
from cloud.errors import ServiceError
from console import input_limits
from encryption.forms.sse import SseForm
from encryption.models import MasterKey

BUCKET_DEFAULT = "default"


def _shape(check, value):
    try:
        return check(value)
    except ServiceError as error:
        raise forms.ValidationError(error.message) from None


def _folder(prefix: str) -> str:
    return prefix if not prefix or prefix.endswith("/") else f"{prefix}/"


class ObjectFilterForm(forms.Form):
    """The object browser's filter of the page listed by encryption state."""

    encryption = forms.ChoiceField(
        label="Encryption",
        choices=[("", "Any encryption"), *services.ENCRYPTION_FILTERS],
        required=False,
        help_text="Filters the objects of the page listed (OSS lists no encryption: each object is read).",
    )


class ObjectUploadForm(SseForm):
    """A file and its name, content type and metadata, encrypted by the bucket default or by its own setting.

    The method offers "Bucket default" instead of "None": a PutObject without encryption headers takes the bucket
    default, so an upload cannot ask for no encryption in a bucket that has one.
    """

    file = forms.FileField(label="File")
    prefix = forms.CharField(
        max_length=input_limits.OBJECT_KEY,
        label="Folder",
        required=False,
        help_text='Where the file goes, e.g. "reports/2024/"; blank: the top.',
    )
    key = forms.CharField(
        max_length=input_limits.OBJECT_KEY,
        label="Object name",
        required=False,
        help_text="The full key; blank: the folder followed by the file's name.",
    )
    content_type = forms.CharField(
        max_length=input_limits.CONTENT_TYPE,
        label="Content type",
        required=False,
        help_text="Blank: guessed from the name, e.g. text/plain.",
    )
    metadata = forms.CharField(
        max_length=input_limits.METADATA,
        label="User metadata",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One name=value per line, stored as x-oss-meta-<name>.",
    )
    overwrite = forms.BooleanField(label="Overwrite an existing object with this name", required=False)
    cse_master_key = forms.ModelChoiceField(
        label="Client-side encryption with master key",
        queryset=MasterKey.objects.none(),
        required=False,
        empty_label="None (upload the file as it is)",
        help_text="The console encrypts the file with this key before sending it, as the OSS SDK encryption client "
        "does; OSS then stores ciphertext (server-side encryption below still applies on top).",
    )

    FIELDS_OF_METHOD = {**SseForm.FIELDS_OF_METHOD, BUCKET_DEFAULT: ()}

    def __init__(self, *args, default_label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cse_master_key"].queryset = MasterKey.objects.order_by("name")
        self.fields["method"].choices = [
            (BUCKET_DEFAULT, f"Bucket default ({default_label})"),
            *[choice for choice in sse.METHOD_CHOICES if choice[0] != sse.NONE],
        ]
        self.fields["method"].initial = BUCKET_DEFAULT
        self.match_algorithm_help()
        self.fields["method"].label = "Encryption"
        self.fields["method"].help_text = (
            "A setting on the object wins over the bucket default. Without one, OSS encrypts the object with the "
            "bucket default (or not at all when the bucket has none)."
        )

    @property
    def upload_fields(self):
        """The fields about the file, in the order the page shows them before the encryption fields."""
        return [
            self[name] for name in ("file", "prefix", "key", "content_type", "metadata", "overwrite", "cse_master_key")
        ]

    def clean_metadata(self):
        return _shape(services.parse_metadata, self.cleaned_data["metadata"].splitlines())

    def clean_content_type(self):
        content_type = self.cleaned_data["content_type"].strip()
        _shape(services.check_content_type, content_type)
        return content_type

    def clean(self):
        if self.cleaned_data.get("method") == BUCKET_DEFAULT:
            data = self.cleaned_data
            data["sse"] = None
        else:
            data = super().clean()
        upload = data.get("file")
        if upload is not None:
            data["object_key"] = data.get("key") or f"{_folder(data.get('prefix', ''))}{upload.name}"
            _shape(services.check_object_key, data["object_key"])
        return data


class ObjectEncryptionForm(SseForm):
    """The target encryption of one object, bound to the version the user saw (its ETag)."""

    expected_etag = forms.CharField(max_length=input_limits.ETAG, widget=forms.HiddenInput, required=False)
