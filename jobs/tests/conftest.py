import pytest

from jobs import tasks
from jobs.engine import page_worker
from jobs.services import jobs as services


@pytest.fixture
def queued(monkeypatch, settings):
    """The tasks services enqueue, kept instead of sent to a broker; `drain()` works them as a worker would."""
    settings.JOBS_PAGE_SIZE = 4
    calls = []
    monkeypatch.setattr(tasks.run_page_task, "delay", lambda job_id, number: calls.append((job_id, number)))
    monkeypatch.setattr(tasks.count_objects_task, "delay", lambda job_id: calls.append((job_id, None)))

    def drain():
        while calls:
            job_id, number = calls.pop(0)
            if number is None:
                services.count_objects(job_id)
            else:
                page_worker.run_page(job_id, number)

    return drain
