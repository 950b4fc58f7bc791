"""What every API view shares: who may call what, one table per view (`action_permissions`) read by one
permission check, and lists paged by one pagination.

The role matrix of each resource (anonymous 401, wrong role 403) is tested with the resource; here, that every
action has its entry, and what an entry means."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from console.api.pagination import Pagination
from console.api.permissions import PUBLIC, SIGNED_IN

# drf-spectacular's own views follow SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] (anyone signed in).
SCHEMA_VIEWS = (SpectacularAPIView, SpectacularSwaggerSplitView)


def api_routes(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_routes(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            yield route, pattern.callback


def served_actions(callback) -> set[str]:
    if getattr(callback, "actions", None):  # a viewset's route: method -> action
        return set(callback.actions.values())
    return {method for method in callback.cls.http_method_names if method not in ("head", "options")} & set(
        dir(callback.cls)
    )


def test_every_api_action_names_the_permissions_it_needs():
    missing = [
        f"{route} {action}"
        for route, callback in api_routes(get_resolver())
        if not issubclass(callback.cls, SCHEMA_VIEWS)
        for action in sorted(served_actions(callback))
        if action not in getattr(callback.cls, "action_permissions", {})
    ]

    assert missing == []


def test_every_api_list_pages_at_most_1000_items():
    paginations = {
        callback.cls.__name__: callback.cls.pagination_class
        for _, callback in api_routes(get_resolver())
        if getattr(callback.cls, "pagination_class", None)
    }

    assert {name for name, pagination in paginations.items() if not issubclass(pagination, Pagination)} == set()
    assert Pagination.max_limit == 1000


class Reports(APIView):
    action_permissions = {"get": ["jobs.view_job"]}

    def get(self, request):
        return Response("read")

    def put(self, request):
        return Response("written, though nobody decided who may")


class Profile(APIView):
    action_permissions = {"get": SIGNED_IN}

    def get(self, request):
        return Response("you")


class TokenDoor(APIView):
    action_permissions = {"post": PUBLIC}

    def post(self, request):
        return Response("a token")


def call(view, method: str, user=None) -> int:
    request = getattr(APIRequestFactory(), method)("/")
    if user is not None:
        force_authenticate(request, user)
    return view.as_view()(request).status_code


@pytest.mark.django_db
def test_an_entry_names_the_permissions_an_action_needs(viewer, outsider):
    assert (call(Reports, "get"), call(Reports, "get", outsider), call(Reports, "get", viewer)) == (401, 403, 200)


@pytest.mark.django_db
def test_signed_in_admits_any_role_and_public_anyone(outsider):
    assert (call(Profile, "get"), call(Profile, "get", outsider), call(TokenDoor, "post")) == (401, 200, 200)


@pytest.mark.django_db
def test_an_action_without_an_entry_is_refused_to_everyone(admin):
    assert (call(Reports, "put"), call(Reports, "put", admin)) == (401, 403)


@pytest.mark.django_db
def test_a_method_the_route_does_not_serve_is_405_to_whoever_the_route_is_open_to(viewer):
    assert (call(Reports, "delete"), call(Reports, "delete", viewer), call(TokenDoor, "get")) == (401, 405, 405)


@pytest.mark.django_db
def test_a_route_is_described_to_whoever_may_call_one_of_its_actions(viewer, outsider):
    assert (call(Reports, "options", outsider), call(Reports, "options", viewer)) == (403, 200)
