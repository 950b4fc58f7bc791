"""Connections: add, change and remove the endpoints and AccessKey pairs the console works with, and test them.

Secrets are write-only: they are sealed on the row, never returned, and never part of an audit event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import record, recording
from buckets.models import Connection
from buckets.services import connection_advice as advice
from cloud.endpoints import EndpointNotAllowed, check_endpoint
from cloud.errors import CloudError, Conflict, ServiceError
from cloud.kms import KmsClient
from cloud.oss import OssClient
from console.secrets import SecretUnreadable

# Alibaba Cloud region ids: cn-hangzhou, us-west-1, ap-southeast-1, cn-shanghai-finance-1, ...
_REGION_ID = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+$")
_ACCESS_KEY_ID = re.compile(r"^[A-Za-z0-9._-]+$")


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
    save_anyway: bool = False,
) -> Connection:
    """Add a connection once a test with it passes (or `save_anyway`); its secrets are sealed before the row is
    written and the test's outcome is kept on it.

    The event names the new connection, so the audit log finds it under that connection.
    """
    try:
        connection = Connection(
            name=_checked_name(name),
            oss_endpoint=_checked_url("oss_endpoint", "The OSS endpoint", oss_endpoint),
            region=_checked_region(region),
            kms_endpoint=_checked_url("kms_endpoint", "The KMS endpoint", kms_endpoint, required=False),
        )
        if not access_key_secret:
            raise InvalidConnectionField("access_key_secret", "Enter the AccessKey secret.")
        connection.set_credentials(_checked_access_key_id(access_key_id), access_key_secret, sts_token or "")
        _check_unique_name(connection)
        # Outside the transaction: a transaction holds SQLite's write lock, and the cloud (localcloud) may write.
        _tested_before_saving(connection, save_anyway)
        with transaction.atomic():
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
    save_anyway: bool = False,
) -> Connection:
    """Change a connection once a test with its new values passes (or `save_anyway`). None leaves a field as it
    is; a blank secret or STS token keeps the stored one.

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
            _check_unique_name(connection)
            _tested_before_saving(connection, save_anyway)
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
        raise InvalidConnectionField("access_key_secret", advice.UNREADABLE_SECRET) from None
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
    if value and "://" not in value:
        # Alibaba Cloud's endpoint tables list hosts alone (oss-cn-hangzhou.aliyuncs.com); they all serve HTTPS.
        value = f"https://{value}"
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


def _check_unique_name(connection: Connection) -> None:
    """Checked before the test too, so that a taken name is refused without calling the cloud."""
    duplicate = Connection.objects.filter(name=connection.name).exclude(pk=connection.pk)
    if duplicate.exists():
        raise Conflict(f"A connection named {connection.name!r} already exists.")


def _save_with_unique_name(connection: Connection) -> None:
    _check_unique_name(connection)
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError:
        # Another request took the name between the check and the save.
        raise Conflict(f"A connection named {connection.name!r} already exists.") from None


# Testing a connection


@dataclass(frozen=True)
class CheckResult:
    """One call made with the connection's credentials: passed, or the cloud's code, the advice for it and the
    request id. The cloud's own message is not kept: a signature refusal quotes the string the server signed."""

    name: str
    service: str
    ok: bool
    summary: str = ""
    code: str = ""
    advice: str = ""
    request_id: str = ""

    @property
    def needs_permissions(self) -> bool:
        return advice.needs_permissions(self.advice)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "service": self.service,
            "ok": self.ok,
            "summary": self.summary,
            "code": self.code,
            "advice": self.advice,
            "needs_permissions": self.needs_permissions,
            "request_id": self.request_id,
        }


@dataclass(frozen=True)
class ConnectionTest:
    connection: Connection
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        return [check for check in self.checks if not check.ok]


class ConnectionTestFailed(ServiceError):
    """A connection was not saved because its test failed; `test` holds each check and its advice."""

    def __init__(self, test: ConnectionTest):
        details = " ".join(f"{check.name}: {check.code}. {check.advice}" for check in test.failures)
        super().__init__(f"The connection was not saved: its test failed. {details}")
        self.test = test


def test_connection(connection: Connection, actor=None) -> ConnectionTest:
    """Call OSS ListBuckets and KMS ListKeys with the connection; each check reports on its own. The outcome is
    kept on the connection (the list shows it); nothing else changes.

    `actor` is who asked; a test changes nothing the console acts on, so it is not audited.
    """
    result = _run_checks(connection)
    _note_outcome(connection, result)
    Connection.objects.filter(pk=connection.pk).update(
        last_tested_at=connection.last_tested_at,
        last_test_ok=connection.last_test_ok,
        last_test_checks=connection.last_test_checks,
    )
    return result


# The name starts with "test", and pytest would otherwise collect it wherever a test module imports it.
test_connection.__test__ = False


def _tested_before_saving(connection: Connection, save_anyway: bool) -> None:
    """Test the connection as it is about to be saved; refuse to save it after a failure unless told to."""
    result = _run_checks(connection)
    if not result.ok and not save_anyway:
        raise ConnectionTestFailed(result)
    _note_outcome(connection, result)


def _run_checks(connection: Connection) -> ConnectionTest:
    return ConnectionTest(
        connection,
        [
            _check("OSS ListBuckets", "oss", lambda: _oss_summary(connection)),
            _check("KMS ListKeys", "kms", lambda: _kms_summary(connection)),
        ],
    )


def _note_outcome(connection: Connection, result: ConnectionTest) -> None:
    connection.last_tested_at = timezone.now()
    connection.last_test_ok = result.ok
    connection.last_test_checks = [check.as_dict() for check in result.checks]


def _oss_summary(connection: Connection) -> tuple[str, str]:
    buckets = OssClient(connection).list_buckets()
    return f"{len(buckets)} bucket(s) visible at {connection.oss_endpoint}", ""


def _kms_summary(connection: Connection) -> tuple[str, str]:
    request_id = KmsClient(connection).probe()
    return f"KMS answered at {connection.effective_kms_endpoint} in {connection.region}", request_id


def _check(name: str, service: str, call) -> CheckResult:
    try:
        summary, request_id = call()
    except CloudError as error:
        return CheckResult(
            name, service, False, code=error.code, advice=advice.advice_for(error), request_id=error.request_id
        )
    except SecretUnreadable:
        return CheckResult(name, service, False, code="SecretUnreadable", advice=advice.UNREADABLE_SECRET)
    except EndpointNotAllowed as refused:
        return CheckResult(name, service, False, code="EndpointNotAllowed", advice=refused.message)
    return CheckResult(name, service, True, summary=summary, request_id=request_id)
