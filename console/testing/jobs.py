"""Test helpers for jobs: a bucket of objects in mixed states, a named key, waits on a job, a schedule's next period."""

from buckets.models import Bucket
from cloud.oss import OssClient
from console.testing import cloud
from console.testing.waits import wait_until
from jobs.engine.object_worker import ACL_CLOCK_MARGIN
from jobs.models import Job, Schedule

# What every object of the mixed bucket carries, and must still carry after any job.
KEPT_HEADERS = {
    "Content-Type": "text/csv",
    "Content-Disposition": 'attachment; filename="report.csv"',
    "Cache-Control": "max-age=60",
    "x-oss-meta-owner": "finance",
    "x-oss-tagging": "team=data&tier=gold",
}
MIXED_STATES = [
    {},
    {"x-oss-server-side-encryption": "AES256"},
    {"x-oss-server-side-encryption": "SM4"},
    {"x-oss-server-side-encryption": "KMS"},
    {"x-oss-server-side-encryption": "KMS", "x-oss-server-side-data-encryption": "SM4"},
]


def named_key(connection, alias: str = "alias/jobs") -> str:
    return cloud.named_key(connection, alias)


def fill(bucket: Bucket, count: int, prefix: str = "data/", acl: str = "public-read", storage_class: str = "IA"):
    """`count` objects cycling through the mixed states, each with content headers, metadata, tags, ACL, class."""
    oss = OssClient(bucket.connection)
    keys = []
    for index in range(count):
        key = f"{prefix}object-{index:04d}.csv"
        headers = {
            **KEPT_HEADERS,
            **MIXED_STATES[index % len(MIXED_STATES)],
            "x-oss-object-acl": acl,
            "x-oss-storage-class": storage_class,
        }
        oss.put_object(bucket.name, key, f"row,{index}\n".encode() * (index + 1), headers)
        keys.append(key)
    return keys


def old_enough(connection, bucket: str, key: str) -> None:
    """Wait until an ACL read is known to come after the object's last write (OSS dates whole seconds), so a job
    uses the ACL it reads alongside the HEAD: three requests per object to copy, none read again."""
    oss = OssClient(connection)

    def aged() -> bool:
        served = oss.object_acl_served(bucket, key).served_at
        return served - oss.head_object(bucket, key).last_modified >= ACL_CLOCK_MARGIN

    wait_until(aged, message=f"{key} to be older than the ACL read margin", interval=0.25)


def next_period(schedule: Schedule) -> None:
    """As when the schedule's next period has come: beat's next firing of it starts a run again."""
    from django.utils import timezone

    Schedule.objects.filter(pk=schedule.pk).update(fired_until=timezone.now())


def wait_for(job: Job, states=Job.FINISHED_STATES, timeout: float = 60.0) -> Job:
    """The job, refreshed, once it reached one of `states` (by default: once it finished, its report's manifest
    written or its failure noted, as the worker that ends a job writes it just after)."""

    def reached() -> bool:
        job.refresh_from_db()
        if job.state in Job.FINISHED_STATES and job.report_bucket and not (job.report_written_at or job.report_error):
            return False
        return job.state in states

    wait_until(reached, timeout=timeout, message=f"job {job.pk} to be {' or '.join(states)}", observe=lambda: job.state)
    return job


def settled(job: Job) -> bool:
    """No page of the job is being worked on (after a pause: every object started is done and noted)."""
    from jobs.models import JobPage

    return not job.pages.filter(state=JobPage.RUNNING).exists()


def job_form(bucket, /, **changes):
    """The re-encryption form as a browser posts it: explicit OSS-managed SM4, no caps; `changes` override."""
    data = {
        "connection": bucket.connection_id,
        "bucket": bucket.name,
        "prefixes": "",
        "select": "not-matching",
        "select_key_id": "",
        "select_algorithm": "",
        "min_size": "",
        "max_size": "",
        "target_mode": "explicit",
        "target-method": "oss",
        "target-algorithm": "SM4",
        "target-key_id": "",
        "concurrency": "4",
        "requests_per_second": "0",
        "kms_per_second": "0",
        "run": "start",
    }
    return {**data, **changes}


def schedule_form(bucket, /, **changes):
    """The schedule form as a browser posts it: a nightly crontab re-encryption of logs/; `changes` override."""
    data = job_form(bucket, name="Nightly logs", schedule_kind="reencrypt", select="unencrypted", prefixes="logs/")
    data |= {"frequency": "crontab", "crontab": "0 2 * * *", "interval_minutes": "", "enabled": "on"}
    data |= {"scope": "bucket", "bucket_pattern": "", "timezone": "UTC", "at_time": "", "weekday": "1", "month_day": ""}
    data.pop("run")
    return {**data, **changes}


def job_to(connection, key_id: str, bucket: str, **fields) -> Job:
    """A job to a named CMK as object_worker.process takes it, for one object at a time: no caps, unsaved."""
    return Job(
        connection=connection,
        bucket=bucket,
        requests_per_second=0,
        kms_per_second=0,
        copy_threshold=1024**3,
        resolved_method="kms",
        resolved_algorithm="AES256",
        resolved_key_id=key_id,
        **fields,
    )
