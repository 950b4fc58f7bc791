"""Choices the console would refuse are shown disabled with the reason, never offered and then refused."""

import re

import pytest
from django.urls import reverse

from buckets.models import Bucket
from cloud.oss import EncryptionRule
from console.testing.cloud import new_bucket
from console.testing.jobs import job_form
from jobs.models import Job
from jobs.services.jobs import NO_DECRYPTION_UNDER_A_DEFAULT

NO_ENCRYPTION_RADIO = r'name="target-method" value="none"[^>]*'


@pytest.fixture
def defaulted(cloud_connection):
    bucket = new_bucket(cloud_connection, "defaulted", EncryptionRule("AES256"))
    Bucket.objects.filter(pk=bucket.pk).update(sse_method="oss", sse_algorithm="AES256", sse_label="OSS-managed AES256")
    return Bucket.objects.get(pk=bucket.pk)


def test_a_re_encryption_of_a_bucket_with_a_default_shows_no_encryption_disabled_with_the_reason(
    client_as, operator, defaulted
):
    where = {"connection": defaulted.connection_id, "bucket": defaulted.name}
    client = client_as(operator)

    job_page = client.get(reverse("jobs:job_new"), where).content.decode()
    scan_page = client.get(reverse("jobs:scan_new"), where).content.decode()

    assert re.search(NO_ENCRYPTION_RADIO + "disabled", job_page)
    assert f"(not available: {NO_DECRYPTION_UNDER_A_DEFAULT})" in job_page
    assert not re.search(NO_ENCRYPTION_RADIO + "disabled", scan_page)  # a scan may look for unencrypted objects


def test_a_forged_post_of_the_disabled_choice_gets_the_same_reason_and_starts_nothing(client_as, operator, defaulted):
    refused = client_as(operator).post(reverse("jobs:job_new"), job_form(defaulted, **{"target-method": "none"}))

    assert NO_DECRYPTION_UNDER_A_DEFAULT in refused.content.decode()
    assert not Job.objects.exists()
