"""Writing the audit log: every change through UI, API, command or task leaves one event, success or not."""

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from audit import channel
from audit.models import AuditEvent
from cloud.errors import CloudError, ServiceError


@dataclass
class PendingEvent:
    """What a change fills in while it runs; `recording` writes it when the change ends."""

    after: Any = None
    request_id: str = ""
    before: Any = None


def record(
    action: str,
    *,
    actor=None,
    connection=None,
    bucket: str = "",
    object_key: str = "",
    target: str = "",
    before=None,
    after=None,
    request_id: str = "",
    outcome: str = AuditEvent.SUCCESS,
    error: str = "",
) -> AuditEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "",
        channel=channel.current(),
        action=action,
        connection=connection,
        connection_name=connection.name if connection else "",
        bucket=bucket,
        object_key=object_key,
        target=target,
        before=before,
        after=after,
        request_id=request_id,
        outcome=outcome,
        error=error,
    )


@contextmanager
def recording(action: str, **where):
    """Run a change and record it: success with what the block filled in, or failure with the error.

    Refusals of the console's own rules (a ServiceError that is not from the cloud) happen before anything
    changed, so they are recorded too: the log shows who tried what.
    """
    pending = PendingEvent(before=where.pop("before", None))
    try:
        yield pending
    except CloudError as error:
        record(
            action,
            before=pending.before,
            request_id=error.request_id,
            outcome=AuditEvent.FAILURE,
            error=error.message,
            **where,
        )
        raise
    except ServiceError as error:
        record(action, before=pending.before, outcome=AuditEvent.FAILURE, error=error.message, **where)
        raise
    record(action, before=pending.before, after=pending.after, request_id=pending.request_id, **where)
