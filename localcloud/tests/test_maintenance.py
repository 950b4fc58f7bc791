import os
import time

from localcloud.maintenance import sweep_orphans
from localcloud.models import StoredObject
from localcloud.storage import blob_store


def _age(path, seconds):
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_sweep_removes_old_orphans_and_keeps_referenced_and_young_blobs(bucket, data_dir):
    bucket.put_object("kept.txt", b"kept")
    kept = StoredObject.objects.get(key="kept.txt").blob
    store = blob_store()
    orphan_writer = store.writer()
    orphan_writer.write(b"left by a crash before the row was committed")
    orphan = orphan_writer.commit()
    young_writer = store.writer()
    young_writer.write(b"a row for this may be committing right now")
    young = young_writer.commit()
    stale_temp = store.tmp_dir / "abandoned.part"
    stale_temp.write_bytes(b"half an upload")
    for path in (store.path(kept), store.path(orphan), stale_temp):
        _age(path, 7200)

    removed = sweep_orphans(grace_seconds=3600)

    assert removed == 2
    assert not store.path(orphan).exists()
    assert not stale_temp.exists()
    assert store.path(kept).exists()
    assert store.path(young).exists()
    assert bucket.get_object("kept.txt").read() == b"kept"
