"""Overlap the cipher with network and disk I/O on another core.

`cryptography` releases the GIL while it encrypts, so sealing frames on a second thread lets a PUT
or GET run near the cipher's own speed instead of the sum of cipher and I/O time. Queues are
short, so memory stays bounded whatever the object size.
"""

import queue
import threading
from collections.abc import Callable, Iterator

DEPTH = 4
_END = object()
_POLL_SECONDS = 0.1


class BackgroundSink:
    """Applies `transform` then `sink` to each chunk on a worker thread; close() waits and re-raises.

    The thread starts with the second chunk: a body of one chunk (most small objects) is sealed inline, since
    starting a thread costs more than sealing a few KiB."""

    def __init__(self, transform: Callable[[bytes], bytes], sink: Callable[[bytes], None], depth: int = DEPTH):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._transform, self._sink = transform, sink
        self._error: BaseException | None = None
        self._first: bytes | None = None
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not _END:
            if self._error is None:
                try:
                    self._sink(self._transform(chunk))
                except BaseException as error:  # noqa: BLE001 - handed to the caller in put()/close()
                    self._error = error

    def put(self, chunk: bytes) -> None:
        if self._error is not None:
            self.close()
        if self._thread is None:
            if self._first is None:
                self._first = chunk
                return
            self._thread = threading.Thread(target=self._run, name="localcloud-seal", daemon=True)
            self._thread.start()
            self._queue.put(self._first)
            self._first = None
        self._queue.put(chunk)

    def close(self) -> None:
        """Finish the queued work; raises what the worker raised."""
        if self._thread is None:
            if self._first is not None:
                first, self._first = self._first, None
                self._sink(self._transform(first))
            return
        if self._thread.is_alive():
            self._queue.put(_END)
            self._thread.join()
        if self._error is not None:
            raise self._error


def prefetched(make_iterator: Callable[[], Iterator[bytes]], depth: int = DEPTH) -> Iterator[bytes]:
    """Run the iterator on a worker thread, `depth` items ahead of the consumer; errors re-raise in order."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in make_iterator():
                if not offer(item):
                    return
            offer(_END)
        except BaseException as error:  # noqa: BLE001 - re-raised in the consumer
            offer(error)

    worker = threading.Thread(target=produce, name="localcloud-open", daemon=True)
    worker.start()
    try:
        while (item := items.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()
