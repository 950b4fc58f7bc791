"""The rules of jobs that every door (pages, API, command, schedules) shares, each pinned once, without the cloud."""

import pytest

from audit.models import AuditEvent
from buckets.models import Connection
from cloud.errors import Conflict, ServiceError
from jobs.models import Job
from jobs.services import jobs as services


@pytest.fixture
def finished_job(db):
    connection = Connection.objects.create(
        name="offline", oss_endpoint="https://oss-cn-hangzhou.aliyuncs.com", region="cn-hangzhou"
    )
    return Job.objects.create(connection=connection, bucket="ledger", state=Job.COMPLETED, copy_threshold=1 << 30)


@pytest.mark.parametrize(
    "state, can_pause, can_resume, can_cancel",
    [
        (Job.PENDING, True, False, True),
        (Job.RUNNING, True, False, True),
        (Job.PAUSED, False, True, True),
        (Job.CANCELLING, False, False, False),
        (Job.CANCELLED, False, False, False),
        (Job.COMPLETED, False, False, False),
        (Job.COMPLETED_WITH_ERRORS, False, False, False),
        (Job.FAILED, False, False, False),
    ],
)
def test_a_job_is_paused_resumed_or_cancelled_only_from_the_states_that_allow_it(
    state, can_pause, can_resume, can_cancel
):
    job = Job(state=state)

    assert (job.can_pause, job.can_resume, job.can_cancel) == (can_pause, can_resume, can_cancel)


def test_a_refused_state_change_is_audited_and_changes_nothing(finished_job, operator):
    with pytest.raises(Conflict, match="cannot be paused"):
        services.pause_job(finished_job, operator)

    refusal = AuditEvent.objects.get(action="job.pause")
    assert refusal.outcome == AuditEvent.FAILURE and refusal.target == f"job:{finished_job.pk}"
    assert refusal.actor == operator and "cannot be paused" in refusal.error
    finished_job.refresh_from_db()
    assert finished_job.state == Job.COMPLETED


TWENTY = [f"part-{index:02d}/" for index in range(services.MAX_PREFIXES)]


@pytest.mark.parametrize(
    "given, normalised",
    [
        ([], ()),
        (["", "  ", "\t"], ()),
        ([" logs/ ", "", "data/"], ("data/", "logs/")),
        (["logs/", "logs/", " logs/"], ("logs/",)),
        (["logs/2024/", "logs/", "logs/2025/", "logsarchive/"], ("logs/", "logsarchive/")),
        ([*TWENTY, "part-00/", ""], tuple(TWENTY)),
    ],
)
def test_prefixes_are_trimmed_kept_once_and_never_one_inside_another(given, normalised):
    assert services.normalise_prefixes(given) == normalised


@pytest.mark.parametrize(
    "given, refusal",
    [
        ([*TWENTY, "part-20/"], "At most 20 prefixes"),
        (["/logs/"], "no leading '/'"),
        (["é" * 512], "at most 1023 bytes"),
    ],
)
def test_too_many_prefixes_or_one_no_key_can_start_with_are_refused(given, refusal):
    with pytest.raises(ServiceError, match=refusal):
        services.normalise_prefixes(given)
