"""Forms of the bucket pages."""

from django import forms

from buckets.services import buckets as services
from cloud.errors import ServiceError


class BucketCreateForm(forms.Form):
    """The bucket itself; the connection is picked before (its keys fill the encryption fields)."""

    name = forms.CharField(
        label="Bucket name",
        max_length=63,
        help_text="3-63 characters: lower-case letters, digits and hyphens; starts and ends with a letter or digit.",
    )
    storage_class = forms.ChoiceField(choices=services.STORAGE_CLASSES, initial="Standard")
    acl = forms.ChoiceField(label="ACL", choices=services.ACLS, initial="private", widget=forms.RadioSelect)

    def clean_name(self):
        name = self.cleaned_data["name"]
        try:
            services.check_bucket_name(name)
        except ServiceError as refusal:
            raise forms.ValidationError(refusal.message) from None
        return name
