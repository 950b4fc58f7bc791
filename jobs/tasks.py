"""Celery tasks: thin wrappers around the engine and the services (acks late: a dead worker's task runs again)."""

from celery import shared_task
from django_celery_beat.models import PeriodicTask

from cloud.errors import ServiceError
from jobs.engine import page_worker
from jobs.models import Job, Schedule
from jobs.services import demo, schedules, sweeps
from jobs.services import jobs as services


@shared_task(name="jobs.run_page", acks_late=True)
def run_page_task(job_id: int, number: int) -> None:
    page_worker.run_page(job_id, number)


@shared_task(name="jobs.count_objects", acks_late=True)
def count_objects_task(job_id: int) -> None:
    if Job.objects.filter(pk=job_id).exists():  # a job deleted with its connection needs no count
        services.count_objects(job_id)


@shared_task(name="jobs.recover_stalled")
def recover_stalled_task() -> int:
    recovered = page_worker.recover_stalled()
    services.write_missing_manifests()
    sweeps.advance_all()
    return recovered


@shared_task(name="jobs.advance_sweep")
def advance_sweep_task(sweep_id: int) -> int:
    return sweeps.advance(sweep_id)


@shared_task(name="jobs.run_schedule")
def run_schedule_task(schedule_id: int) -> None:
    if not Schedule.objects.filter(pk=schedule_id).exists():
        # Deleted with its connection: its beat entry goes too, so beat stops firing it.
        PeriodicTask.objects.filter(name=f"schedule:{schedule_id}", task="jobs.run_schedule").delete()
        return
    schedules.run_schedule(schedule_id)


@shared_task(name="jobs.demo_first_scan", autoretry_for=(ServiceError,), retry_backoff=2, max_retries=8)
def demo_first_scan_task() -> int | None:
    """Sent once a worker is ready under `make up`: localcloud may still be starting, so a refusal is retried."""
    job = demo.start_first_scan()
    return job.pk if job else None
