"""Fuzzes the REST API over HTTP from the schema it serves: whatever a client sends, no operation answers 5xx.

Each operation gets its own Hypothesis run of valid and invalid requests, reported as a subtest. Schemathesis's
`from_fixture` pytest loader would do this loop, but it reads `Node._nodeid`, which pytest 9.2 removed.
"""

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from accounts.services import issue_api_token

# Bounds the run: a few requests per operation keep the whole API well under a minute on two cores.
EXAMPLES_PER_OPERATION = 10
# A local answer takes milliseconds; these only stop one hung request from stalling the suite.
EXAMPLE_DEADLINE = timedelta(seconds=5)
REQUEST_TIMEOUT_SECONDS = 5


@pytest.fixture
def admin_headers(admin):
    """Write operations run too: the test database is thrown away."""
    return {"Authorization": f"Token {issue_api_token(actor=admin, user=admin).key}"}


@pytest.fixture
def real_resources(cloud_connection):
    """Path ids of a real connection and bucket on localcloud, so random bodies and queries reach the cloud code."""
    from django.utils import timezone

    from buckets.models import Bucket
    from cloud.oss import OssClient

    OssClient(cloud_connection).create_bucket("fuzzed")
    bucket = Bucket.objects.create(
        connection=cloud_connection, name="fuzzed", region=cloud_connection.region, refreshed_at=timezone.now()
    )
    from jobs.services import jobs as services
    from jobs.services import schedules

    spec = services.Spec(kind="scan", select="all")
    job = services.create_job(actor=None, connection=cloud_connection, bucket="fuzzed", spec=spec)
    schedule = schedules.save_schedule(
        actor=None, connection=cloud_connection, bucket="fuzzed", name="fuzzed", spec=spec, crontab="0 2 * * *"
    )
    return {
        "/api/v1/buckets/": bucket.pk,
        "/api/v1/connections/": cloud_connection.pk,
        "/api/v1/jobs/": job.pk,
        "/api/v1/schedules/": schedule.pk,
    }


def pin_known_ids(case, known: dict) -> None:
    """Point a generated path at a real bucket, or for reads and tests at the real connection (not for writes:
    a fuzzed endpoint on it would make every later call wait on the network)."""
    for prefix, pk in known.items():
        if not case.path.startswith(prefix) or not case.path_parameters:
            continue
        if prefix == "/api/v1/connections/" and case.method.upper() not in ("GET", "POST"):
            continue
        for name in case.path_parameters:
            if name in ("id", "pk", "bucket_id", "bucket_pk", "connection_id"):
                case.path_parameters[name] = pk


@pytest.fixture
def api_schema(live_server, admin_headers):
    return schemathesis.openapi.from_url(
        f"{live_server.url}/api/v1/schema/?format=json", headers=admin_headers, timeout=REQUEST_TIMEOUT_SECONDS
    )


def operations(schema):
    for methods in schema.values():
        yield from methods.values()


def valid_and_invalid_requests(operation):
    return st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))


def fuzz(operation, *, base_url: str, headers: dict, known: dict) -> None:
    # No example database: each run explores afresh; a failure prints the seed that replays it.
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=EXAMPLE_DEADLINE, database=None)
    @given(case=valid_and_invalid_requests(operation))
    def answers_without_a_server_error(case):
        pin_known_ids(case, known)
        # No shared session on purpose: on a kept-alive connection Django's test server stalls ~40 ms per request
        # (Nagle meets delayed ACK), where a fresh connection takes about 3 ms.
        case.call_and_validate(
            base_url=base_url, headers=headers, checks=[not_a_server_error], timeout=REQUEST_TIMEOUT_SECONDS
        )

    answers_without_a_server_error()


@pytest.mark.slow
def test_no_operation_answers_a_server_error(api_schema, live_server, admin_headers, real_resources, subtests):
    for operation in operations(api_schema):
        with subtests.test(operation.label):
            fuzz(operation, base_url=live_server.url, headers=admin_headers, known=real_resources)
