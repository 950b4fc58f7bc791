"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app's tasks.py."""

import os

from celery import Celery, signals

from console.startup import StartRefused

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add("console.worker_presence:WorkerPresence")


@app.on_configure.connect
def refuse_to_start_on_settings(**kwargs):
    """Load the settings while Celery first reads its configuration, so that a refusal in them (console.startup)
    stops the worker or beat with its message alone rather than a traceback from deep in Celery."""
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings
    except StartRefused as refusal:
        raise SystemExit(str(refusal)) from None


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_to_start(**kwargs):
    """Workers and beat refuse to start on the start checks' errors as `manage.py` commands do (console/checks.py).

    Celery logs and ignores exceptions of signal handlers; SystemExit is the one that stops the process.
    """
    from console import checks

    try:
        checks.refuse_to_start()
    except StartRefused as refusal:
        raise SystemExit(str(refusal)) from None


@signals.worker_ready.connect
def scan_the_demo_once(**kwargs):
    """Under `make up` (DEMO_FIRST_SCAN), the demo's versioned bucket is scanned once the first worker is ready."""
    from django.conf import settings

    if settings.DEMO_FIRST_SCAN:
        app.send_task("jobs.demo_first_scan", countdown=2)
