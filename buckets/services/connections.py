"""Connections: add, change and remove the endpoints and AccessKey pairs the console works with, and test them.

Secrets are write-only: they are sealed on the row, never returned, and never part of an audit event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from audit.models import AuditEvent
from audit.services import record, recording
from buckets.models import Connection
from cloud.endpoints import EndpointNotAllowed, check_endpoint
from cloud.errors import CloudError, Conflict, ServiceError
from cloud.kms import KmsClient
from cloud.oss import OssClient
from console.secrets import SecretUnreadable

# Alibaba Cloud region ids: cn-hangzhou, us-west-1, ap-southeast-1, cn-shanghai-finance-1, ...
_REGION_ID = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+$")
_ACCESS_KEY_ID = re.compile(r"^[A-Za-z0-9._-]+$")
UNREADABLE_SECRET = "The stored secret does not open under the current CONSOLE_ROOT_KEY: enter the secret again."


class InvalidConnectionField(ServiceError):
    """One input field breaks a rule; `field` lets a form put the message next to that field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


def _audit_snapshot(connection: Connection) -> dict:
    """What an audit event shows of a connection: everything but its secrets."""
    return {
        "name": connection.name,
        "oss_endpoint": connection.oss_endpoint,
        "region": connection.region,
        "access_key_id": connection.access_key_id,
        "kms_endpoint": connection.kms_endpoint,
        "has_sts_token": bool(connection.sealed_sts_token),
    }


def create_connection(
    *,
    actor,
    name: str,
    oss_endpoint: str,
    region: str,
    access_key_id: str,
    access_key_secret: str,
    sts_token: str = "",
    kms_endpoint: str = "",
) -> Connection:
    """Add a connection; its secret and optional STS token are sealed before the row is written.

    The event names the new connection, so the audit log finds it under that connection.
    """
    try:
        with transaction.atomic():
            connection = Connection(
                name=_checked_name(name),
                oss_endpoint=_checked_url("oss_endpoint", "The OSS endpoint", oss_endpoint),
                region=_checked_region(region),
                kms_endpoint=_checked_url("kms_endpoint", "The KMS endpoint", kms_endpoint, required=False),
            )
            if not access_key_secret:
                raise InvalidConnectionField("access_key_secret", "Enter the AccessKey secret.")
            connection.set_credentials(_checked_access_key_id(access_key_id), access_key_secret, sts_token or "")
            _save_with_unique_name(connection)
            record("connection.create", actor=actor, connection=connection, after=_audit_snapshot(connection))
    except ServiceError as error:
        target = (name or "").strip()[:255]
        record("connection.create", actor=actor, target=target, outcome=AuditEvent.FAILURE, error=error.message)
        raise
    return connection


def update_connection(
    *,
    actor,
    connection: Connection,
    name: str | None = None,
    oss_endpoint: str | None = None,
    region: str | None = None,
    access_key_id: str | None = None,
    kms_endpoint: str | None = None,
    access_key_secret: str = "",
    sts_token: str = "",
    clear_sts_token: bool = False,
) -> Connection:
    """Change a connection. None leaves a field as it is; a blank secret or STS token keeps the stored one.

    `clear_sts_token` removes the STS token (the connection then signs with the AccessKey pair alone).
    """
    before = _audit_snapshot(connection)
    with recording("connection.update", actor=actor, connection=connection, before=before) as pending:
        try:
            hosts_before = _hosts_called(connection)
            _apply_fields(connection, name, oss_endpoint, region, kms_endpoint)
            if _hosts_called(connection) != hosts_before:
                _require_credentials_again(connection, access_key_secret, sts_token, clear_sts_token)
            secret_changed = _apply_credentials(
                connection, access_key_id, access_key_secret or "", sts_token or "", clear_sts_token
            )
            _save_with_unique_name(connection)
        except ServiceError:
            # The caller's instance shows the stored connection again, not the refused input.
            connection.refresh_from_db()
            raise
        pending.after = _audit_snapshot(connection) | {"secret_changed": secret_changed}
    return connection


def _apply_fields(connection: Connection, name, oss_endpoint, region, kms_endpoint) -> None:
    if name is not None:
        connection.name = _checked_name(name)
    if oss_endpoint is not None:
        connection.oss_endpoint = _checked_url("oss_endpoint", "The OSS endpoint", oss_endpoint)
    if region is not None:
        connection.region = _checked_region(region)
    if kms_endpoint is not None:
        connection.kms_endpoint = _checked_url("kms_endpoint", "The KMS endpoint", kms_endpoint, required=False)


def _hosts_called(connection: Connection) -> tuple[str, str]:
    """Where the credentials go. Alibaba Cloud's KMS endpoint follows the region, within the same cloud and
    account, so a region change alone does not move a connection; spelling out the endpoint it already used
    does not either."""
    kms = connection.kms_endpoint
    if not kms:
        on_alibaba_cloud = (urlsplit(connection.oss_endpoint).hostname or "").endswith(".aliyuncs.com")
        kms = "kms.<region>.aliyuncs.com" if on_alibaba_cloud else connection.oss_endpoint
    return connection.oss_endpoint, kms


def _require_credentials_again(connection: Connection, secret: str, sts_token: str, clear_sts_token: bool) -> None:
    """A stored secret is never sent to a host it was not entered for: whoever moves a connection re-enters it."""
    if not secret:
        raise InvalidConnectionField(
            "access_key_secret", "A new endpoint needs the AccessKey secret again: the stored one is not sent there."
        )
    if connection.sealed_sts_token and not (sts_token or clear_sts_token):
        raise InvalidConnectionField("sts_token", "A new endpoint needs the STS token again, or clear it.")


def _apply_credentials(
    connection: Connection, access_key_id: str | None, secret: str, sts_token: str, clear_sts_token: bool
) -> bool:
    """Reseal the credentials with what changed; True when a new secret was given."""
    if sts_token and clear_sts_token:
        raise InvalidConnectionField("sts_token", "Either enter a new STS token or clear it, not both.")
    new_id = connection.access_key_id if access_key_id is None else _checked_access_key_id(access_key_id)
    if new_id != connection.access_key_id and not secret:
        # A new AccessKey ID never comes with the old secret; keeping it would only produce signature errors.
        raise InvalidConnectionField("access_key_secret", "A new AccessKey ID needs its secret: enter it too.")
    if not (secret or sts_token or clear_sts_token or new_id != connection.access_key_id):
        return False
    try:
        kept_token = "" if clear_sts_token else connection.sts_token
        connection.set_credentials(new_id, secret or connection.access_key_secret, sts_token or kept_token)
    except SecretUnreadable:
        raise InvalidConnectionField("access_key_secret", UNREADABLE_SECRET) from None
    return bool(secret)


def delete_connection(*, actor, connection: Connection) -> None:
    """Remove a connection and the bucket snapshots seen through it; the cloud itself is not touched.

    The event is written before the row goes, so it names the connection; deleting then clears its link.
    """
    before = _audit_snapshot(connection)
    try:
        with transaction.atomic():
            record("connection.delete", actor=actor, connection=connection, before=before)
            connection.delete()
    except ProtectedError:
        message = f"Connection {connection.name} is used by CSE master keys: remove them first."
        record(
            "connection.delete",
            actor=actor,
            connection=connection,
            before=before,
            outcome=AuditEvent.FAILURE,
            error=message,
        )
        raise Conflict(message) from None


def _checked_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidConnectionField("name", "Enter a name for the connection.")
    if len(name) > Connection._meta.get_field("name").max_length:
        raise InvalidConnectionField("name", "The name is longer than 100 characters.")
    return name


def _checked_url(field_name: str, label: str, value: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if not value and not required:
        return ""
    example = "e.g. https://oss-cn-hangzhou.aliyuncs.com"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise InvalidConnectionField(field_name, f"{label} is not a valid URL ({example}).") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidConnectionField(field_name, f"{label} must be an http:// or https:// URL ({example}).")
    if parts.username or parts.password or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidConnectionField(field_name, f"{label} is a scheme, host and optional port only ({example}).")
    if len(value) > 255:
        raise InvalidConnectionField(field_name, f"{label} is longer than 255 characters.")
    try:
        check_endpoint(value)
    except EndpointNotAllowed as refused:
        raise InvalidConnectionField(field_name, refused.message) from None
    return f"{parts.scheme}://{parts.netloc}"


def _checked_region(region: str) -> str:
    region = (region or "").strip()
    if not region:
        raise InvalidConnectionField("region", "Enter the region id, e.g. cn-hangzhou.")
    if region.startswith("oss-"):
        raise InvalidConnectionField("region", f"Use the region id ({region[4:]}), not the OSS location ({region}).")
    if not _REGION_ID.match(region) or len(region) > 64:
        raise InvalidConnectionField("region", f"{region!r} is not a region id like cn-hangzhou or ap-southeast-1.")
    return region


def _checked_access_key_id(access_key_id: str) -> str:
    access_key_id = (access_key_id or "").strip()
    if not access_key_id:
        raise InvalidConnectionField("access_key_id", "Enter the AccessKey ID.")
    if not _ACCESS_KEY_ID.match(access_key_id) or len(access_key_id) > 128:
        raise InvalidConnectionField("access_key_id", "An AccessKey ID is letters, digits, '.', '_' and '-' only.")
    return access_key_id


def _save_with_unique_name(connection: Connection) -> None:
    duplicate = Connection.objects.filter(name=connection.name).exclude(pk=connection.pk)
    if duplicate.exists():
        raise Conflict(f"A connection named {connection.name!r} already exists.")
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError:
        # Another request took the name between the check and the save.
        raise Conflict(f"A connection named {connection.name!r} already exists.") from None


# Testing a connection


@dataclass(frozen=True)
class CheckResult:
    """One call made with the connection's credentials: passed, or the cloud's code, message and request id."""

    name: str
    service: str
    ok: bool
    summary: str = ""
    code: str = ""
    message: str = ""
    request_id: str = ""


@dataclass(frozen=True)
class ConnectionTest:
    connection: Connection
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def test_connection(connection: Connection, actor=None) -> ConnectionTest:
    """Call OSS ListBuckets and KMS ListKeys with the connection; each check reports on its own.

    `actor` is who asked; a test changes nothing, so it is not audited.
    """
    return ConnectionTest(
        connection,
        [
            _check("OSS ListBuckets", "oss", lambda: _oss_summary(connection)),
            _check("KMS ListKeys", "kms", lambda: _kms_summary(connection)),
        ],
    )


# The name starts with "test", and pytest would otherwise collect it wherever a test module imports it.
test_connection.__test__ = False


def _oss_summary(connection: Connection) -> tuple[str, str]:
    buckets = OssClient(connection).list_buckets()
    return f"{len(buckets)} bucket(s) visible at {connection.oss_endpoint}", ""


def _kms_summary(connection: Connection) -> tuple[str, str]:
    request_id = KmsClient(connection).probe()
    return f"KMS answered at {connection.effective_kms_endpoint} in {connection.region}", request_id


# The cloud's codes for credentials it does not accept, and what the person testing should do about them.
_WRONG_SECRET_CODES = ("SignatureDoesNotMatch", "IncompleteSignature")
_UNKNOWN_KEY_CODES = ("InvalidAccessKeyId",)  # also InvalidAccessKeyId.NotFound and .Inactive


def _explained(error: CloudError) -> str:
    """The cloud's message, led by what it means for the connection when the credentials were refused."""
    if error.code in _WRONG_SECRET_CODES:
        return (
            "The AccessKey secret does not match the AccessKey ID: the cloud refused the signature. "
            f"Edit the connection and enter the secret again. ({error.cloud_message})"
        )
    if error.code.startswith(_UNKNOWN_KEY_CODES):
        return (
            "The AccessKey ID is unknown or disabled in the cloud: check it, or create a new AccessKey pair. "
            f"({error.cloud_message})"
        )
    return error.cloud_message


def _check(name: str, service: str, call) -> CheckResult:
    try:
        summary, request_id = call()
    except CloudError as error:
        return CheckResult(
            name, service, False, code=error.code, message=_explained(error), request_id=error.request_id
        )
    except SecretUnreadable:
        return CheckResult(name, service, False, code="SecretUnreadable", message=UNREADABLE_SECRET)
    return CheckResult(name, service, True, summary=summary, request_id=request_id)
