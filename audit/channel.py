"""Through which door a change came in (UI, API, command, task), without passing it through every call."""

import contextvars
from contextlib import contextmanager

UI, API, COMMAND, TASK, SYSTEM = "ui", "api", "command", "task", "system"
CHOICES = [(UI, "Web UI"), (API, "REST API"), (COMMAND, "Command"), (TASK, "Task"), (SYSTEM, "System")]

_current = contextvars.ContextVar("audit_channel", default=SYSTEM)


def current() -> str:
    return _current.get()


@contextmanager
def entered_through(channel: str):
    token = _current.set(channel)
    try:
        yield
    finally:
        _current.reset(token)


class ChannelMiddleware:
    """Requests under /api/ are API calls; every other request is the web UI."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with entered_through(API if request.path_info.startswith("/api/") else UI):
            return self.get_response(request)
