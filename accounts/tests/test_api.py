import pytest


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/users/", "/api/v1/me/", "/api/v1/schema/"])
def test_anonymous_api_calls_get_401(api_client, db, path):
    response = api_client.get(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_api_root_lists_the_resources(api_as, viewer):
    response = api_as(viewer).get("/api/v1/")

    assert response.status_code == 200
    assert "users" in response.json()


def test_viewer_gets_403_on_creating_a_user(api_as, viewer):
    response = api_as(viewer).post("/api/v1/users/", {"username": "mallory", "role": "admin"}, format="json")

    assert response.status_code == 403


def test_operator_cannot_list_users(api_as, operator):
    assert api_as(operator).get("/api/v1/users/").status_code == 403


def test_admin_creates_a_user_with_a_role_and_gets_a_generated_password(api_as, admin):
    created = api_as(admin).post("/api/v1/users/", {"username": "nina", "role": "viewer"}, format="json")

    assert created.status_code == 201
    assert created.json()["role"] == "viewer"
    assert created.json()["generated_password"]


@pytest.fixture
def nina(make_user):
    return make_user("nina", "viewer")


def test_admin_changes_a_users_role(api_as, admin, nina):
    changed = api_as(admin).patch(f"/api/v1/users/{nina.pk}/", {"role": "operator"}, format="json")

    assert changed.json()["role"] == "operator"


def test_admin_deactivates_a_user(api_as, admin, nina):
    deactivated = api_as(admin).post(f"/api/v1/users/{nina.pk}/deactivate/")

    assert deactivated.status_code == 200
    assert deactivated.json()["is_active"] is False


def test_given_password_is_never_echoed(api_as, admin):
    response = api_as(admin).post(
        "/api/v1/users/", {"username": "nina", "role": "viewer", "password": "Lantern-Blue-77"}, format="json"
    )

    assert "Lantern-Blue-77" not in response.content.decode()
    assert response.json()["generated_password"] is None


def test_service_refusals_map_to_400_and_409(api_as, admin, viewer):
    client = api_as(admin)

    duplicate = client.post("/api/v1/users/", {"username": viewer.username, "role": "viewer"}, format="json")
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.json()["detail"]

    self_demotion = client.patch(f"/api/v1/users/{admin.pk}/", {"role": "viewer"}, format="json")
    assert self_demotion.status_code == 400


def test_bad_role_is_a_field_error(api_as, admin):
    response = api_as(admin).post("/api/v1/users/", {"username": "nina", "role": "root"}, format="json")

    assert response.status_code == 400
    assert "role" in response.json()


def test_token_from_password_authenticates_api_calls(api_client, operator):
    token = api_client.post(
        "/api/v1/auth/token/", {"username": operator.username, "password": "Correct-Horse-42"}, format="json"
    ).json()["token"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api_client.get("/api/v1/me/")

    assert me.json()["username"] == operator.username
    assert me.json()["role"] == "operator"


def test_wrong_password_gets_no_token(api_client, operator):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": operator.username, "password": "wrong"}, format="json"
    )

    assert response.status_code == 401
    assert "token" not in response.json()


def test_openapi_schema_and_swagger_ui_are_served(api_as, viewer):
    client = api_as(viewer)

    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    assert "/api/v1/users/" in schema.json()["paths"]

    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()
