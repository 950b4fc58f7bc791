"""The page benchmark (`python -m bench pages`) times every page of the URLconf, or says why a route is no page."""

from bench import pages


def test_every_route_that_may_answer_get_is_timed_or_explained():
    assert pages.unaccounted_routes() == [], "add these routes to bench/pages.py: PAGES, or NOT_MEASURED with a reason"


def test_the_lists_name_only_routes_that_exist():
    assert pages.unknown_names() == []


def test_a_route_is_unaccounted_once_the_bench_forgets_it(monkeypatch):
    monkeypatch.setattr(pages, "PAGES", [page for page in pages.PAGES if page.url_name != "jobs:compliance"])
    assert pages.unaccounted_routes() == ["jobs:compliance"]


def test_routes_that_refuse_get_need_no_explanation():
    views = dict(pages.urlconf_routes())
    assert not pages.answers_get(views["api-token"])  # an APIView with post only
    assert not pages.answers_get(views["job-pause"])  # a viewset action with post only
    assert pages.answers_get(views["job-list"])
