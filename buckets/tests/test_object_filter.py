"""The object browser filters the page it listed by encryption state, with the labels the list shows: None,
OSS-managed, KMS, client-side encrypted; and says it filters that page, not the whole bucket."""

import pytest

from buckets.services import objects as services
from console.testing.cloud import new_bucket
from console.testing.objects import put

# A wrapped data key in the envelope is what makes an object client-side encrypted to the console.
CLIENT_SIDE = {
    "x-oss-meta-client-side-encryption-key": "d3JhcHBlZA==",
    "x-oss-meta-client-side-encryption-start": "c3RhcnQ=",
    "x-oss-meta-client-side-encryption-cek-alg": "AES/CTR/NoPadding",
    "x-oss-meta-client-side-encryption-wrap-alg": "RSA/NONE/PKCS1Padding",
}


@pytest.fixture
def shelf(cloud_connection):
    bucket = new_bucket(cloud_connection, "shelf")
    put(bucket, "plain.txt")
    put(bucket, "oss.txt", headers={"x-oss-server-side-encryption": "AES256"})
    put(bucket, "kms.txt", headers={"x-oss-server-side-encryption": "KMS"})
    put(bucket, "sealed.bin", headers=CLIENT_SIDE)
    put(bucket, "sealed-oss.bin", headers={**CLIENT_SIDE, "x-oss-server-side-encryption": "AES256"})
    put(bucket, "folder/inside.txt")
    return bucket


def listed(client, bucket, **query) -> list[str]:
    response = client.get(f"/buckets/{bucket.pk}/objects/", query)
    assert response.status_code == 200
    return [row.entry.key for row in response.context["listing"].objects]


@pytest.mark.parametrize(
    ("state", "keys"),
    [
        ("", ["kms.txt", "oss.txt", "plain.txt", "sealed-oss.bin", "sealed.bin"]),
        ("none", ["plain.txt"]),
        ("oss", ["oss.txt", "sealed-oss.bin"]),
        ("kms", ["kms.txt"]),
        ("client-side", ["sealed-oss.bin", "sealed.bin"]),
    ],
)
def test_the_page_is_filtered_by_encryption_state(client_as, viewer, shelf, state, keys):
    assert listed(client_as(viewer), shelf, encryption=state) == keys


def test_the_filter_says_it_filters_this_page_and_keeps_folders_and_paging(client_as, viewer, shelf):
    page = client_as(viewer).get(f"/buckets/{shelf.pk}/objects/", {"encryption": "kms"}).content.decode()

    assert "Encryption KMS: 1 of the 5 objects of this page." in page
    assert "The filter applies to the objects of this page only" in page
    assert "folder/" in page and '<option value="kms" selected>KMS</option>' in page


def test_an_unknown_state_is_named_and_the_page_shown_unfiltered(client_as, viewer, shelf):
    response = client_as(viewer).get(f"/buckets/{shelf.pk}/objects/", {"encryption": "rot13"})

    assert "Select a valid choice. rot13 is not one of the available choices." in response.content.decode()
    assert len(response.context["listing"].objects) == 5
    with pytest.raises(services.ServiceError, match="Unknown encryption filter 'rot13'"):
        services.filter_listing(response.context["listing"], "rot13")
