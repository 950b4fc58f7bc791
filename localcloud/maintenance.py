"""Housekeeping that keeps the data directory equal to what the database references."""

from localcloud.models import StoredObject, UploadPart
from localcloud.storage import blob_store


def referenced_blobs() -> set[str]:
    objects = StoredObject.objects.values_list("blob", flat=True)
    parts = UploadPart.objects.values_list("blob", flat=True)
    return set(objects.iterator()) | set(parts.iterator())


def sweep_orphans(grace_seconds: float = 3600) -> int:
    """Delete blobs no row references (a crash between rename and commit leaves them) and stale temp files."""
    return blob_store().sweep(referenced_blobs(), grace_seconds=grace_seconds)
