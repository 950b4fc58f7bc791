"""Forms of the bucket pages."""

from django import forms

from buckets.services import buckets as services
from buckets.services import lifecycle
from cloud.errors import ServiceError
from console import input_limits


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


class ExpiryDaysForm(forms.Form):
    """The days of the console's rule, asked first: the page shows the dry-run plan for them."""

    days = forms.IntegerField(
        label="Days after a version became noncurrent",
        min_value=lifecycle.MIN_DAYS,
        max_value=lifecycle.MAX_DAYS,
        help_text=f"A whole number from {lifecycle.MIN_DAYS} to {lifecycle.MAX_DAYS}.",
    )


class ExpiryConfirmForm(ExpiryDaysForm):
    """The plan's days again (the plan shown was made for them), with the bucket's name typed to confirm."""

    days = forms.IntegerField(min_value=lifecycle.MIN_DAYS, max_value=lifecycle.MAX_DAYS, widget=forms.HiddenInput)
    confirmation = forms.CharField(label="Type the bucket's name to confirm", max_length=input_limits.BUCKET)
