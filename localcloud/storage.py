"""Blob files under the data directory. Names are random ids, never derived from bucket or key names,
so no request can reach a path outside the directory. Writes are atomic: temp file, fsync, rename."""

import os
import re
import time
import uuid
from pathlib import Path

from django.conf import settings

_BLOB_ID = re.compile(r"^[0-9a-f]{32}$")


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.blob_dir = self.root / "blobs"
        self.tmp_dir = self.root / "tmp"

    def path(self, blob_id: str) -> Path:
        if not _BLOB_ID.match(blob_id):
            raise ValueError("malformed blob id")
        return self.blob_dir / blob_id[:2] / blob_id

    def writer(self) -> "BlobWriter":
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        return BlobWriter(self)

    def open(self, blob_id: str):
        return open(self.path(blob_id), "rb")

    def delete(self, blob_id: str) -> None:
        try:
            self.path(blob_id).unlink()
        except FileNotFoundError:
            pass

    def sweep(self, referenced: set[str], grace_seconds: float = 3600) -> int:
        """Remove blobs no row references and abandoned temp files, both older than the grace period
        (a younger unreferenced blob may belong to a row still being committed)."""
        cutoff = time.time() - grace_seconds
        removed = 0
        for directory, keep in ((self.blob_dir, referenced), (self.tmp_dir, set())):
            if not directory.exists():
                continue
            for path in directory.rglob("*"):
                if path.is_file() and path.name not in keep and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed


class BlobWriter:
    """Collects one blob in a temp file; commit() makes it visible under a new id, abort() drops it."""

    def __init__(self, store: BlobStore):
        self.store = store
        self.blob_id = uuid.uuid4().hex
        self._temp = store.tmp_dir / f"{self.blob_id}.part"
        self._file = open(self._temp, "xb")
        self.size = 0

    def write(self, data: bytes) -> None:
        if data:
            self._file.write(data)
            self.size += len(data)

    def commit(self) -> str:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        final = self.store.path(self.blob_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._temp, final)
        return self.blob_id

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._temp.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
        return False


def blob_store() -> BlobStore:
    return BlobStore(settings.LOCALCLOUD_DATA_DIR)
