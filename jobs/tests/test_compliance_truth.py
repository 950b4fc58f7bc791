"""Compliance that stays true: a scan says when later work made it outdated, a live re-encryption ends with a scan
that verifies it, a scan still counting shows no share of nothing, and the Jobs list grades scans.

Jobs run in-process (the `queued` fixture of conftest.py) against localcloud over HTTP.
"""

import pytest
from django.urls import reverse

from buckets.models import Bucket
from buckets.services.buckets import refresh_buckets, set_default_encryption
from buckets.services.objects import change_object_encryption
from cloud.oss import EncryptionRule, OssClient
from cloud.sse import parse
from console.testing.cloud import new_bucket
from console.testing.jobs import fill
from jobs import selectors
from jobs.models import Job
from jobs.services import jobs as services

OBJECTS = 10  # fill() cycles through 5 states, 2 objects each; unencrypted ones take the default AES256: 4 comply


@pytest.fixture
def logs(cloud_connection, queued):
    bucket = new_bucket(cloud_connection, "demo-logs", EncryptionRule("AES256"))
    Bucket.objects.filter(pk=bucket.pk).update(sse_method="oss", sse_algorithm="AES256", sse_label="OSS-managed AES256")
    fill(bucket, OBJECTS)
    return Bucket.objects.get(pk=bucket.pk)


def run(queued, bucket, operator, **spec) -> Job:
    job = services.create_job(
        actor=operator, connection=bucket.connection, bucket=bucket.name, spec=services.Spec(**spec)
    )
    queued()
    return Job.objects.get(pk=job.pk)


def scan(queued, bucket, operator) -> Job:
    return run(queued, bucket, operator, kind=Job.SCAN, select=Job.SELECT_ALL)


def latest_of(bucket) -> selectors.ScanSummary:
    [summary] = [summary for summary in selectors.latest_scans() if summary.job.bucket == bucket.name]
    return summary


def test_a_re_encryption_outdates_the_scan_before_it_and_its_verification_scan_becomes_the_record(
    logs, queued, operator, client_as
):
    before = scan(queued, logs, operator)
    assert selectors.summarise_scan(before).compliant_objects == 4

    job = services.create_job(actor=operator, connection=logs.connection, bucket=logs.name, spec=services.Spec())
    outdated = selectors.summarise_scan(before).outdated_by
    assert outdated == (f"re-encryption #{job.pk} is running on this bucket",)

    queued()  # the job, then the verification scan it queued at its end
    job = Job.objects.get(pk=job.pk)
    assert job.state == Job.COMPLETED and selectors.progress(job).count("reencrypted") == 6
    assert selectors.summarise_scan(before).outdated_by == (f"job #{job.pk} re-encrypted 6 objects since",)
    [verification] = job.verifications.all()
    assert verification.kind == Job.SCAN and verification.state == Job.COMPLETED
    assert verification.resolved_label == "OSS-managed AES256"

    record = latest_of(logs)
    assert record.job == verification and record.outdated_by == ()
    assert (record.compliant_objects, record.objects) == (OBJECTS, OBJECTS)
    for state in selectors.summarise_scan(verification).states:
        assert state[0] == "OSS-managed AES256"  # seen through oss2 HEADs by the scan itself
    page = client_as(operator).get(reverse("jobs:job_detail", args=[before.pk])).content.decode()
    assert "outdated" in page and f"job #{job.pk} re-encrypted 6 objects since" in page


def test_the_pages_say_outdated_until_a_scan_tells_the_truth_again(logs, queued, operator, client_as):
    before = scan(queued, logs, operator)
    run(queued, logs, operator, verify=False)
    client = client_as(operator)

    for url in ("/", reverse("jobs:compliance"), reverse("buckets:bucket_detail", args=[logs.pk])):
        page = client.get(url).content.decode()
        assert "outdated" in page and "re-encrypted 6 objects since" in page, url
    assert latest_of(logs).job == before

    after = scan(queued, logs, operator)
    assert latest_of(logs).job == after and latest_of(logs).outdated_by == ()
    assert "outdated" not in client.get(reverse("jobs:compliance")).content.decode()


def test_a_dry_run_or_a_job_that_changed_nothing_leaves_the_scan_current(logs, queued, operator):
    run(queued, logs, operator, verify=False)
    current = scan(queued, logs, operator)
    run(queued, logs, operator, verify=False)  # everything is compliant already: nothing re-encrypted
    dry = services.create_job(
        actor=operator, connection=logs.connection, bucket=logs.name, spec=services.Spec(), dry_run=True
    )
    queued()

    assert selectors.summarise_scan(current).outdated_by == ()
    assert not Job.objects.get(pk=dry.pk).verifications.exists()


def test_a_change_of_the_default_encryption_outdates_the_scan_whoever_made_it(logs, queued, operator):
    current = scan(queued, logs, operator)

    set_default_encryption(logs, parse("oss", "SM4"), operator)

    assert selectors.summarise_scan(current).outdated_by == ("the default encryption changed to OSS-managed SM4 since",)
    later = scan(queued, logs, operator)
    OssClient(logs.connection).put_encryption(logs.name, EncryptionRule("AES256"))  # outside the console
    assert selectors.summarise_scan(later).outdated_by == ()  # the console has not looked yet
    refresh_buckets(logs.connection)
    assert selectors.summarise_scan(later).outdated_by == (
        "the default encryption changed to OSS-managed AES256 since",
    )


def test_an_object_changed_by_hand_outdates_the_scan(logs, queued, operator):
    current = scan(queued, logs, operator)

    change_object_encryption(logs, "data/object-0000.csv", parse("oss", "AES256"), operator)

    assert selectors.summarise_scan(current).outdated_by == ("1 object changed encryption by hand since",)


def test_a_scan_still_counting_shows_counting_and_never_a_share_of_nothing(logs, operator, client_as, api_as):
    counting = services.create_job(
        actor=operator, connection=logs.connection, bucket=logs.name, spec=services.Spec(kind=Job.SCAN)
    )

    page = client_as(operator).get(reverse("jobs:job_detail", args=[counting.pk])).content.decode()
    listed = client_as(operator).get(reverse("jobs:job_list")).content.decode()
    summary = api_as(operator).get(f"/api/v1/jobs/{counting.pk}/").json()["summary"]

    result = page[page.index('id="result-heading"') :].split("</section>")[0]
    assert "counting…" in result and "%" not in result
    assert "counting…" in listed
    assert summary["counting"] is True and summary["compliant_percent"] is None and summary["objects"] == 0


def test_the_jobs_list_grades_each_scan_by_its_compliance(logs, queued, operator, client_as):
    poor = scan(queued, logs, operator)

    listed = client_as(operator).get(reverse("jobs:job_list")).content.decode()

    row = listed[listed.index(f">#{poor.pk}<") :]
    row = row[: row.index("</tr>")]
    assert '<span class="badge bad">40.0%</span>' in row and "compliant" in row


def test_the_verification_scan_looks_at_exactly_what_the_job_worked_on(logs, queued, operator):
    fill(logs, 3, prefix="other/")
    job = run(queued, logs, operator, prefixes=("data/",), min_size=10)

    [verification] = job.verifications.all()
    summary = selectors.summarise_scan(verification)
    assert verification.prefixes == ["data/"] and verification.min_size == 10
    assert verification.select == Job.SELECT_ALL and not verification.verify
    assert summary.objects == OBJECTS - 1  # object-0000 holds 6 bytes, below the job's minimum size
