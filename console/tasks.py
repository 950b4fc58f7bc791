from celery import shared_task

from console import health


@shared_task(name="console.tasks.heartbeat")
def heartbeat() -> None:
    """Scheduled by beat and run by a worker: proves the whole scheduling path is alive."""
    health.record_heartbeat()
