"""The console across hosts that share only PostgreSQL, Redis, the cloud and the secrets (issue 17, docs/deployment.md).

Hosts on this machine, each with its own var dir (console.testing.multihost), started as the deployment guide runs
them: web on A from the Procfile with honcho, a second web A2 from the systemd unit, a worker and a beat on B from
the Procfile, a worker and a beat on C from the units, and localcloud as the team's shared service from its unit.
Everything is done over HTTP as a user would, and checked in the cloud through oss2.

One test starts the hosts once and runs the scenarios in order, one function each (a test per scenario would let
pytest-xdist start a cluster in each of its processes): jobs run on B and on C, a job outliving a killed worker,
a session carried from one web host to another, a large client-side encrypted upload posted to A and finished by
a worker on B or C, a schedule firing exactly once per period while B's and C's beats both run and after the one
firing is killed, and every web host's health report.
"""

import os
import re
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import oss2
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from django.conf import settings

from console.testing import multihost
from console.testing.multihost import ApiClient, Cluster, ConsoleUser, Host, HostProcess
from console.testing.waits import wait_until

pytestmark = [
    pytest.mark.slow,
    # The hosts share a database of their own on the PostgreSQL server; the run of the suite on PostgreSQL
    # (DATABASE_URL=postgres://…, as CI's second run) runs them, so a CI run starts the cluster once, not twice.
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="runs with the suite on PostgreSQL (DATABASE_URL=postgres://…), as CI's second run",
    ),
    pytest.mark.skipif(
        not multihost.postgres_reachable(),
        reason="hosts share a PostgreSQL database, and none answers on 127.0.0.1:5432 (CI has one)",
    ),
]

ADMIN, ADMIN_PASSWORD = "admin", f"Multi-host-{secrets.token_hex(6)}"
REGION = "cn-hangzhou"
PAGE_TASK_TAKEN = r"Task jobs\.run_page\[[0-9a-f-]+\] received"
PAGE_TASK_DONE = r"Task jobs\.run_page\[[0-9a-f-]+\] succeeded"
UPLOAD_TASK_DONE = r"Task encryption\.upload_client_side\[[0-9a-f-]+\] succeeded"
# The least threshold the console accepts (its least part size, 100 KiB): a file of a few hundred KiB goes in parts.
CSE_MULTIPART_THRESHOLD = 100 * 1024
BEAT_LEASE_SECONDS = 5
# Small pages, short leases and a fast recovery, so a job spreads over the workers and outlives a killed one
# quickly; small files already sent in parts; a short beat lease, so a standby beat takes over from a killed one soon.
CONSOLE_SETTINGS = {
    "LOCALCLOUD_ENABLED": 0,
    "LOG_LEVEL": "INFO",
    "WEB_WORKERS": 1,
    "WORKER_CONCURRENCY": 2,
    "JOBS_PAGE_SIZE": 10,
    "JOBS_PAGE_LEASE_SECONDS": 4,
    "JOBS_RECOVERY_INTERVAL_SECONDS": 2,
    "HEARTBEAT_INTERVAL_SECONDS": 5,
    "CSE_MULTIPART_THRESHOLD_BYTES": CSE_MULTIPART_THRESHOLD,
    "CONSOLE_BEAT_LEASE_SECONDS": BEAT_LEASE_SECONDS,
}


@dataclass
class Team:
    cluster: Cluster
    a: Host
    a2: Host
    b: Host
    c: Host
    cloud_endpoint: str
    access_key_id: str
    access_key_secret: str
    web_a: HostProcess
    web_a2: HostProcess
    worker_b: HostProcess
    worker_c: HostProcess
    beat_b: HostProcess
    beat_c: HostProcess

    def cloud_bucket(self, name: str) -> oss2.Bucket:
        return oss2.Bucket(self.cloud_auth(), self.cloud_endpoint, name)

    def cloud_auth(self) -> oss2.Auth:
        return oss2.Auth(self.access_key_id, self.access_key_secret)


@contextmanager
def started_team() -> Iterator[Team]:
    with Cluster.started() as cluster:
        access_key_id, access_key_secret = f"LTAImultihost{secrets.token_hex(4)}", secrets.token_urlsafe(24)
        cloud_port = multihost.free_port()
        cloud = cluster.host(
            "cloud",
            LOCALCLOUD_HOST="127.0.0.1",
            LOCALCLOUD_PORT=cloud_port,
            LOCALCLOUD_ACCESS_KEY_ID=access_key_id,
            LOCALCLOUD_ACCESS_KEY_SECRET=access_key_secret,
            # Each answer takes a little while, as over a network, so a job lasts long enough to lose a worker.
            LOCALCLOUD_LATENCY_MS=30,
        )
        a, a2, b, c = (cluster.host(name, **CONSOLE_SETTINGS) for name in ("a", "a2", "b", "c"))
        a.run_procfile("release", {"CONSOLE_ADMIN_USER": ADMIN, "CONSOLE_ADMIN_PASSWORD": ADMIN_PASSWORD})
        localcloud = cloud.start_unit("localcloud.service")
        web_a = a.start_procfile("web")
        worker_b, beat_b = b.start_procfile("worker"), b.start_procfile("beat")
        worker_c, beat_c = c.start_unit("console-worker.service"), c.start_unit("console-beat.service")
        web_a2 = a2.start_unit("console-web.service")
        localcloud.wait_for_log(r"localcloud on http://", "serving")
        multihost.wait_for_web(web_a, a)
        multihost.wait_for_web(web_a2, a2)
        for worker in (worker_b, worker_c):
            multihost.wait_for_celery_worker(worker)
        for beat in (beat_b, beat_c):
            multihost.wait_for_beat(beat)
        endpoint = f"http://127.0.0.1:{cloud_port}"
        yield Team(
            cluster, a, a2, b, c, endpoint, access_key_id, access_key_secret,
            web_a, web_a2, worker_b, worker_c, beat_b, beat_c,
        )  # fmt: skip


def test_hosts_sharing_only_postgresql_redis_the_cloud_and_the_secrets():
    with started_team() as team:
        admin_on_a = ConsoleUser(team.a.web_url)
        admin_on_a.log_in(ADMIN, ADMIN_PASSWORD)
        api_on_a = admin_on_a.api_token(ADMIN, ADMIN_PASSWORD)
        connection = connection_added_on_a(team, admin_on_a)

        a_connection_added_on_a_serves_jobs_run_on_b_and_on_c(team, api_on_a, connection)
        a_job_spread_over_b_and_c_completes_after_c_is_killed(team, api_on_a, connection)
        a_session_begun_on_one_web_host_goes_on_on_another(team)
        a_large_client_side_encrypted_upload_posted_to_a_is_completed_by_a_worker_on_b_or_c(
            team, admin_on_a, api_on_a, connection
        )
        a_schedule_fires_once_per_period_with_two_beats_and_after_the_firing_one_is_killed(
            team, admin_on_a, api_on_a, connection
        )
        every_web_host_reports_the_shared_parts_healthy(team)


def connection_added_on_a(team: Team, admin_on_a: ConsoleUser) -> int:
    """A connection added through A's form: its AccessKey secret is sealed by A under the shared root key."""
    form = {
        "name": "team localcloud",
        "oss_endpoint": team.cloud_endpoint,
        "region": REGION,
        "access_key_id": team.access_key_id,
        "access_key_secret": team.access_key_secret,
        "sts_token": "",
        "kms_endpoint": "",
        "form_token": "",
    }
    admin_on_a.get("/connections/new/")
    answer = admin_on_a.post_form("/connections/new/", form)
    assert answer.status_code == 302, answer.text[-2000:]
    return int(re.fullmatch(r"/connections/(\d+)/", answer.headers["Location"])[1])


def filled_bucket(team: Team, name: str, count: int) -> dict[str, bytes]:
    """A new bucket in the cloud with `count` unencrypted objects, written through oss2; key -> content."""
    bucket = team.cloud_bucket(name)
    bucket.create_bucket()
    contents = {f"data/object-{index:04d}.csv": f"row,{index}\n".encode() * (index + 1) for index in range(count)}
    with ThreadPoolExecutor(oss2.defaults.connection_pool_size) as pool:
        list(pool.map(lambda item: bucket.put_object(*item), contents.items()))
    return contents


def finished(api: ApiClient, job_id: int, timeout: float = 120.0) -> dict:
    def done():
        job = api.get(f"/api/v1/jobs/{job_id}/")
        return job if job["state"] in ("completed", "completed_with_errors", "failed", "cancelled") else None

    return wait_until(done, message=f"job {job_id} to finish", timeout=timeout, interval=0.5)


def start_job(api: ApiClient, connection: int, bucket: str, **spec) -> int:
    api.get(f"/api/v1/buckets/?refresh=true&connection={connection}")
    return api.post("/api/v1/jobs/", {"connection": connection, "bucket": bucket, **spec})["id"]


def a_connection_added_on_a_serves_jobs_run_on_b_and_on_c(team: Team, api_on_a: ApiClient, connection: int):
    """A scan with only B's worker running, then one with only C's: each host opens the secret A sealed."""
    filled_bucket(team, "team-scan", 25)
    for working, resting in (("worker_b", "worker_c"), ("worker_c", "worker_b")):
        getattr(team, resting).stop()
        worker = getattr(team, working)
        since = worker.log_offset()
        try:
            job = finished(api_on_a, start_job(api_on_a, connection, "team-scan", kind="scan"))
        finally:
            restarted = getattr(team, resting).start_again()
            setattr(team, resting, restarted)
            multihost.wait_for_celery_worker(restarted)

        assert job["state"] == "completed", job
        assert job["progress"]["objects_done"] == 25
        assert worker.count_in_log(PAGE_TASK_DONE, since) >= 3, f"{worker.name} ran the pages:\n{worker.log_tail()}"


def a_job_spread_over_b_and_c_completes_after_c_is_killed(team: Team, api_on_a: ApiClient, connection: int):
    """A re-encryption whose pages go to both hosts' workers; C's is killed holding one, the job still completes
    (its pages are handed to B once their lease runs out), and every object ends in SM4 with its content, as oss2
    reads it from the cloud."""
    contents = filled_bucket(team, "team-reencrypt", 240)
    worker_b, worker_c = team.worker_b, team.worker_c
    since_b, since_c = worker_b.log_offset(), worker_c.log_offset()
    job_id = start_job(
        api_on_a,
        connection,
        "team-reencrypt",
        target_mode="explicit",
        target_method="oss",
        target_algorithm="SM4",
        concurrency=4,
    )

    def c_did_a_page_and_holds_another() -> bool:
        done = worker_c.count_in_log(PAGE_TASK_DONE, since_c)
        return done >= 1 and worker_c.count_in_log(PAGE_TASK_TAKEN, since_c) > done

    wait_until(c_did_a_page_and_holds_another, message="C's worker to hold a page after doing one", interval=0.05)
    worker_c.kill()
    assert api_on_a.get(f"/api/v1/jobs/{job_id}/")["state"] == "running", "the job ended before C was killed"
    try:
        job = finished(api_on_a, job_id)
    finally:
        team.worker_c = worker_c.start_again()
        multihost.wait_for_celery_worker(team.worker_c)

    assert job["state"] == "completed", job
    outcomes = {name: counted["objects"] for name, counted in job["progress"]["outcomes"].items() if counted["objects"]}
    # An object the killed worker copied without noting it is found already in SM4 when its page runs again.
    assert set(outcomes) <= {"reencrypted", "compliant"} and sum(outcomes.values()) == 240, outcomes
    assert worker_b.count_in_log(PAGE_TASK_DONE, since_b) >= 1, worker_b.log_tail()
    bucket = team.cloud_bucket("team-reencrypt")
    for key, content in contents.items():
        stored = bucket.get_object(key)
        assert stored.headers.get("x-oss-server-side-encryption") == "SM4", key
        assert stored.read() == content, key


def a_session_begun_on_one_web_host_goes_on_on_another(team: Team):
    """Signed in on A, the same cookies open pages on A2 and post a form there; signing out on A2 ends it on A."""
    on_a = ConsoleUser(team.a.web_url)
    on_a.log_in(ADMIN, ADMIN_PASSWORD)
    on_a2 = on_a.at(team.a2.web_url)

    assert on_a.get("/").status_code == 200
    overview_on_a2 = on_a2.get("/")
    assert overview_on_a2.status_code == 200, overview_on_a2.headers.get("Location")
    assert ADMIN in overview_on_a2.text
    assert on_a2.post_form("/accounts/logout/", {}).status_code == 302
    assert on_a.get("/").headers.get("Location", "").startswith("/accounts/login/")


def a_large_client_side_encrypted_upload_posted_to_a_is_completed_by_a_worker_on_b_or_c(
    team: Team, admin_on_a: ConsoleUser, api_on_a: ApiClient, connection: int
):
    """A file above the multipart threshold, posted to A's API with an RSA master key imported there: A's web
    process encrypts and sends its parts, a worker on B or C completes the upload (A runs none), and oss2's
    CryptoBucket, given the same key pair, reads back the bytes sent."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_pair = {
        "private_key": private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode(),
        "public_key": private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode(),
    }
    master_key = api_on_a.post(
        "/api/v1/cse-keys/", {"name": "team ledger", "kind": "rsa", "private_key_pem": key_pair["private_key"]}
    )
    bucket = api_on_a.post("/api/v1/buckets/", {"connection": connection, "name": "team-cse"})["bucket"]
    content = os.urandom(3 * CSE_MULTIPART_THRESHOLD + 12_345)  # four parts, the last one short
    workers = (team.worker_b, team.worker_c)
    since = {worker.name: worker.log_offset() for worker in workers}

    posted = api_on_a.post_files(
        f"/api/v1/buckets/{bucket['id']}/objects/",
        {"key": "ledgers/2026.bin", "cse_master_key": master_key["id"]},
        {"file": ("2026.bin", content)},
    )

    assert posted.status_code == 202, posted.text
    status_url = posted.json()["status_url"]

    def transfer_finished() -> dict | None:
        status = admin_on_a.get(status_url).json()
        return status if status["finished"] else None

    transfer = wait_until(transfer_finished, message=f"the upload {status_url} to finish", timeout=120, interval=0.5)
    assert (transfer["state"], transfer["error"], transfer["bytes_done"]) == ("done", "", len(content)), transfer

    def workers_that_completed_it() -> list[str]:
        return [worker.name for worker in workers if worker.count_in_log(UPLOAD_TASK_DONE, since[worker.name])]

    completed_by = wait_until(
        workers_that_completed_it,
        message="B's or C's worker to log the completing task",
        observe=lambda: "\n".join(worker.log_tail(10) for worker in workers),
    )
    assert len(completed_by) == 1, completed_by
    provider = oss2.RsaProvider(key_pair=key_pair, mat_desc=master_key["matdesc"] or None)
    crypto_bucket = oss2.CryptoBucket(team.cloud_auth(), team.cloud_endpoint, "team-cse", provider)
    assert crypto_bucket.get_object("ledgers/2026.bin").read() == content
    assert team.cloud_bucket("team-cse").get_object("ledgers/2026.bin").read() != content, "stored in the clear"


def a_schedule_fires_once_per_period_with_two_beats_and_after_the_firing_one_is_killed(
    team: Team, admin_on_a: ConsoleUser, api_on_a: ApiClient, connection: int
):
    """A scan every minute. With B's and C's beats both running, only the one holding the lock sends it, and each
    minute starts one job. That beat is killed: its lease runs out, the other takes the lock, and the next minute
    still starts exactly one job."""
    filled_bucket(team, "team-schedule", 5)
    api_on_a.get(f"/api/v1/buckets/?refresh=true&connection={connection}")
    schedule = api_on_a.post(
        "/api/v1/schedules/",
        {
            "name": "team scan every minute",
            "connection": connection,
            "bucket": "team-schedule",
            "kind": "scan",
            "crontab": "* * * * *",
            "timezone": "UTC",
        },
    )
    sent = rf"Scheduler: Sending due task schedule:{schedule['id']} "
    firing = wait_until(lambda: beat_holding_the_lock(team, admin_on_a), message="a beat to hold the lock")
    standing_by = team.beat_c if firing is team.beat_b else team.beat_b
    since_standing_by = standing_by.log_offset()

    def runs(count: int) -> list[dict]:
        """The schedule's runs, newest first, once it has `count` of them."""

        def listed() -> list[dict]:
            return api_on_a.get(f"/api/v1/schedules/{schedule['id']}/")["last_runs"]

        def enough() -> list[dict] | None:
            so_far = listed()
            return so_far if len(so_far) >= count else None

        return wait_until(
            enough,
            message=f"{count} runs of schedule {schedule['id']}",
            timeout=180,
            interval=1,
            observe=listed,
        )

    before_the_kill = runs(2)
    assert standing_by.count_in_log(sent, since_standing_by) == 0, f"{standing_by.name} sent it while standing by"
    assert_one_job_per_minute(api_on_a, schedule["id"], before_the_kill)

    firing.kill()
    wait_until(
        lambda: beat_holding_the_lock(team, admin_on_a) is standing_by,
        message=f"{standing_by.name} to take the lock once the killed holder's {BEAT_LEASE_SECONDS} s lease ran out",
        timeout=6 * BEAT_LEASE_SECONDS,
        interval=0.5,
        observe=lambda: admin_on_a.get("/healthz").json().get("beat_lock"),
    )
    after_the_kill = runs(3)
    assert standing_by.count_in_log(sent, since_standing_by) >= 1, standing_by.log_tail()
    assert_one_job_per_minute(api_on_a, schedule["id"], after_the_kill)


def beat_holding_the_lock(team: Team, admin_on_a: ConsoleUser) -> HostProcess | None:
    """The beat signed-in /healthz names as the holder. The hosts share this machine's name: its pid tells them."""
    holder = re.search(r"pid (\d+)$", admin_on_a.get("/healthz").json().get("beat_lock", ""))
    pid = int(holder[1]) if holder else None
    return next((beat for beat in (team.beat_b, team.beat_c) if pid in beat.pids()), None)


def assert_one_job_per_minute(api: ApiClient, schedule_id: int, runs: list[dict]) -> None:
    """Every run of the schedule started a job, each in a minute of its own, and the schedule has no other job."""
    minutes = [datetime.fromisoformat(run["at"]).replace(second=0, microsecond=0) for run in runs]
    assert len(set(minutes)) == len(minutes), f"a minute fired twice: {runs}"
    assert {run["outcome"] for run in runs} == {"started"}, runs
    jobs = api.get(f"/api/v1/jobs/?schedule={schedule_id}")["results"]
    assert sorted(job["id"] for job in jobs) == sorted(run["job"] for run in runs), (jobs, runs)


def every_web_host_reports_the_shared_parts_healthy(team: Team):
    """Each web host's /healthz sees the shared database and Redis, and the workers and beat of other hosts."""
    for host in (team.a, team.a2):
        anonymous = ConsoleUser(host.web_url)
        wait_until(
            lambda anonymous=anonymous: anonymous.get("/healthz").status_code == 200,
            message=f"{host.name}'s /healthz to answer 200",
            observe=lambda anonymous=anonymous: anonymous.get("/healthz").text,
        )
        assert anonymous.get("/healthz").json() == {"db": "ok", "redis": "ok", "worker": "ok", "beat": "ok"}
