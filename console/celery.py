"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app's tasks.py."""

import os

from celery import Celery, signals
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add("console.worker_presence:WorkerPresence")


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_to_start_if_exposed(**kwargs):
    """Workers and beat refuse to start on an exposed var/ as `manage.py` commands do (console/checks.py).

    Celery logs and ignores exceptions of signal handlers; SystemExit is the one that stops the process.
    """
    from console import checks

    try:
        checks.refuse_to_start_if_exposed()
    except ImproperlyConfigured as error:
        raise SystemExit(str(error)) from None
