"""A refusal says which role the page or API action needs and which role the user holds, inside the layout."""

import pytest

from accounts.roles import least_role_holding

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "permissions, role",
    [
        (["buckets.view_bucket"], "Viewer"),
        (["buckets.change_encryption"], "Operator"),
        (["buckets.change_lifecycle"], "Operator"),
        (["jobs.add_job", "buckets.view_bucket"], "Operator"),
        (["auth.change_user"], "Admin"),
        (["buckets.view_secret"], "Admin"),
    ],
)
def test_the_role_a_permission_needs_is_read_from_the_role_rules(permissions, role):
    assert least_role_holding(permissions) == role


def test_a_viewer_opening_an_operator_page_gets_the_403_page_in_the_layout_naming_both_roles(client_as, viewer):
    answer = client_as(viewer).get("/jobs/new/")

    html = answer.content.decode()
    assert answer.status_code == 403
    assert "This page needs the Operator role; you are a Viewer." in html
    assert '<link rel="stylesheet"' in html and 'aria-label="Main"' in html  # the layout, with its menu


def test_an_operator_opening_an_admin_page_is_told_it_needs_an_admin(client_as, operator):
    html = client_as(operator).get("/users/").content.decode()

    assert "This page needs the Admin role; you are an Operator." in html


def test_a_user_without_a_role_is_told_so(client_as, outsider):
    html = client_as(outsider).get("/audit/").content.decode()

    assert "This page needs the Viewer role; you hold no role." in html


def test_the_api_403_detail_names_both_roles(api_as, viewer, operator):
    refused_viewer = api_as(viewer).post("/api/v1/jobs/", {}, format="json")
    refused_operator = api_as(operator).get("/api/v1/users/")

    assert refused_viewer.status_code == 403
    assert refused_viewer.json() == {"detail": "This action needs the Operator role; you are a Viewer."}
    assert refused_operator.json() == {"detail": "This action needs the Admin role; you are an Operator."}
