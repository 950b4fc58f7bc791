"""A job's state as workers see it between objects: a Redis key the services set, read in microseconds, so
pause and cancel reach every worker within one object. The database stays the record; Redis only mirrors it."""

from jobs.engine import limits
from jobs.models import Job


def _key(job_id: int) -> str:
    return f"console:job:{job_id}:state"


def publish(job: Job) -> None:
    limits.client().set(_key(job.pk), job.state, ex=30 * 24 * 3600)


def state_of(job: Job) -> str:
    value = limits.client().get(_key(job.pk))
    if value is None:
        state = Job.objects.filter(pk=job.pk).values_list("state", flat=True).first() or Job.CANCELLED
        limits.client().set(_key(job.pk), state, ex=30 * 24 * 3600)
        return state
    return value.decode()
