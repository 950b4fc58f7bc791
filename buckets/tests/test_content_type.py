"""The content type a user gives an upload: read in one pass and bounded, so no input can hold a worker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from buckets.models import Bucket
from buckets.services.objects import MAX_CONTENT_TYPE_LENGTH, check_content_type
from cloud.errors import ServiceError

# Shapes that made the old pattern backtrack: each slash was a place to split type from subtype.
BACKTRACKING = ["/" * 4096 + "\x01", "a/" * 2048 + "\x01", "text/" + "a/" * 2000 + " x"]


@pytest.mark.parametrize(
    "content_type",
    ["", "text/plain", "image/svg+xml", "text/plain; charset=utf-8", "application/vnd.ms-excel;a=b;c=d", "a/b/c"],
)
def test_media_types_with_parameters_are_accepted(content_type):
    check_content_type(content_type)


@pytest.mark.parametrize(
    "content_type",
    ["plain", "text/", "/plain", "text plain/x", "text/pl ain", "text/plain; caf\u00e9", "text/plain\r\nX-Injected: 1"],
)
def test_anything_else_is_refused_naming_the_value(content_type):
    with pytest.raises(ServiceError, match="is not a content type"):
        check_content_type(content_type)


@pytest.mark.parametrize("content_type", BACKTRACKING, ids=["slashes", "pairs", "spaced"])
def test_a_content_type_longer_than_the_bound_is_refused_before_it_is_read(content_type):
    with pytest.raises(ServiceError, match=f"at most {MAX_CONTENT_TYPE_LENGTH} characters"):
        check_content_type(content_type)


def test_the_api_refuses_a_4_kb_content_type_as_a_field_error(cloud_connection, api_as, operator):
    bucket = Bucket.objects.create(connection=cloud_connection, name="never-reached", refreshed_at=timezone.now())

    answer = api_as(operator).post(
        f"/api/v1/buckets/{bucket.pk}/objects/",
        {"file": SimpleUploadedFile("a", b"a"), "key": "a.txt", "content_type": BACKTRACKING[0]},
        format="multipart",
    )

    assert answer.status_code == 400
    assert f"{MAX_CONTENT_TYPE_LENGTH} characters" in " ".join(answer.json()["content_type"])
