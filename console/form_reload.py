"""Forms sent back by GET to be shown again for another connection (its "Use this connection" button)."""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect

# The name of the "Use this connection" button, and of the parameter static/js/connection-form.js sends instead.
RELOAD_PARAMETER = "use_connection"


def is_reload(query) -> bool:
    """Whether a GET carries a whole form sent back to be shown for its connection (not a prefill link)."""
    return RELOAD_PARAMETER in query


def without_csrf_token(request) -> HttpResponseRedirect | None:
    """A form sent back by the "Use this connection" GET button carries its CSRF token: the same URL without it."""
    if request.method != "GET" or "csrfmiddlewaretoken" not in request.GET:
        return None
    query = [(name, value) for name, value in request.GET.lists() if name != "csrfmiddlewaretoken"]
    return HttpResponseRedirect(f"{request.path}?{urlencode(query, doseq=True)}")
