"""The upload page and the upload API judge the encryption asked for alike: both go through cloud.sse.parse.

One difference is meant: a page posts every radio group (without JavaScript nothing is disabled), so the page drops
a valid algorithm or key the chosen method does not use, where the API refuses it; rows here post only what the
method uses, or values that are no choice at all.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict

from buckets.api.serializers.objects import ObjectUploadSerializer
from buckets.forms.objects import ObjectUploadForm
from cloud.sse import Sse

REFUSED = "refused"


def form_verdict(fields: dict):
    files = MultiValueDict({"file": [SimpleUploadedFile("a.txt", b"a")]})
    form = ObjectUploadForm({"key": "a.txt", **fields}, files, default_label="None")
    return form.cleaned_data["sse"] if form.is_valid() else REFUSED


def api_verdict(fields: dict):
    serializer = ObjectUploadSerializer(data={"file": SimpleUploadedFile("a.txt", b"a"), "key": "a.txt", **fields})
    return serializer.validated_data["sse"] if serializer.is_valid() else REFUSED


@pytest.mark.parametrize(
    "fields, verdict",
    [
        ({"method": "default"}, None),
        ({"method": "default", "algorithm": "AES3"}, REFUSED),
        ({"method": "default", "algorithm": "sm4"}, REFUSED),
        ({"method": "oss"}, Sse("oss", "AES256")),
        ({"method": "oss", "algorithm": "SM4"}, Sse("oss", "SM4")),
        ({"method": "oss", "algorithm": "DES"}, REFUSED),
        ({"method": "kms"}, Sse("kms", "AES256")),
        ({"method": "kms", "algorithm": "SM4", "key_id": ""}, Sse("kms", "SM4")),
        ({"method": "kms", "algorithm": "RSA"}, REFUSED),
        ({"method": "none"}, REFUSED),
        ({"method": "KMS"}, REFUSED),
        ({"method": ""}, REFUSED),
    ],
)
def test_the_upload_form_and_the_upload_api_give_the_same_verdict(fields, verdict):
    assert (form_verdict(fields), api_verdict(fields)) == (verdict, verdict)
