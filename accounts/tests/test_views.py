import pytest


@pytest.mark.parametrize("path", ["/", "/users/", "/users/new/"])
def test_anonymous_pages_redirect_to_login(client, db, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_login_page_renders_a_form(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_login_with_password_leads_to_the_overview(client, operator):
    response = client.post("/accounts/login/", {"username": operator.username, "password": "Correct-Horse-42"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert b"System status" in client.get("/").content


def test_navigation_shows_users_only_to_admins(client_as, viewer, admin):
    assert b'href="/users/"' not in client_as(viewer).get("/").content
    assert b'href="/users/"' in client_as(admin).get("/").content


def test_viewer_gets_403_on_the_users_page_and_on_creating_a_user(client_as, viewer):
    client = client_as(viewer)

    assert client.get("/users/").status_code == 403
    response = client.post("/users/new/", {"username": "mallory", "role": "admin"})
    assert response.status_code == 403


def test_admin_creates_a_user_and_sees_the_generated_password_once(client_as, admin):
    response = client_as(admin).post("/users/new/", {"username": "nina", "role": "operator", "password": ""})

    assert response.status_code == 200
    assert b"shown only this once" in response.content
    assert b"User nina created with the role Operator." in response.content
    assert b"nina" in client_as(admin).get("/users/").content


def test_create_form_shows_the_service_refusal(client_as, admin, viewer):
    response = client_as(admin).post("/users/new/", {"username": viewer.username, "role": "viewer"})

    assert response.status_code == 200
    assert b"already exists" in response.content


def test_admin_changes_a_role_and_is_told_before_and_after(client_as, admin, viewer):
    response = client_as(admin).post(f"/users/{viewer.pk}/role/", {"role": "operator"}, follow=True)

    assert response.redirect_chain == [("/users/", 302)]
    assert f"{viewer.username}: Viewer → Operator." in response.content.decode()
    viewer.refresh_from_db()
    assert viewer.groups.get().name == "Operator"


def test_saving_the_same_role_says_nothing_changed(client_as, admin, viewer):
    response = client_as(admin).post(f"/users/{viewer.pk}/role/", {"role": "viewer"}, follow=True)

    assert f"{viewer.username}: role unchanged (Viewer)." in response.content.decode()


def test_admin_deactivates_and_reactivates_a_user(client_as, admin, operator):
    client = client_as(admin)

    deactivated = client.post(f"/users/{operator.pk}/deactivate/", follow=True)
    operator.refresh_from_db()
    assert not operator.is_active
    assert f"{operator.username}: active → deactivated." in deactivated.content.decode()

    activated = client.post(f"/users/{operator.pk}/activate/", follow=True)
    operator.refresh_from_db()
    assert operator.is_active
    assert f"{operator.username}: deactivated → active." in activated.content.decode()


def test_deactivating_yourself_is_refused_with_a_message(client_as, admin):
    response = client_as(admin).post(f"/users/{admin.pk}/deactivate/", follow=True)

    assert b"cannot deactivate your own account" in response.content
    admin.refresh_from_db()
    assert admin.is_active


def test_deactivate_needs_post(client_as, admin, operator):
    assert client_as(admin).get(f"/users/{operator.pk}/deactivate/").status_code == 405


def test_unknown_user_is_404(client_as, admin):
    assert client_as(admin).get("/users/999999/role/").status_code == 404
