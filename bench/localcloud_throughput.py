"""PUT/GET MB/s per encryption, raw AEAD speed, and small-request rates against one localcloud."""

import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager

import oss2
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.management import call_command

from console.embedded_redis import free_port
from localcloud.accesskeys import create_access_key

MIB = 1024 * 1024
OBJECT_SIZE = 64 * MIB
SMALL_SIZE = 4 * 1024
SMALL_REQUESTS = 300
ROUNDS = 3
SSE_CASES = {
    "none": {},
    "AES256": {"x-oss-server-side-encryption": "AES256"},
    "SM4": {"x-oss-server-side-encryption": "SM4"},
    "KMS": {"x-oss-server-side-encryption": "KMS"},
}


def best_seconds(action, rounds: int = ROUNDS) -> float:
    """The fastest of several runs: the least disturbed by the other tenants of a shared machine."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def raw_aead_mb_per_s(data: bytes) -> dict[str, float]:
    frame = 64 * 1024
    nonce = os.urandom(12)

    def aes():
        aead = AESGCM(os.urandom(32))
        for offset in range(0, len(data), frame):
            aead.encrypt(nonce, data[offset : offset + frame], b"")

    def sm4():
        key = os.urandom(16)
        for offset in range(0, len(data), frame):
            encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
            encryptor.update(data[offset : offset + frame])
            encryptor.finalize()

    return {"AES-256-GCM": len(data) / MIB / best_seconds(aes), "SM4-GCM": len(data) / MIB / best_seconds(sm4)}


def transfer_mb_per_s(bucket: oss2.Bucket, data: bytes, headers: dict) -> tuple[float, float]:
    key = f"bench-{uuid.uuid4().hex}"

    def put():
        bucket.put_object(key, data, headers=headers)

    def get():
        stream = bucket.get_object(key)
        while stream.read(MIB):
            pass

    put_seconds = best_seconds(put)
    get_seconds = best_seconds(get)
    bucket.delete_object(key)
    return len(data) / MIB / put_seconds, len(data) / MIB / get_seconds


def small_request_rates(bucket: oss2.Bucket) -> dict[str, float]:
    payload = os.urandom(SMALL_SIZE)
    keys = [f"small/{index}" for index in range(SMALL_REQUESTS)]
    rates = {}
    started = time.perf_counter()
    for key in keys:
        bucket.put_object(key, payload)
    rates["PutObject 4 KiB"] = SMALL_REQUESTS / (time.perf_counter() - started)
    started = time.perf_counter()
    for key in keys:
        bucket.head_object(key)
    rates["HeadObject"] = SMALL_REQUESTS / (time.perf_counter() - started)
    started = time.perf_counter()
    for key in keys:
        bucket.copy_object(bucket.bucket_name, key, key + ".copy")
    rates["CopyObject 4 KiB"] = SMALL_REQUESTS / (time.perf_counter() - started)
    return rates


@contextmanager
def localcloud_process(threads: int = 8):
    """localcloud as production runs it: its own process, so client and server do not share one GIL."""
    port = free_port()
    command = [sys.executable, "manage.py", "localcloud", "--port", str(port), "--threads", str(threads)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(endpoint, server)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_answering(endpoint: str, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("localcloud exited during start-up")
        try:
            urllib.request.urlopen(endpoint, timeout=1)
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("localcloud did not answer within 30 s")


def main() -> None:
    logging.getLogger("oss2").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    credentials = create_access_key("bench")
    data = os.urandom(OBJECT_SIZE)
    raw = raw_aead_mb_per_s(data)
    with localcloud_process() as endpoint:
        bucket = oss2.Bucket(oss2.Auth(*credentials), endpoint, "bench-bucket")
        bucket.create_bucket()
        transfers = {name: transfer_mb_per_s(bucket, data, headers) for name, headers in SSE_CASES.items()}
        rates = small_request_rates(bucket)
    report(raw, transfers, rates)


def report(raw: dict, transfers: dict, rates: dict) -> None:
    print(f"localcloud, {OBJECT_SIZE // MIB} MiB object, best of {ROUNDS} (MB/s = MiB/s)")
    print(f"{'encryption':<10} {'PUT MB/s':>10} {'GET MB/s':>10}")
    for name, (put, get) in transfers.items():
        print(f"{name:<10} {put:>10.1f} {get:>10.1f}")
    print("\nraw AEAD in 64 KiB frames, one core")
    for name, speed in raw.items():
        print(f"{name:<12} {speed:>10.1f} MB/s")
    print("\nsmall requests, one client, sequential")
    for name, rate in rates.items():
        print(f"{name:<18} {rate:>8.0f} req/s")
    none_put, none_get = transfers["none"]
    aes_put, aes_get = transfers["AES256"]
    sm4_put, sm4_get = transfers["SM4"]
    print("\nratios (targets in brackets)")
    print(f"AES256 PUT / none PUT      {aes_put / none_put:5.2f}  [>= 0.75]")
    print(f"AES256 GET / none GET      {aes_get / none_get:5.2f}  [>= 0.75]")
    print(f"SM4 PUT / raw SM4-GCM      {sm4_put / raw['SM4-GCM']:5.2f}  [>= 0.70]")
    print(f"SM4 GET / raw SM4-GCM      {sm4_get / raw['SM4-GCM']:5.2f}  [>= 0.70]")
