"""Pytest plugin: the `queued` fixture runs jobs in-process, as a worker would, without a broker.

The tasks services enqueue (listing pages, the counting pass, a sweep's next turn) are kept instead of sent, and
`queued()` works through them with the functions a worker's task calls, until nothing is left. The fixture keeps
pages small (4 objects) so that a few objects make several pages.
"""

import pytest

from cloud.errors import ServiceError
from jobs import tasks
from jobs.engine import page_worker
from jobs.services import jobs as services
from jobs.services import sweeps


@pytest.fixture
def queued(monkeypatch, settings):
    settings.JOBS_PAGE_SIZE = 4
    calls = []
    monkeypatch.setattr(tasks.run_page_task, "delay", lambda job_id, number: calls.append(("page", job_id, number)))
    monkeypatch.setattr(tasks.count_objects_task, "delay", lambda job_id: calls.append(("count", job_id, None)))
    monkeypatch.setattr(tasks.advance_sweep_task, "delay", lambda sweep_id: calls.append(("sweep", sweep_id, None)))

    def drain():
        while calls:
            kind, pk, number = calls.pop(0)
            if kind == "page":
                page_worker.run_page(pk, number)
            elif kind == "count":
                try:
                    services.count_objects(pk)
                except ServiceError:
                    pass  # as in a worker: a failed count leaves the total unknown, the pages say what went wrong
            else:
                sweeps.advance(pk)

    return drain
