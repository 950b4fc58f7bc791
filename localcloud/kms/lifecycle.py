"""Time-driven key changes: keys past their deletion date are deleted, imported material past its expiry is
shredded (the key goes back to PendingImport), keys with automatic rotation get a new version when due,
and expired import tokens are dropped.

`refresh` applies the first two to one key as a request touches it, so answers are exact to the second;
`sweep` applies everything to every key (the `localcloud_kms_sweep` command, and at most once a minute
from the KMS endpoint) so listings catch up too.
"""

import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from localcloud import keystore
from localcloud.models import Cmk, ImportToken

SWEEP_EVERY_SECONDS = 60.0

_sweep_lock = threading.Lock()
_last_sweep = float("-inf")


@dataclass(frozen=True)
class SweepResult:
    deleted_keys: int
    expired_materials: int
    rotated_keys: int
    expired_tokens: int


def _due_for_deletion(cmk: Cmk, now: datetime) -> bool:
    return cmk.state == Cmk.State.PENDING_DELETION and cmk.delete_date is not None and cmk.delete_date <= now


def refresh(cmk: Cmk, now: datetime | None = None) -> Cmk | None:
    """The key as it stands now: None once deleted; material shredded once expired."""
    now = now or timezone.now()
    if _due_for_deletion(cmk, now):
        cmk.delete()
        return None
    if cmk.material_expire_time is not None and cmk.material_expire_time <= now:
        keystore.delete_material(cmk)
    return cmk


def rotation_interval(cmk: Cmk) -> timedelta | None:
    """The automatic rotation period (stored as `<seconds>s`), or None when rotation is off."""
    if cmk.automatic_rotation != "Enabled" or not cmk.rotation_interval:
        return None
    return timedelta(seconds=int(cmk.rotation_interval.removesuffix("s")))


def next_rotation(cmk: Cmk, primary_created_at: datetime) -> datetime | None:
    interval = rotation_interval(cmk)
    return None if interval is None else primary_created_at + interval


def _rotate_due(now: datetime) -> int:
    rotated = 0
    candidates = Cmk.objects.filter(automatic_rotation="Enabled", state=Cmk.State.ENABLED, origin=Cmk.Origin.KMS)
    for cmk in candidates.exclude(rotation_interval=""):
        primary = cmk.versions.order_by("-created_at", "-id").first()
        if primary is None or next_rotation(cmk, primary.created_at) <= now:
            keystore.add_version(cmk, os.urandom(keystore.MATERIAL_SIZES[cmk.spec]))
            rotated += 1
    return rotated


def sweep(now: datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    # QuerySet.delete() also counts cascaded rows (versions, aliases); report the keys and tokens themselves.
    _, deleted = Cmk.objects.filter(state=Cmk.State.PENDING_DELETION, delete_date__lte=now).delete()
    expired = 0
    for cmk in Cmk.objects.filter(material_expire_time__lte=now):
        keystore.delete_material(cmk)
        expired += 1
    _, tokens = ImportToken.objects.filter(expires_at__lte=now).delete()
    return SweepResult(
        deleted_keys=deleted.get(Cmk._meta.label, 0),
        expired_materials=expired,
        rotated_keys=_rotate_due(now),
        expired_tokens=tokens.get(ImportToken._meta.label, 0),
    )


def sweep_if_due() -> None:
    """Sweep from a request at most once every SWEEP_EVERY_SECONDS per process; `refresh` covers the rest."""
    global _last_sweep
    now = time.monotonic()
    with _sweep_lock:
        if now - _last_sweep < SWEEP_EVERY_SECONDS:
            return
        _last_sweep = now
    sweep()
