"""A cloud refusal that a page does not handle itself still reaches the user as an error page, never a 500."""

import pytest
from django.urls import include, path

from cloud.errors import CloudError


def refused_by_kms(request):
    raise CloudError("kms", "Forbidden.KeyNotFound", "The specified Key is not found.", "REQ-9", 404)


urlpatterns = [
    path("refused/", refused_by_kms),
    path("api/refused/", refused_by_kms),
    path("", include("console.urls")),
]


@pytest.fixture
def refusing_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_a_page_shows_the_cloud_code_message_and_request_id(client_as, viewer, refusing_urls):
    response = client_as(viewer).get("/refused/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "Forbidden.KeyNotFound" in body and "The specified Key is not found." in body and "REQ-9" in body


def test_outside_the_pages_the_error_is_left_to_the_api_handler(client_as, viewer, refusing_urls):
    with pytest.raises(CloudError):
        client_as(viewer).get("/api/refused/")
