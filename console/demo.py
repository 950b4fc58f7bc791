"""The demo connection `make up` creates: a localcloud AccessKey, two KMS keys and seven buckets in mixed states.

Bootstrap runs before localcloud (and the embedded Redis) are started, so the data is written through a
temporary localcloud server in this process, with the same client layers the console uses everywhere.
Some objects are uploaded before their bucket's default is set, so they stay unencrypted under a KMS default:
the state the console exists to find and fix.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from audit.models import AuditEvent
from audit.services import record
from buckets.models import Connection
from cloud.errors import CloudError, ServiceError
from cloud.kms import KmsClient
from cloud.oss import OssClient
from cloud.sse import AES256, KMS, NONE, OSS, SM4, Sse
from console import health
from console.embedded_redis import EmbeddedRedis
from localcloud.accesskeys import create_access_key, deactivate_access_key
from localcloud.server import BackgroundServer

DEMO_NAME = "localcloud (demo)"
DEMO_LOG_OBJECTS = 300
APP_KEY_ALIAS = "alias/demo-app"
RETIRED_KEY_ALIAS = "alias/demo-retired"
# Scanned once a worker is ready under `make up` (jobs/services/demo.py), for the Overview's first visit.
FIRST_SCAN_BUCKET = "demo-versioned"

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoObject:
    key: str
    body: bytes
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)
    tags: str = ""
    sse: Sse | None = None

    def headers(self, key_ids: dict[str, str]) -> dict[str, str]:
        headers = {"Content-Type": self.content_type}
        headers |= {f"x-oss-meta-{name}": value for name, value in self.metadata.items()}
        if self.tags:
            headers["x-oss-tagging"] = self.tags
        if self.sse:
            headers |= _resolved(self.sse, key_ids).request_headers()
        return headers


@dataclass(frozen=True)
class DemoBucket:
    """Objects uploaded while the bucket has no default, then the default, then the objects uploaded after."""

    name: str
    default: Sse
    before_default: tuple[DemoObject, ...] = ()
    after_default: tuple[DemoObject, ...] = ()
    versioned: bool = False  # versioning Enabled before the first object: a key written twice keeps both


def _text(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _binary(size: int) -> bytes:
    return os.urandom(size)


def _log(day: int) -> DemoObject:
    lines = [f"2026-11-{day:02d}T0{hour}:00:00Z INFO checkout served order {day * 100 + hour}" for hour in range(8)]
    return DemoObject(f"logs/2026/11/app-{day:02d}.log", _text(*lines), "text/plain", {"service": "checkout"})


def _access_log(index: int) -> DemoObject:
    hour, minute = divmod(index, 60)
    line = f"2026-11-22T{hour % 24:02d}:{minute:02d}:00Z GET /checkout 200 {index * 7 % 900} ms"
    return DemoObject(f"access/2026/11/22/{hour:02d}-{minute:02d}.log", _text(line), "text/plain", {"source": "edge"})


def _ledger(year: int, status: str) -> DemoObject:
    return DemoObject(f"ledgers/{year}.csv", _text("status,total", f"{status},{year * 3}"), "text/csv")


def _client_side_encrypted(key: str, size: int) -> DemoObject:
    """Metadata as oss2.CryptoBucket writes it with an RsaProvider; the data key here wraps nothing real."""
    metadata = {
        "client-side-encryption-key": base64.b64encode(os.urandom(256)).decode(),
        "client-side-encryption-start": base64.b64encode(os.urandom(256)).decode(),
        "client-side-encryption-cek-alg": "AES/CTR/NoPadding",
        "client-side-encryption-wrap-alg": "RSA/NONE/PKCS1Padding",
        "client-side-encryption-matdesc": json.dumps({"owner": "legal", "purpose": "demo"}),
        "client-side-encryption-unencrypted-content-length": str(size),
    }
    return DemoObject(key, _binary(size), "application/octet-stream", metadata)


def demo_buckets() -> list[DemoBucket]:
    return [
        DemoBucket(
            "demo-plain",
            Sse(NONE),
            after_default=(
                DemoObject("readme.txt", _text("This bucket has no default encryption."), "text/plain"),
                DemoObject("docs/handbook.md", _text("# Handbook", "", "Welcome."), "text/markdown", {"owner": "hr"}),
                DemoObject("images/logo.png", b"\x89PNG\r\n\x1a\n" + _binary(2048), "image/png"),
                DemoObject(
                    "exports/customers-2026-10.csv",
                    _text("id,name,city", "1,Li Wei,Hangzhou", "2,Zhang Min,Shanghai"),
                    "text/csv",
                    {"exported-by": "crm"},
                    tags="classification=confidential",
                ),
            ),
        ),
        DemoBucket(
            "demo-aes256",
            Sse(OSS, AES256),
            before_default=(DemoObject("legacy/2025-archive.zip", _binary(4096), "application/zip"),),
            after_default=(
                DemoObject("invoices/2026/11/inv-1001.pdf", b"%PDF-1.7\n" + _binary(3000), "application/pdf"),
                DemoObject("invoices/2026/11/inv-1002.pdf", b"%PDF-1.7\n" + _binary(3000), "application/pdf"),
                DemoObject(
                    "invoices/signing-cert.pem",
                    _text("-----BEGIN CERTIFICATE-----", "MIIDemo", "-----END CERTIFICATE-----"),
                    "application/x-pem-file",
                    sse=Sse(OSS, SM4),
                ),
            ),
        ),
        DemoBucket(
            "demo-sm4",
            Sse(OSS, SM4),
            after_default=(
                DemoObject("filings/2026-q3.xml", _text("<filing quarter='2026Q3'/>"), "application/xml"),
                DemoObject("filings/2026-q4.xml", _text("<filing quarter='2026Q4'/>"), "application/xml"),
                DemoObject("filings/manifest.json", _text('{"filings": 2}'), "application/json", sse=Sse(KMS, AES256)),
            ),
        ),
        DemoBucket(
            "demo-kms-default",
            Sse(KMS, AES256),
            before_default=(_log(18), _log(19), _log(20)),
            after_default=(
                _log(21),
                DemoObject(
                    "reports/2026-11-weekly.csv",
                    _text("week,orders,revenue", "47,1208,98120.50"),
                    "text/csv",
                    {"report-owner": "finance"},
                    tags="team=finance&retention=1y",
                ),
                DemoObject("reports/public-summary.html", _text("<h1>Summary</h1>"), "text/html", sse=Sse(OSS, AES256)),
            ),
        ),
        DemoBucket(
            "demo-kms-named",
            Sse(KMS, SM4, APP_KEY_ALIAS),
            before_default=(
                DemoObject("backups/2026-11-01/db.sql.gz", _binary(5000), "application/gzip", {"db": "orders"}),
                DemoObject("app/config.json", _text('{"feature_flags": ["new-checkout"]}'), "application/json"),
            ),
            after_default=(
                DemoObject("backups/2026-11-20/db.sql.gz", _binary(5000), "application/gzip", {"db": "orders"}),
                DemoObject(
                    "media/upload-0001.jpg", b"\xff\xd8\xff\xe0" + _binary(2500), "image/jpeg", sse=Sse(KMS, AES256)
                ),
                _client_side_encrypted("contracts/2026/acme-master-agreement.pdf", 1500),
            ),
        ),
        # Versioned: each ledger's unencrypted first version stays, older, under its KMS-encrypted current one.
        DemoBucket(
            "demo-versioned",
            Sse(KMS, AES256),
            before_default=tuple(_ledger(year, "draft") for year in (2024, 2025, 2026)),
            after_default=tuple(_ledger(year, "final") for year in (2024, 2025, 2026)),
            versioned=True,
        ),
        # Enough objects for a re-encryption job's progress to be watched: unencrypted from before the default.
        DemoBucket(
            "demo-logs",
            Sse(OSS, AES256),
            before_default=tuple(_access_log(index) for index in range(DEMO_LOG_OBJECTS)),
        ),
    ]


def _resolved(sse: Sse, key_ids: dict[str, str]) -> Sse:
    """The demo plan names keys by alias; OSS wants the CMK id."""
    return Sse(sse.method, sse.algorithm, key_ids.get(sse.key_id, sse.key_id))


def ensure_demo_connection(say: Say) -> Connection | None:
    """Create the demo connection and its data once; on a later run say there is nothing to do.

    A failed seeding leaves no connection behind (and deactivates its AccessKey), so the next run tries again;
    buckets and keys that were already made are kept and reused.
    """
    if not settings.LOCALCLOUD_ENABLED:
        say("demo: localcloud is disabled (LOCALCLOUD_ENABLED), so there is no demo connection")
        return None
    existing = Connection.objects.filter(is_demo=True).first()
    if existing:
        say(f"demo: connection {existing.name!r} exists: nothing to do")
        return existing
    if Connection.objects.filter(name=DEMO_NAME).exists():
        say(f"demo: a connection named {DEMO_NAME!r} exists and is not the demo one: no demo data")
        return None
    connection = _new_demo_connection()
    say("demo: localcloud AccessKey created for the demo connection")
    try:
        summary = _seed(connection, say)
    except ServiceError as error:
        deactivate_access_key(connection.access_key_id)
        record("demo.seed", target=DEMO_NAME, outcome=AuditEvent.FAILURE, error=error.message)
        raise
    with transaction.atomic():
        connection.save()
        record("demo.seed", connection=connection, after=summary)
    say(f"demo: connection {connection.name!r} saved for {connection.oss_endpoint} ({connection.region})")
    return connection


def _new_demo_connection() -> Connection:
    access_key_id, secret = create_access_key("demo connection")
    connection = Connection(
        name=DEMO_NAME,
        oss_endpoint=f"http://{settings.LOCALCLOUD_HOST}:{settings.LOCALCLOUD_PORT}",
        region=settings.LOCALCLOUD_REGION,
        is_demo=True,
    )
    connection.set_credentials(access_key_id, secret)
    return connection


def _seed(connection: Connection, say: Say) -> dict:
    with _kms_replay_cache(say), _temporary_localcloud(say) as endpoint:
        seeding = copy.copy(connection)
        seeding.oss_endpoint = endpoint
        key_ids = _ensure_keys(KmsClient(seeding), say)
        oss = OssClient(seeding)
        existing = {bucket.name for bucket in oss.list_buckets()}
        names = {key_id: f"{alias}({key_id})" for alias, key_id in key_ids.items()}
        labels = {plan.name: _seed_bucket(oss, plan, key_ids, names, existing, say) for plan in demo_buckets()}
    return {"keys": sorted(key_ids), "buckets": labels}


@contextmanager
def _kms_replay_cache(say: Say) -> Iterator[None]:
    """localcloud's KMS keeps signature nonces in Redis; before `make up` starts the embedded one, run it briefly."""
    if not settings.REDIS_IS_EMBEDDED or health.check_redis() == "ok":
        yield
        return
    redis = EmbeddedRedis(
        settings.VAR_DIR / "redis", port=settings.EMBEDDED_REDIS_PORT, password=settings.EMBEDDED_REDIS_PASSWORD
    )
    try:
        redis.start()
    except (OSError, RuntimeError) as error:
        raise ServiceError(f"the embedded Redis that KMS needs did not start: {error}") from None
    say(f"demo: temporary Redis on 127.0.0.1:{redis.port}")
    try:
        yield
    finally:
        redis.stop()


@contextmanager
def _temporary_localcloud(say: Say) -> Iterator[str]:
    try:
        server = BackgroundServer(port=0).start()
    except OSError as error:
        raise ServiceError(f"a temporary localcloud did not start: {error}") from None
    say(f"demo: temporary localcloud on {server.endpoint}")
    # Its access log line per request would bury the step lines; warnings and errors still show.
    access_log = logging.getLogger("localcloud.oss")
    level = access_log.level
    access_log.setLevel(logging.WARNING)
    try:
        yield server.endpoint
    finally:
        access_log.setLevel(level)
        server.stop()


def _ensure_keys(kms: KmsClient, say: Say) -> dict[str, str]:
    """The demo's CMKs by alias: one to encrypt with, one disabled that the key chooser must not offer."""
    return {
        APP_KEY_ALIAS: _ensure_key(kms, APP_KEY_ALIAS, "Demo application data", say),
        RETIRED_KEY_ALIAS: _ensure_key(kms, RETIRED_KEY_ALIAS, "Retired demo key", say, disabled=True),
    }


def _ensure_key(kms: KmsClient, alias: str, description: str, say: Say, *, disabled: bool = False) -> str:
    try:
        key_id = kms.describe_key(alias).key_id
    except CloudError as error:
        if error.http_status != 404:
            raise
    else:
        say(f"demo: KMS key {alias}({key_id}) exists")
        return key_id
    key, _ = kms.create_key(description=description)
    kms.create_alias(key.key_id, alias)
    if disabled:
        kms.disable_key(key.key_id)
    say(f"demo: KMS key {alias}({key.key_id}) created" + (" and disabled" if disabled else ""))
    return key.key_id


def _seed_bucket(
    oss: OssClient, plan: DemoBucket, key_ids: dict[str, str], names: dict[str, str], existing: set[str], say: Say
) -> str:
    """The bucket's default as a label; an existing bucket is left as it is."""
    default = _resolved(plan.default, key_ids)
    label = default.label(names)
    if plan.name in existing:
        say(f"demo: bucket {plan.name} exists: left as it is")
        return label
    oss.create_bucket(plan.name)
    if plan.versioned:
        oss.put_versioning(plan.name, "Enabled")
    for item in plan.before_default:
        oss.put_object(plan.name, item.key, item.body, item.headers(key_ids))
    if default.rule():
        oss.put_encryption(plan.name, default.rule())
    for item in plan.after_default:
        oss.put_object(plan.name, item.key, item.body, item.headers(key_ids))
    count = len(plan.before_default) + len(plan.after_default)
    earlier = f", {len(plan.before_default)} of them uploaded before the default" if plan.before_default else ""
    earlier += ", versioned: a key written twice keeps its older version" if plan.versioned else ""
    say(f"demo: bucket {plan.name}: default {label}, {count} objects{earlier}")
    return label
