"""The console's only door to OSS: oss2 calls for one connection, answers as plain data, errors as CloudError.

Nothing else imports oss2, so the same services serve Alibaba Cloud and localcloud.
"""

from __future__ import annotations

import copy
import datetime
import email.utils
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import oss2
from oss2 import exceptions as oss_errors
from oss2 import models as oss_models

from cloud.endpoints import check_endpoint
from cloud.errors import CloudError
from cloud.retries import idempotent

CONNECT_TIMEOUT_SECONDS = 10
SSE_HEADER = "x-oss-server-side-encryption"
QOS_DELAY_HEADER = "x-oss-qos-delay-time"  # milliseconds OSS delays a request for QoS
SSE_DATA_HEADER = "x-oss-server-side-data-encryption"
SSE_KEY_HEADER = "x-oss-server-side-encryption-key-id"
USER_META_PREFIX = "x-oss-meta-"
VERSION_ID_HEADER = "x-oss-version-id"
# Content headers a copy with REPLACE must send again, or they are lost (design.md §7).
CONTENT_HEADERS = (
    "Content-Type",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Cache-Control",
    "Expires",
)


@dataclass(frozen=True)
class BucketSummary:
    name: str
    region: str
    location: str
    created: datetime.datetime | None
    storage_class: str


@dataclass(frozen=True)
class EncryptionRule:
    """The bucket default as OSS states it: algorithm AES256/SM4/KMS, key id and data encryption for KMS."""

    algorithm: str
    kms_key_id: str = ""
    kms_data_encryption: str = ""


@dataclass(frozen=True)
class BucketDetails:
    summary: BucketSummary
    acl: str
    versioning: str
    rule: EncryptionRule | None


@dataclass(frozen=True)
class ObjectEntry:
    key: str
    size: int
    etag: str
    last_modified: datetime.datetime | None
    storage_class: str
    object_type: str


@dataclass(frozen=True)
class ObjectPage:
    objects: list[ObjectEntry]
    folders: list[str]
    next_token: str


@dataclass(frozen=True)
class ObjectVersion:
    """One version of a key in a versioned bucket, as ListObjectVersions states it: an object or a delete marker."""

    key: str
    version_id: str
    is_latest: bool
    last_modified: datetime.datetime | None
    delete_marker: bool
    size: int = 0
    etag: str = ""
    storage_class: str = ""


@dataclass(frozen=True)
class VersionPage:
    """One ListObjectVersions page; the markers are empty on the last one."""

    versions: list[ObjectVersion]
    folders: list[str]
    next_key_marker: str
    next_version_id_marker: str


@dataclass(frozen=True)
class LifecycleRule:
    """One lifecycle rule, as the console shows it: its id, prefix, status, what it applies to and what it does,
    in words. `native` is the rule as oss2 read it, opaque outside this module: put_lifecycle writes a rule read
    from OSS back from it, so every part OSS holds (filters, transitions, access-time options) survives unchanged."""

    rule_id: str
    prefix: str
    status: str
    scope: tuple[str, ...]
    actions: tuple[str, ...]
    noncurrent_days: int | None = None
    native: object = field(default=None, compare=False, repr=False)

    @property
    def enabled(self) -> bool:
        return self.status == oss_models.LifecycleRule.ENABLED

    @classmethod
    def noncurrent_expiry(cls, rule_id: str, days: int) -> LifecycleRule:
        """An Enabled rule over the whole bucket that deletes versions `days` days after they became noncurrent."""
        native = oss_models.LifecycleRule(
            rule_id,
            "",
            status=oss_models.LifecycleRule.ENABLED,
            noncurrent_version_expiration=oss_models.NoncurrentVersionExpiration(days),
        )
        return _lifecycle_rule(native)


@dataclass(frozen=True)
class ObjectHead:
    key: str
    headers: dict[str, str]
    request_id: str

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def size(self) -> int:
        return int(self.header("content-length") or 0)

    @property
    def etag(self) -> str:
        return self.header("etag").strip('"')

    @property
    def version_id(self) -> str:
        """The version HEADed, in a bucket that has had versioning ("null" for a version written unversioned)."""
        return self.header(VERSION_ID_HEADER)

    @property
    def storage_class(self) -> str:
        return self.header("x-oss-storage-class") or "Standard"

    @property
    def last_modified(self) -> datetime.datetime | None:
        return _http_time(self.header("last-modified"))

    @property
    def user_metadata(self) -> dict[str, str]:
        return {
            name[len(USER_META_PREFIX) :]: value
            for name, value in self.headers.items()
            if name.startswith(USER_META_PREFIX)
        }

    @property
    def content_headers(self) -> dict[str, str]:
        return {name: self.header(name) for name in CONTENT_HEADERS if self.header(name)}


@dataclass(frozen=True)
class ObjectDownload:
    """One GET: the response headers (the same as HEAD's) and the content as stored, in chunks."""

    head: ObjectHead
    chunks: StoredContent


@dataclass(frozen=True)
class ObjectAcl:
    """An object's ACL and when OSS served it (the answer's Date, whole seconds)."""

    acl: str
    served_at: datetime.datetime | None


@dataclass(frozen=True)
class MultipartUploadEntry:
    key: str
    upload_id: str
    initiated: datetime.datetime | None


@dataclass(frozen=True)
class Written:
    etag: str
    request_id: str
    headers: dict[str, str] = field(default_factory=dict)


def multipart_etag(parts: list[tuple[int, str]]) -> str:
    """The ETag OSS gives the object a Complete of these (number, ETag) parts makes: the upper hex MD5 of the
    parts' binary MD5s, then `-<part count>`."""
    digest = hashlib.md5(b"".join(bytes.fromhex(etag.strip('"')) for _, etag in parts), usedforsecurity=False)
    return f"{digest.hexdigest().upper()}-{len(parts)}"


def _time(value) -> datetime.datetime | None:
    if value in (None, ""):
        return None
    return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)


def _http_time(value: str | None) -> datetime.datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def _region_of(location: str, region: str | None) -> str:
    if region:
        return region
    return location[4:] if location.startswith("oss-") else location


@contextmanager
def _cloud_errors():
    try:
        yield
    except oss_errors.RequestError as error:
        cause = type(getattr(error, "exception", None) or error).__name__
        raise CloudError("oss", "RequestError", f"OSS endpoint unreachable ({cause})") from None
    except oss_errors.OssError as error:
        code = error.code or f"HTTP{error.status}"
        message = error.message or "no message"
        raise CloudError("oss", code, message, error.request_id, error.status, _qos_delay_ms(error)) from None


def _qos_delay_ms(error: oss_errors.OssError) -> int:
    headers = {name.lower(): value for name, value in (getattr(error, "headers", None) or {}).items()}
    try:
        return max(0, int(headers.get(QOS_DELAY_HEADER, 0)))
    except ValueError:
        return 0


def _request_id(result) -> str:
    return getattr(result, "request_id", "") or ""


class DataBytes:
    """Object data this client moved over the wire: bodies of object GETs and of PUTs (objects and parts).

    Metadata calls (HEAD, ACL, tagging, CopyObject, UploadPartCopy) move none, which is how a job shows that
    a server-side copy or a rewrap moved no object data.
    """

    def __init__(self):
        self.total = 0
        self._lock = threading.Lock()

    def count(self, response, *args, **kwargs):
        request = response.request
        subresource = urlsplit(request.url).query.split("&")[0].split("=")[0]
        moved = 0
        if request.method == "GET" and subresource in ("", "response-content-type"):
            moved = int(response.headers.get("Content-Length") or 0)
        elif request.method == "PUT" and subresource in ("", "partNumber", "uploadId"):
            body = request.body
            moved = len(body) if isinstance(body, bytes | str) else int(request.headers.get("Content-Length") or 0)
        if moved:
            with self._lock:
                self.total += moved
        return response


class OssClient:
    """OSS as one connection sees it."""

    def __init__(self, connection, pool_size: int = 10):
        check_endpoint(connection.oss_endpoint)
        self.connection = connection
        # One session per client: its calls reuse connections (threads of a job page share one client).
        self.session = oss2.Session(pool_size=pool_size)
        self.data_bytes = DataBytes()
        self.session.session.hooks["response"].append(self.data_bytes.count)
        self.endpoint = connection.oss_endpoint
        self.region = connection.region
        if connection.sts_token:
            self.auth = oss2.StsAuth(
                connection.access_key_id,
                connection.access_key_secret,
                connection.sts_token,
                auth_version=oss2.AUTH_VERSION_4,
            )
        else:
            self.auth = oss2.AuthV4(connection.access_key_id, connection.access_key_secret)

    def _service(self) -> oss2.Service:
        return oss2.Service(
            self.auth, self.endpoint, connect_timeout=CONNECT_TIMEOUT_SECONDS, region=self.region, session=self.session
        )

    def _bucket(self, name: str) -> oss2.Bucket:
        return oss2.Bucket(
            self.auth,
            self.endpoint,
            name,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            region=self.region,
            session=self.session,
        )

    # Buckets

    @idempotent
    def list_buckets(self) -> list[BucketSummary]:
        buckets, marker = [], ""
        with _cloud_errors():
            while True:
                page = self._service().list_buckets(marker=marker, max_keys=1000)
                buckets += [
                    BucketSummary(
                        b.name,
                        _region_of(b.location, b.region),
                        b.location,
                        _time(b.creation_date),
                        b.storage_class or "",
                    )
                    for b in page.buckets
                ]
                if not page.is_truncated:
                    return buckets
                marker = page.next_marker

    @idempotent
    def bucket_details(self, name: str) -> BucketDetails:
        with _cloud_errors():
            info = self._bucket(name).get_bucket_info()
        rule = info.bucket_encryption_rule
        algorithm = getattr(rule, "sse_algorithm", None) or getattr(rule, "ssealgorithm", None)
        return BucketDetails(
            summary=BucketSummary(
                info.name,
                _region_of(info.location or "", None),
                info.location or "",
                _parse_iso(info.creation_date),
                info.storage_class or "",
            ),
            acl=getattr(info.acl, "grant", "") or "",
            versioning=info.versioning_status or "",
            rule=EncryptionRule(algorithm, rule.kms_master_keyid or "", rule.kms_data_encryption or "")
            if algorithm and algorithm != "None"
            else None,
        )

    def create_bucket(self, name: str, storage_class: str = "Standard", acl: str = "private") -> str:
        with _cloud_errors():
            result = self._bucket(name).create_bucket(acl, oss_models.BucketCreateConfig(storage_class))
        return _request_id(result)

    @idempotent
    def versioning(self, name: str) -> str:
        """Enabled, Suspended, or "" for a bucket that never had versioning."""
        with _cloud_errors():
            return self._bucket(name).get_bucket_versioning().status or ""

    @idempotent
    def put_versioning(self, name: str, status: str) -> str:
        """Versioning Enabled or Suspended (a bucket never returns to unversioned)."""
        with _cloud_errors():
            return _request_id(self._bucket(name).put_bucket_versioning(oss_models.BucketVersioningConfig(status)))

    @idempotent
    def get_encryption(self, name: str) -> EncryptionRule | None:
        """The bucket default, or None when the bucket has none (NoSuchServerSideEncryptionRule)."""
        try:
            with _cloud_errors():
                rule = self._bucket(name).get_bucket_encryption()
        except CloudError as error:
            if error.code == "NoSuchServerSideEncryptionRule":
                return None
            raise
        return EncryptionRule(rule.sse_algorithm, rule.kms_master_keyid or "", rule.kms_data_encryption or "")

    @idempotent
    def put_encryption(self, name: str, rule: EncryptionRule) -> str:
        oss_rule = oss_models.ServerSideEncryptionRule(
            sse_algorithm=rule.algorithm,
            kms_master_keyid=rule.kms_key_id or None,
            kms_data_encryption=rule.kms_data_encryption or None,
        )
        with _cloud_errors():
            return _request_id(self._bucket(name).put_bucket_encryption(oss_rule))

    @idempotent
    def delete_encryption(self, name: str) -> str:
        with _cloud_errors():
            return _request_id(self._bucket(name).delete_bucket_encryption())

    @idempotent
    def bucket_lifecycle(self, name: str) -> list[LifecycleRule]:
        """The bucket's lifecycle rules, in OSS's order; none when it has no configuration (NoSuchLifecycle)."""
        try:
            with _cloud_errors():
                configuration = self._bucket(name).get_bucket_lifecycle()
        except CloudError as error:
            if error.code == "NoSuchLifecycle":
                return []
            raise
        return [_lifecycle_rule(rule) for rule in configuration.rules]

    @idempotent
    def put_lifecycle(self, name: str, rules: list[LifecycleRule]) -> str:
        """PutBucketLifecycle: `rules` replace the whole configuration, as OSS replaces it."""
        with _cloud_errors():
            result = self._bucket(name).put_bucket_lifecycle(
                oss_models.BucketLifecycle([_writable(rule.native) for rule in rules])
            )
        return _request_id(result)

    @idempotent
    def delete_lifecycle(self, name: str) -> str:
        """DeleteBucketLifecycle: the bucket keeps no rule."""
        with _cloud_errors():
            return _request_id(self._bucket(name).delete_bucket_lifecycle())

    # Objects

    @idempotent
    def list_objects(
        self, bucket: str, prefix: str = "", token: str = "", max_keys: int = 100, delimiter: str = "/"
    ) -> ObjectPage:
        with _cloud_errors():
            page = self._bucket(bucket).list_objects_v2(
                prefix=prefix, delimiter=delimiter, continuation_token=token, max_keys=max_keys
            )
        objects = [
            ObjectEntry(
                o.key, o.size, (o.etag or "").strip('"'), _time(o.last_modified), o.storage_class or "", o.type or ""
            )
            for o in page.object_list
        ]
        return ObjectPage(objects, list(page.prefix_list), page.next_continuation_token if page.is_truncated else "")

    @idempotent
    def list_object_versions(
        self, bucket: str, prefix: str = "", key_marker: str = "", version_id_marker: str = "", max_keys: int = 100
    ) -> VersionPage:
        """One page of versions and delete markers, each key's newest first."""
        with _cloud_errors():
            page = self._bucket(bucket).list_object_versions(
                prefix=prefix, key_marker=key_marker, versionid_marker=version_id_marker, max_keys=max_keys
            )
        versions = [
            ObjectVersion(
                v.key,
                v.versionid,
                v.is_latest,
                _time(v.last_modified),
                False,
                v.size,
                (v.etag or "").strip('"'),
                v.storage_class or "",
            )
            for v in page.versions
        ] + [ObjectVersion(m.key, m.versionid, m.is_latest, _time(m.last_modified), True) for m in page.delete_marker]
        # oss2 parses versions and delete markers into two lists: put them back in each key's order, newest first.
        versions.sort(key=lambda v: (not v.is_latest, -(v.last_modified.timestamp() if v.last_modified else 0)))
        versions.sort(key=lambda v: v.key)
        truncated = page.is_truncated
        return VersionPage(
            versions,
            list(page.common_prefix),
            page.next_key_marker if truncated else "",
            page.next_versionid_marker if truncated else "",
        )

    def each_version(self, bucket: str, prefix: str = "", per_page: int = 1000) -> Iterator[ObjectVersion]:
        """Every version and delete marker under `prefix`, in listing order (by key, each key's newest first),
        one ListObjectVersions page at a time, as far as the caller reads."""
        key_marker = version_id_marker = ""
        while True:
            page = self.list_object_versions(bucket, prefix, key_marker, version_id_marker, per_page)
            yield from page.versions
            if not page.next_key_marker and not page.next_version_id_marker:
                return
            key_marker, version_id_marker = page.next_key_marker, page.next_version_id_marker

    @idempotent
    def head_object(self, bucket: str, key: str, version_id: str = "") -> ObjectHead:
        params = {"versionId": version_id} if version_id else None
        with _cloud_errors():
            result = self._bucket(bucket).head_object(key, params=params)
        return ObjectHead(key, {name.lower(): value for name, value in result.headers.items()}, _request_id(result))

    @idempotent
    def object_tags(self, bucket: str, key: str) -> dict[str, str]:
        with _cloud_errors():
            return dict(self._bucket(bucket).get_object_tagging(key).tag_set.tagging_rule)

    @idempotent
    def object_acl(self, bucket: str, key: str) -> str:
        with _cloud_errors():
            return self._bucket(bucket).get_object_acl(key).acl

    @idempotent
    def object_acl_served(self, bucket: str, key: str) -> ObjectAcl:
        with _cloud_errors():
            result = self._bucket(bucket).get_object_acl(key)
        return ObjectAcl(result.acl, _http_time(result.headers.get("date")))

    def put_object(self, bucket: str, key: str, data, headers: dict[str, str]) -> Written:
        with _cloud_errors():
            result = self._bucket(bucket).put_object(key, data, headers=headers)
        return Written(result.etag, _request_id(result), dict(result.headers))

    def delete_object(self, bucket: str, key: str, version_id: str = "") -> Written:
        """Delete the object, or one version of it (in a versioned bucket, without a version id OSS adds a delete
        marker). Not retried: a repeated delete without a version id would add another marker."""
        params = {"versionId": version_id} if version_id else None
        with _cloud_errors():
            result = self._bucket(bucket).delete_object(key, params=params)
        return Written("", _request_id(result), dict(result.headers))

    def copy_in_place(self, bucket: str, key: str, headers: dict[str, str]) -> Written:
        with _cloud_errors():
            result = self._bucket(bucket).copy_object(bucket, key, key, headers=headers)
        return Written(result.etag, _request_id(result), dict(result.headers))

    def multipart_copy_in_place(
        self, bucket: str, key: str, etag: str, size: int, headers: dict[str, str], part_size: int
    ) -> Written:
        """Copy an object onto itself part by part (UploadPartCopy), for objects above the CopyObject limit.

        `headers` (metadata, SSE, storage class, ACL, tagging) go on Initiate. Every part is copied only from the
        version `etag` names; just before Complete the object is checked once more, so a concurrent overwrite
        is never clobbered: it surfaces as a 412 PreconditionFailed, and the upload is aborted.
        """
        target = self._bucket(bucket)
        with _cloud_errors():
            upload_id = target.init_multipart_upload(key, headers=headers).upload_id
        try:
            parts = []
            with _cloud_errors():
                for number, start in enumerate(range(0, max(size, 1), part_size), start=1):
                    last = min(start + part_size, size) - 1
                    copied = target.upload_part_copy(
                        bucket, key, (start, last), key, upload_id, number, headers={"x-oss-copy-source-if-match": etag}
                    )
                    parts.append(oss_models.PartInfo(number, copied.etag))
                current = target.head_object(key).etag.strip('"')
                if current != etag:
                    raise CloudError(
                        "oss", "PreconditionFailed", "The object changed during the multipart copy.", "", 412
                    )
                result = target.complete_multipart_upload(key, upload_id, parts)
        except BaseException:
            with suppress(oss_errors.OssError):
                target.abort_multipart_upload(key, upload_id)
            raise
        return Written(result.etag, _request_id(result), dict(result.headers))

    @idempotent
    def open_object(self, bucket: str, key: str, version_id: str = "") -> Iterator[bytes]:
        """The object's content (or that of one version) as chunks; errors before the first byte are CloudErrors."""
        params = {"versionId": version_id} if version_id else None
        with _cloud_errors():
            stream = self._bucket(bucket).get_object(key, params=params)
        return _chunks(stream)

    @idempotent
    def download_object(self, bucket: str, key: str) -> ObjectDownload:
        """The object in one GET, for passing on: headers and length describe exactly the bytes streamed.

        The bytes are the stored ones: a Content-Encoding the object was stored with is not undone (as OSS
        serves it), so Content-Length holds. Errors before the first byte are CloudErrors.
        """
        with _cloud_errors():
            result = self._bucket(bucket).get_object(key)
        headers = {name.lower(): value for name, value in result.headers.items()}
        return ObjectDownload(ObjectHead(key, headers, _request_id(result)), StoredContent(result.resp.response))

    @idempotent
    def download_range(self, bucket: str, key: str, start: int | None, end: int | None) -> ObjectDownload:
        """Stored bytes `start`..`end` (inclusive; end None: to the end; start None: the last `end` bytes) in one GET.

        Asks for RFC 7233 behaviour (`x-oss-range-behavior: standard`): an end past the object is clamped and a
        range wholly beyond it is a 416 InvalidRange CloudError. The head has the object's headers and the 206's
        Content-Range; without Content-Range the server sent the whole object.
        """
        with _cloud_errors():
            result = self._bucket(bucket).get_object(
                key, byte_range=(start, end), headers={"x-oss-range-behavior": "standard"}
            )
        headers = {name.lower(): value for name, value in result.headers.items()}
        return ObjectDownload(ObjectHead(key, headers, _request_id(result)), StoredContent(result.resp.response))

    # Multipart upload, part by part (the caller aborts when it gives up)

    def init_multipart(self, bucket: str, key: str, headers: dict[str, str]) -> str:
        """Start a multipart upload; `headers` (metadata, SSE, content headers) apply to the object. The upload id."""
        with _cloud_errors():
            return self._bucket(bucket).init_multipart_upload(key, headers=headers).upload_id

    def upload_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, data, headers: dict[str, str] | None = None
    ) -> Written:
        """One part (bytes, a file-like object or chunks, sent chunked when the length is unknown)."""
        with _cloud_errors():
            result = self._bucket(bucket).upload_part(key, upload_id, part_number, data, headers=headers)
        return Written(result.etag, _request_id(result), dict(result.headers))

    def complete_multipart(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: list[tuple[int, str]],
        headers: dict[str, str] | None = None,
    ) -> Written:
        """Join the parts, given as (part number, ETag) pairs, into the object."""
        infos = [oss_models.PartInfo(number, etag) for number, etag in parts]
        with _cloud_errors():
            result = self._bucket(bucket).complete_multipart_upload(key, upload_id, infos, headers=headers)
        return Written(result.etag, _request_id(result), dict(result.headers))

    @idempotent
    def list_multipart_uploads(self, bucket: str, key: str) -> list[MultipartUploadEntry]:
        """The multipart uploads in progress of exactly `key` (ListMultipartUploads with it as the prefix)."""
        with _cloud_errors():
            listed = oss2.MultipartUploadIterator(self._bucket(bucket), prefix=key)
            return [
                MultipartUploadEntry(upload.key, upload.upload_id, _time(upload.initiation_date))
                for upload in listed
                if upload.key == key
            ]

    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> str:
        with _cloud_errors():
            return _request_id(self._bucket(bucket).abort_multipart_upload(key, upload_id))


class StoredContent:
    """The body of a GET as chunks of the stored bytes; close() frees the connection, read to the end or not.

    Once streaming started there is no error page to show: a broken read ends the response early.
    """

    def __init__(self, response, chunk_size: int = 64 * 1024):
        self._response = response
        self._chunk_size = chunk_size

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.raw.stream(self._chunk_size, decode_content=False)
        finally:
            self.close()

    def close(self) -> None:
        self._response.close()


def _chunks(stream, size: int = 64 * 1024) -> Iterator[bytes]:
    with _cloud_errors():
        while chunk := stream.read(size):
            yield chunk


def _parse_iso(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


# Lifecycle rules in words


def _lifecycle_rule(rule: oss_models.LifecycleRule) -> LifecycleRule:
    noncurrent = rule.noncurrent_version_expiration
    return LifecycleRule(
        rule_id=rule.id or "",
        prefix=rule.prefix or "",
        status=rule.status or "",
        scope=tuple(_rule_scope(rule)),
        actions=tuple(_rule_actions(rule)),
        noncurrent_days=int(noncurrent.noncurrent_days) if noncurrent else None,
        native=rule,
    )


def _writable(rule: oss_models.LifecycleRule) -> oss_models.LifecycleRule:
    """The rule as read, to be written back: oss2 reads a rule without a Filter as an empty one, and would send
    that as an empty <Filter/> the rule never had."""
    condition = rule.filter
    sizes = (condition.object_size_greater_than, condition.object_size_less_than) if condition else ()
    if condition is None or condition.filter_not or any(size is not None for size in sizes):
        return rule
    unfiltered = copy.copy(rule)
    unfiltered.filter = None
    return unfiltered


def _rule_scope(rule: oss_models.LifecycleRule) -> list[str]:
    scope = [f"objects whose key starts with {rule.prefix!r}" if rule.prefix else "every object of the bucket"]
    tags = rule.tagging.tag_set.tagging_rule if rule.tagging else {}
    scope += [f"tagged {key}={value}" for key, value in tags.items()]
    condition = rule.filter
    if condition is not None:
        for excluded in condition.filter_not or []:
            tag = f" tagged {excluded.tag.key}={excluded.tag.value}" if excluded.tag and excluded.tag.key else ""
            scope.append(f"except keys starting with {excluded.prefix!r}{tag}")
        if condition.object_size_greater_than is not None:
            scope.append(f"larger than {condition.object_size_greater_than} bytes")
        if condition.object_size_less_than is not None:
            scope.append(f"smaller than {condition.object_size_less_than} bytes")
    return scope


def _when(days, created_before_date, unit: str = "after they were last modified") -> str:
    if days is not None:
        return f"{days} days {unit}"
    return f"if last modified before {created_before_date}"


def _rule_actions(rule: oss_models.LifecycleRule) -> list[str]:
    actions = []
    expiration = rule.expiration
    if expiration is not None:
        if expiration.expired_detete_marker:
            actions.append("removes delete markers that have no older version left")
        elif expiration.date is not None:
            actions.append(f"deletes objects from {expiration.date} on")
        elif expiration.days is not None or expiration.created_before_date is not None:
            actions.append("deletes objects " + _when(expiration.days, expiration.created_before_date))
    for transition in rule.storage_transitions or []:
        basis = "after they were last read" if transition.is_access_time else "after they were last modified"
        moment = _when(transition.days, transition.created_before_date, basis)
        actions.append(f"moves objects to {transition.storage_class} {moment}")
    upload = rule.abort_multipart_upload
    if upload is not None:
        actions.append("aborts multipart uploads " + _when(upload.days, upload.created_before_date, "after they began"))
    if rule.noncurrent_version_expiration is not None:
        days = rule.noncurrent_version_expiration.noncurrent_days
        actions.append(f"deletes older (noncurrent) versions {days} days after they became noncurrent")
    for transition in rule.noncurrent_version_sotrage_transitions or []:
        actions.append(
            f"moves older (noncurrent) versions to {transition.storage_class} "
            f"{transition.noncurrent_days} days after they became noncurrent"
        )
    return actions
