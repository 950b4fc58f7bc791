"""Rewrap jobs: client-side encrypted objects move from master key A to B by rewriting only their envelope."""

import os

import pytest

from cloud.cse import objects as cse_objects
from cloud.cse.errors import CseError
from cloud.oss import OssClient
from console.testing.cloud import new_bucket
from console.testing.jobs import wait_for
from encryption.services import master_keys
from jobs import selectors
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services
from localcloud.models import StoredObject

pytestmark = pytest.mark.slow


def test_a_folder_moves_to_a_new_master_key_keeping_content_and_everything_else_and_no_data_moves(
    cloud_connection, worker, admin, operator
):
    new_bucket(cloud_connection, "vault")
    old = master_keys.generate_rsa(actor=admin, name="old rsa", matdesc={"owner": "legal", "v": "1"})
    new = master_keys.generate_rsa(actor=admin, name="new rsa", matdesc={"owner": "legal", "v": "2"})
    oss = OssClient(cloud_connection)
    contents = {}
    for index in range(12):
        key = f"contracts/doc-{index:02d}.pdf"
        contents[key] = os.urandom(1000 + index * 37)
        cse_objects.put_encrypted(
            oss,
            "vault",
            key,
            contents[key],
            master_keys.wrapper_for(old),
            headers={
                "Content-Type": "application/pdf",
                "x-oss-meta-client": f"c{index}",
                "x-oss-tagging": "keep=1",
                "x-oss-object-acl": "public-read",
                "x-oss-storage-class": "IA",
            },
            sse_headers={"x-oss-server-side-encryption": "AES256"},
        )
    cse_objects.put_encrypted(oss, "vault", "other/elsewhere.bin", b"not in the folder", master_keys.wrapper_for(old))
    oss.put_object("vault", "contracts/plain.txt", b"no client-side encryption", {})
    before = {key: oss.head_object("vault", key) for key in contents}
    blobs = dict(StoredObject.objects.filter(bucket__name="vault").values_list("key", "blob"))

    job = wait_for(
        services.create_job(
            actor=operator,
            connection=cloud_connection,
            bucket="vault",
            spec=services.Spec(kind=Job.REWRAP, prefixes=("contracts/",), rewrap_from_id=old.pk, rewrap_to_id=new.pk),
        )
    )

    counts = selectors.progress(job).counts()
    assert job.state == Job.COMPLETED, list(job.outcomes.values_list("key", "reason"))
    assert (counts["reencrypted"], counts["filtered"]) == (12, 1)
    assert counts["data_bytes"] == 0  # the job moved no object data...
    reader = OssClient(cloud_connection)
    b"".join(reader.open_object("vault", "contracts/doc-00.pdf"))
    assert reader.data_bytes.total == before["contracts/doc-00.pdf"].size > 0  # ...as a client that does would count
    assert dict(StoredObject.objects.filter(bucket__name="vault").values_list("key", "blob")) == blobs
    for key, content in contents.items():
        after = oss.head_object("vault", key)
        assert cse_objects.get_decrypted(oss, "vault", key, master_keys.wrapper_for(new)) == content
        with pytest.raises(CseError):
            cse_objects.get_decrypted(oss, "vault", key, master_keys.wrapper_for(old))
        assert (after.size, after.header("x-oss-hash-crc64ecma"), after.content_headers, after.storage_class) == (
            before[key].size,
            before[key].header("x-oss-hash-crc64ecma"),
            before[key].content_headers,
            "IA",
        )
        assert after.header("x-oss-server-side-encryption") == "AES256"
        assert after.user_metadata["client"] == before[key].user_metadata["client"]
        assert (
            after.user_metadata["client-side-encryption-matdesc"]
            != before[key].user_metadata["client-side-encryption-matdesc"]
        )
        assert oss.object_tags("vault", key) == {"keep": "1"} and oss.object_acl("vault", key) == "public-read"
    assert (
        master_keys.match_envelope(
            cse_objects.Envelope.from_headers(oss.head_object("vault", "other/elsewhere.bin").headers)
        )
        == old
    )

    scan = wait_for(
        services.create_job(
            actor=operator, connection=cloud_connection, bucket="vault", spec=services.Spec(kind=Job.SCAN, select="all")
        )
    )
    states = {label: objects for label, objects, _ in selectors.summarise_scan(scan).states}
    assert states["OSS-managed AES256 + client-side (new rsa)"] == 12
    assert states["None + client-side (old rsa)"] == 1 and states["None"] == 1

    again = wait_for(
        services.create_job(
            actor=operator,
            connection=cloud_connection,
            bucket="vault",
            dry_run=True,
            spec=services.Spec(kind=Job.REWRAP, prefixes=("contracts/",), rewrap_from_id=new.pk, rewrap_to_id=old.pk),
        )
    )
    assert selectors.plan(again).objects == 12
    assert not again.outcomes.filter(outcome=ObjectOutcome.FAILED).exists()


def test_a_rewrap_needs_two_different_existing_master_keys(cloud_connection, admin, operator):
    new_bucket(cloud_connection, "keys")
    only = master_keys.generate_rsa(actor=admin, name="only", matdesc={"k": "only"})
    for spec, message in (
        (services.Spec(kind=Job.REWRAP), "needs the master key"),
        (services.Spec(kind=Job.REWRAP, rewrap_from_id=only.pk, rewrap_to_id=only.pk), "the same key"),
        (services.Spec(kind=Job.REWRAP, rewrap_from_id=only.pk, rewrap_to_id=only.pk + 99), "does not exist"),
        (services.Spec(rewrap_from_id=only.pk, rewrap_to_id=only.pk + 1), "only with a rewrap job"),
    ):
        with pytest.raises(services.ServiceError, match=message):
            services.create_job(actor=operator, connection=cloud_connection, bucket="keys", spec=spec)


def test_a_rewrap_is_started_over_the_api(cloud_connection, worker, admin, operator, api_as):
    new_bucket(cloud_connection, "api-vault")
    old = master_keys.generate_rsa(actor=admin, name="api old", matdesc={"k": "old"})
    new = master_keys.generate_rsa(actor=admin, name="api new", matdesc={"k": "new"})
    cse_objects.put_encrypted(
        OssClient(cloud_connection), "api-vault", "a.bin", b"secret", master_keys.wrapper_for(old)
    )

    created = api_as(operator).post(
        "/api/v1/jobs/",
        {
            "connection": cloud_connection.pk,
            "bucket": "api-vault",
            "kind": "rewrap",
            "rewrap_from_id": old.pk,
            "rewrap_to_id": new.pk,
        },
        format="json",
    )

    assert created.status_code == 201, created.json()
    job = wait_for(Job.objects.get(pk=created.json()["id"]))
    assert job.state == Job.COMPLETED and selectors.progress(job).counts()["reencrypted"] == 1
    assert api_as(operator).get(f"/api/v1/jobs/{job.pk}/").json()["rewrap_to_id"] == new.pk


def test_the_rewrap_page_starts_a_dry_run_and_refuses_the_same_key_twice(
    cloud_connection, admin, operator, viewer, client, client_as
):
    new_bucket(cloud_connection, "page-vault")
    old = master_keys.generate_rsa(actor=admin, name="page old", matdesc={"k": "p-old"})
    new = master_keys.generate_rsa(actor=admin, name="page new", matdesc={"k": "p-new"})
    form = {
        "connection": cloud_connection.pk,
        "bucket": "page-vault",
        "prefixes": "contracts/",
        "rewrap_from": old.pk,
        "rewrap_to": new.pk,
        "concurrency": 4,
        "requests_per_second": 50,
        "kms_per_second": 10,
    }
    client.force_login(viewer)
    assert client.post("/jobs/rewrap/", {**form, "run": "start"}).status_code == 403
    page = client_as(operator)

    same = page.post("/jobs/rewrap/", {**form, "rewrap_to": old.pk, "run": "start"})
    started = page.post("/jobs/rewrap/", {**form, "run": "dry-run"})

    assert same.status_code == 200 and "the same key" in same.content.decode()
    job = Job.objects.get()
    assert started.status_code == 302 and started.url == f"/jobs/{job.pk}/"
    assert (job.kind, job.dry_run, job.prefixes, job.rewrap_from_id, job.rewrap_to_id) == (
        Job.REWRAP,
        True,
        ["contracts/"],
        old.pk,
        new.pk,
    )
    assert page.get("/jobs/rewrap/").status_code == 200
    assert "/jobs/rewrap/" in page.get("/keys/cse/").content.decode()
