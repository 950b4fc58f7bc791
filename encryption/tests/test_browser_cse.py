"""Client-side encryption in a real browser: upload a file encrypted with a master key into a bucket that also
encrypts server-side, see both on the object page, download it decrypted, and rotate the folder's master key."""

import pytest
from playwright.sync_api import expect

from accounts.services import create_user
from cloud.cse import objects as cse_objects
from cloud.oss import EncryptionRule, OssClient
from console.testing.browser import log_in
from console.testing.cloud import new_bucket
from encryption.services import master_keys
from jobs.models import Job

PASSWORD = "Browser-Passw0rd-9"
CONTENT = b"quarterly figures, for the board only\n" * 40
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("worker")]


def test_an_operator_uploads_client_side_encrypted_downloads_decrypted_and_rotates_the_master_key(
    page,
    console_server,
    cloud_connection,
    admin,
):
    new_bucket(cloud_connection, "board", EncryptionRule("SM4"))
    master_keys.generate_rsa(actor=admin, name="board 2025", matdesc={"owner": "board", "year": "2025"})
    new = master_keys.generate_rsa(actor=admin, name="board 2026", matdesc={"owner": "board", "year": "2026"})
    create_user(actor=None, username="otto", role="operator", password=PASSWORD)
    log_in(page, console_server, "otto", PASSWORD)

    page.goto(f"{console_server}/buckets/")
    page.get_by_role("link", name="board").click()
    page.get_by_role("link", name="Objects", exact=True).click()
    page.get_by_role("link", name="Upload").click()
    page.get_by_label("File").set_input_files({"name": "q4.txt", "mimeType": "text/plain", "buffer": CONTENT})
    page.get_by_label("Folder").fill("minutes/")
    page.get_by_label("Client-side encryption with master key").select_option(label="board 2025")
    page.get_by_role("button", name="Upload").click()

    page.goto(f"{console_server}/buckets/")
    page.get_by_role("link", name="board").click()
    page.get_by_role("link", name="Objects", exact=True).click()
    page.get_by_role("link", name="minutes/").click()
    page.get_by_role("link", name="q4.txt").click()
    expect(page.get_by_role("link", name="board 2025")).to_be_visible()
    expect(page.get_by_text("SM4").first).to_be_visible()
    oss = OssClient(cloud_connection)
    stored = b"".join(oss.open_object("board", "minutes/q4.txt"))
    assert stored != CONTENT and len(stored) == len(CONTENT)
    assert oss.head_object("board", "minutes/q4.txt").header("x-oss-server-side-encryption") == "SM4"

    with page.expect_download() as download:
        page.get_by_role("link", name="Download decrypted").click()
    assert download.value.path().read_bytes() == CONTENT

    page.goto(f"{console_server}/keys/cse/")
    page.get_by_role("link", name="Rotate objects to another key").click()
    page.get_by_label("Bucket").select_option("board")
    page.get_by_label("Prefixes").fill("minutes/")
    page.get_by_label("From master key").select_option(label="board 2025")
    page.get_by_label("To master key").select_option(label="board 2026")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Completed: 100.0% done")).to_be_visible(timeout=60_000)

    job = Job.objects.get(kind=Job.REWRAP)
    assert job.state == Job.COMPLETED
    assert cse_objects.get_decrypted(oss, "board", "minutes/q4.txt", master_keys.wrapper_for(new)) == CONTENT
    assert b"".join(oss.open_object("board", "minutes/q4.txt")) == stored  # same ciphertext: no data moved
