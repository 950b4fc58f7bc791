"""A 1 GiB object streams through PUT and GET without the process holding it in memory."""

import hashlib
import os
import threading

import psutil
import pytest

pytestmark = pytest.mark.slow

GIB = 1024**3
BLOCK = 1024 * 1024
MEMORY_GROWTH_LIMIT = 100 * 1024 * 1024


class PeakRss:
    """Samples this process's resident memory on a thread; client and server both run in it."""

    def __init__(self):
        self.process = psutil.Process()
        self.baseline = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def blocks(total: int, digest):
    seed = os.urandom(BLOCK)
    for index in range(total // BLOCK):
        block = index.to_bytes(8, "big") + seed[8:]
        digest.update(block)
        yield block


def test_one_gib_object_streams_through_put_and_get_with_bounded_memory(bucket):
    sent = hashlib.md5()
    with PeakRss() as put_memory:
        bucket.put_object("big.bin", blocks(GIB, sent), headers={"x-oss-server-side-encryption": "AES256"})

    received = hashlib.md5()
    size = 0
    with PeakRss() as get_memory:
        stream = bucket.get_object("big.bin")
        while chunk := stream.read(BLOCK):
            received.update(chunk)
            size += len(chunk)

    assert size == GIB
    assert received.hexdigest() == sent.hexdigest()
    assert bucket.head_object("big.bin").headers["x-oss-server-side-encryption"] == "AES256"
    assert put_memory.growth < MEMORY_GROWTH_LIMIT, f"PUT grew memory by {put_memory.growth / 2**20:.0f} MiB"
    assert get_memory.growth < MEMORY_GROWTH_LIMIT, f"GET grew memory by {get_memory.growth / 2**20:.0f} MiB"
