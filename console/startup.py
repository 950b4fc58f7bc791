"""Refusals to start: a configuration the console must not run with, told to the operator as a plain message.

Every kind of process ends on one the same way, with the message alone: a traceback would only bury it.
manage.py exits with it, Celery (console/celery.py) raises SystemExit, and gunicorn is stopped by
`stop_wsgi_server` (console/wsgi.py).
"""

from django.core.exceptions import ImproperlyConfigured


class StartRefused(ImproperlyConfigured):
    """The console cannot start as configured; the message says why and how to fix it, never a secret."""


def stop_wsgi_server(refusal: StartRefused):
    """gunicorn prints an AppImportError's message alone and halts the whole server; any other exception in a
    worker is logged with its traceback, and a worker that exits by itself is started again, forever."""
    from gunicorn.errors import AppImportError

    raise AppImportError(str(refusal)) from None
