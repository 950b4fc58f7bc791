"""Objects of a bucket: browse, describe, upload with an encryption choice, change one object's encryption in place,
download. Pages, API and commands call these; only cloud/oss.py and cloud/kms.py talk to the cloud.
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import posixpath
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice, takewhile

from audit.services import recording
from buckets.services.buckets import check_encryption_allowed
from cloud.cse import recognition as cse
from cloud.errors import CloudError, Conflict, ServiceError
from cloud.oss import (
    SSE_KEY_HEADER,
    USER_META_PREFIX,
    ObjectDownload,
    ObjectEntry,
    ObjectHead,
    ObjectVersion,
    OssClient,
    Written,
)
from cloud.sse import KMS, NONE, Sse
from encryption import selectors

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Enough to hide the latency of one page of HEADs without flooding the endpoint.
HEAD_WORKERS = 8
MAX_KEY_BYTES = 1023
# The versions an object's page and API show, newest first: each one costs a HEAD, to tell its encryption.
MAX_VERSIONS_SHOWN = 100
MAX_METADATA_BYTES = 8 * 1024
# Above this a single CopyObject is refused by OSS; such objects need a multipart copy (a re-encryption job).
COPY_OBJECT_LIMIT = 1024**3
COLD_STORAGE_CLASSES = ("Archive", "ColdArchive", "DeepColdArchive")
OBJECT_CHANGED = "The object changed while we worked; nothing was overwritten; reload and try again."
CRC64_HEADER = "x-oss-hash-crc64ecma"

_METADATA_NAME = re.compile(r"[A-Za-z0-9-]+")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
# Longer than any real media type with its parameters; a bound keeps every check on it cheap.
MAX_CONTENT_TYPE_LENGTH = 256


class ObjectChanged(CloudError):
    """OSS refused the copy because the object is no longer the one read (412): a Conflict for the caller."""

    def __init__(self, refused: CloudError):
        super().__init__(refused.service, refused.code, OBJECT_CHANGED, refused.request_id, refused.http_status)
        self.status_code = Conflict.status_code


@dataclass(frozen=True)
class Encryption:
    """An object's server-side encryption as OSS reports it, with the console's label and the key's name."""

    sse: Sse
    label: str
    key_name: str = ""


def _encryption(sse: Sse, key_names: dict[str, str]) -> Encryption:
    key_name = key_names.get(sse.key_id, sse.key_id) if sse.method == KMS else ""
    return Encryption(sse, sse.label(key_names), key_name)


def _key_names(bucket, *settings: Sse) -> dict[str, str]:
    """Key names for labels, asking KMS only when a KMS setting is there to name."""
    if any(sse.method == KMS for sse in settings):
        return selectors.key_names(bucket.connection, bucket.region)
    return {}


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


# Browsing


def folder_crumbs(path: str) -> list[tuple[str, str]]:
    """(folder name, its prefix) from the top of the bucket down to the folder holding `path`."""
    crumbs, prefix = [], ""
    for part in path.split("/")[:-1]:
        prefix += part + "/"
        crumbs.append((part, prefix))
    return crumbs


@dataclass(frozen=True)
class ObjectRow:
    """One object of a listing page with what its HEAD says about encryption (or why the HEAD failed)."""

    entry: ObjectEntry
    name: str
    encryption: Encryption | None
    client_side: cse.ClientSideEncryption | None
    error: str = ""


@dataclass(frozen=True)
class Listing:
    """One page of a folder: sub-folders (as prefixes) and objects, with the token of the next page."""

    prefix: str
    token: str
    folders: list[str]
    objects: list[ObjectRow]
    next_token: str

    @property
    def folder_rows(self) -> list[tuple[str, str]]:
        """(name within the folder listed, prefix) of each sub-folder."""
        return [(folder[len(self.prefix) :], folder) for folder in self.folders]


def browse_objects(bucket, *, prefix: str = "", token: str = "", max_keys: int = PAGE_SIZE) -> Listing:
    """One ListObjectsV2 page under `prefix` (folders rolled up at "/"), each object's encryption from its HEAD.

    ListObjectsV2 does not say how objects are encrypted, so the objects of this page (never more) are HEADed in
    parallel.
    """
    if not 1 <= max_keys <= MAX_PAGE_SIZE:
        raise ServiceError(f"max_keys must be between 1 and {MAX_PAGE_SIZE}.")
    oss = OssClient(bucket.connection)
    page = oss.list_objects(bucket.name, prefix=prefix, token=token, max_keys=max_keys, delimiter="/")
    with ThreadPoolExecutor(max_workers=HEAD_WORKERS) as pool:
        heads = list(pool.map(lambda entry: _head_or_error(oss, bucket.name, entry.key), page.objects))
    key_names = _key_names(bucket, *(Sse.of_headers(head.headers) for head in heads if isinstance(head, ObjectHead)))
    rows = [_row(entry, prefix, head, key_names) for entry, head in zip(page.objects, heads, strict=True)]
    return Listing(prefix, token, page.folders, rows, page.next_token)


# The object browser's encryption filter: the labels the list shows. "None" is an object with neither
# server-side nor client-side encryption; a client-side encrypted object also counts under its server-side method.
UNENCRYPTED, OSS_MANAGED, KMS_MANAGED, CLIENT_SIDE = "none", "oss", "kms", "client-side"
ENCRYPTION_FILTERS = [
    (UNENCRYPTED, "None"),
    (OSS_MANAGED, "OSS-managed"),
    (KMS_MANAGED, "KMS"),
    (CLIENT_SIDE, "Client-side encrypted"),
]


def encryption_states(row: ObjectRow) -> set[str]:
    """The filter states an object of a listing is in (none when its HEAD failed: its encryption is unknown)."""
    if row.encryption is None:
        return set()
    states = {row.encryption.sse.method} - {NONE}
    if row.client_side is not None:
        states.add(CLIENT_SIDE)
    return states or {UNENCRYPTED}


def filter_listing(listing: Listing, state: str) -> Listing:
    """The listing page with only its objects in encryption `state` (folders kept, to browse on). It filters the
    page listed, not the bucket: OSS lists no encryption, so knowing it means a HEAD per object."""
    if state not in dict(ENCRYPTION_FILTERS):
        raise ServiceError(f"Unknown encryption filter {state!r}: choose one of {', '.join(dict(ENCRYPTION_FILTERS))}.")
    return dataclasses.replace(listing, objects=[row for row in listing.objects if state in encryption_states(row)])


def _head_or_error(oss: OssClient, bucket_name: str, key: str) -> ObjectHead | CloudError:
    try:
        return oss.head_object(bucket_name, key)
    except CloudError as error:
        return error


def _row(entry: ObjectEntry, prefix: str, head: ObjectHead | CloudError, key_names: dict[str, str]) -> ObjectRow:
    name = entry.key[len(prefix) :] or entry.key
    if isinstance(head, CloudError):
        return ObjectRow(entry, name, None, None, head.message)
    encryption = _encryption(Sse.of_headers(head.headers), key_names)
    return ObjectRow(entry, name, encryption, cse.describe(head.headers))


# Describing one object


@dataclass(frozen=True)
class ObjectDetail:
    """Everything the console shows of one object: HEAD, tags, ACL, encryption on both sides."""

    key: str
    head: ObjectHead
    tags: dict[str, str]
    acl: str
    encryption: Encryption
    client_side: cse.ClientSideEncryption | None

    @property
    def breadcrumb(self) -> list[tuple[str, str]]:
        return folder_crumbs(self.key)

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1] or self.key

    @property
    def last_modified(self) -> datetime.datetime | None:
        text = self.head.header("last-modified")
        try:
            return email.utils.parsedate_to_datetime(text) if text else None
        except (TypeError, ValueError):
            return None

    @property
    def crc64(self) -> str:
        return self.head.header(CRC64_HEADER)

    @property
    def object_type(self) -> str:
        return self.head.header("x-oss-object-type") or "Normal"

    @property
    def sse_headers(self) -> dict[str, str]:
        """The SSE response headers verbatim, as OSS sent them (pages show the key's alias beside its id)."""
        names = ("x-oss-server-side-encryption", "x-oss-server-side-data-encryption", SSE_KEY_HEADER)
        return {name: self.head.header(name) for name in names if self.head.header(name)}


def describe_object(bucket, key: str) -> ObjectDetail:
    """HEAD, tags and ACL of one object, its server-side encryption named as the OSS console names it."""
    check_object_key(key)
    oss = OssClient(bucket.connection)
    head = oss.head_object(bucket.name, key)
    sse = Sse.of_headers(head.headers)
    return ObjectDetail(
        key=key,
        head=head,
        tags=oss.object_tags(bucket.name, key),
        acl=oss.object_acl(bucket.name, key),
        encryption=_encryption(sse, _key_names(bucket, sse)),
        client_side=cse.describe(head.headers),
    )


@dataclass(frozen=True)
class VersionRow:
    """One version of an object with its own encryption (from a HEAD of that version); none for a delete marker,
    or when the HEAD failed (error says why)."""

    version: ObjectVersion
    encryption: Encryption | None
    client_side: cse.ClientSideEncryption | None
    error: str = ""


@dataclass(frozen=True)
class VersionHistory:
    """An object's versions, newest first, at most MAX_VERSIONS_SHOWN of them (`more` when there are others)."""

    key: str
    rows: list[VersionRow]
    more: bool

    @property
    def noncurrent(self) -> list[VersionRow]:
        return [row for row in self.rows if not row.version.is_latest]


def object_versions(bucket, key: str) -> VersionHistory:
    """Every version and delete marker of one key, newest first, each version's encryption from its own HEAD.

    ListObjectVersions says nothing of encryption, and each version keeps the encryption it was written with, so
    the versions shown are HEADed one by one, in parallel. A bucket that never had versioning answers its
    objects as one version each, "null".
    """
    check_object_key(key)
    oss = OssClient(bucket.connection)
    versions = _versions_of(oss, bucket.name, key, MAX_VERSIONS_SHOWN + 1)
    shown = versions[:MAX_VERSIONS_SHOWN]
    with ThreadPoolExecutor(max_workers=HEAD_WORKERS) as pool:
        heads = list(pool.map(lambda version: _version_head(oss, bucket.name, version), shown))
    key_names = _key_names(bucket, *(Sse.of_headers(head.headers) for head in heads if isinstance(head, ObjectHead)))
    rows = [_version_row(version, head, key_names) for version, head in zip(shown, heads, strict=True)]
    return VersionHistory(key, rows, more=len(versions) > MAX_VERSIONS_SHOWN)


def _versions_of(oss: OssClient, bucket_name: str, key: str, at_most: int) -> list[ObjectVersion]:
    """The versions of exactly `key`: listed under it as a prefix, where they come first (the keys it begins sort
    after it), so the listing stops at the first other key."""
    versions = oss.each_version(bucket_name, prefix=key, per_page=100)
    return list(islice(takewhile(lambda version: version.key == key, versions), at_most))


def _version_head(oss: OssClient, bucket_name: str, version: ObjectVersion) -> ObjectHead | CloudError | None:
    if version.delete_marker:
        return None
    try:
        return oss.head_object(bucket_name, version.key, version_id=version.version_id)
    except CloudError as error:
        return error


def _version_row(version: ObjectVersion, head: ObjectHead | CloudError | None, key_names: dict[str, str]) -> VersionRow:
    if head is None:
        return VersionRow(version, None, None)
    if isinstance(head, CloudError):
        return VersionRow(version, None, None, head.message)
    return VersionRow(version, _encryption(Sse.of_headers(head.headers), key_names), cse.describe(head.headers))


def bucket_default(bucket) -> Encryption:
    """The bucket's default encryption as OSS states it now."""
    sse = Sse.of_rule(OssClient(bucket.connection).get_encryption(bucket.name))
    return _encryption(sse, _key_names(bucket, sse))


# Input shapes shared by the forms and the API


def check_object_key(key: str) -> None:
    """OSS object names: 1 to 1023 bytes of UTF-8, not starting with "/" or "\\"."""
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise ServiceError("An object name must be valid UTF-8.") from None
    if not 1 <= size <= MAX_KEY_BYTES:
        raise ServiceError(f"An object name has 1 to {MAX_KEY_BYTES} bytes.")
    if key[0] in "/\\":
        raise ServiceError('An object name cannot start with "/" or "\\".')


def parse_metadata(lines: Iterable[str]) -> dict[str, str]:
    """User metadata from `name=value` lines (blank lines ignored); names are letters, digits and hyphens.

    Values travel as HTTP headers, so they are printable ASCII; OSS keeps about 8 KB of metadata per object.
    """
    metadata: dict[str, str] = {}
    for line in lines:
        if not line.strip():
            continue
        name, separator, value = line.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not separator or not _METADATA_NAME.fullmatch(name):
            raise ServiceError(f"Metadata {line.strip()!r}: write name=value; names are letters, digits and hyphens.")
        if not _PRINTABLE_ASCII.fullmatch(value):
            raise ServiceError(f"Metadata {name}: values are printable ASCII.")
        metadata[name] = value
    if sum(len(name) + len(value) for name, value in metadata.items()) > MAX_METADATA_BYTES:
        raise ServiceError("User metadata is limited to 8 KB per object.")
    return metadata


def check_content_type(content_type: str) -> None:
    """type/subtype, then parameters after a semicolon: read in one pass, never by a backtracking pattern."""
    if not content_type:
        return
    if len(content_type) > MAX_CONTENT_TYPE_LENGTH:
        raise ServiceError(f"A content type is at most {MAX_CONTENT_TYPE_LENGTH} characters.")
    media_type, _, parameters = content_type.partition(";")
    kind, slash, subtype = media_type.partition("/")
    if not (slash and _visible(kind) and _visible(subtype) and _PRINTABLE_ASCII.fullmatch(parameters)):
        raise ServiceError(f"{content_type!r} is not a content type such as text/plain or image/png.")


def _visible(text: str) -> bool:
    """Printable ASCII without spaces, and not empty."""
    return bool(text) and all("!" <= character <= "~" for character in text)


# Uploading


@dataclass(frozen=True)
class Upload:
    """What an upload asked for and what the object got: the object setting wins over the bucket default."""

    key: str
    size: int
    etag: str
    request_id: str
    encryption: Encryption
    requested: Sse | None
    bucket_default: Encryption
    # What was at the key before: nothing (the upload created the object), or the object it replaced, whose
    # encryption is `replaced_encryption` (None when OSS could not say).
    replaced: bool = False
    replaced_encryption: Encryption | None = None

    @property
    def folder(self) -> str:
        return self.key[: self.key.rfind("/") + 1]

    @property
    def source(self) -> str:
        """Where the object's encryption came from: "object" setting, "bucket" default, or "none" at all."""
        if self.requested is not None:
            return "object"
        return "bucket" if self.bucket_default.sse.method != NONE else "none"

    @property
    def explanation(self) -> str:
        got, default = self.encryption.label, self.bucket_default.label
        if self.source == "object" and self.bucket_default.sse.method != NONE:
            return f"{got}: the object setting won over the bucket default ({default})."
        if self.source == "object":
            return f"{got}: the object setting (the bucket has no default)."
        if self.source == "bucket":
            return f"{got}: from the bucket default, as the upload set no encryption of its own."
        return "Not encrypted: the upload set no encryption and the bucket has no default."

    @property
    def change(self) -> str:
        """What the upload changed at its key, before → after."""
        if not self.replaced:
            before = "no object"
        elif self.replaced_encryption is None:
            before = "an object of unknown encryption (replaced)"
        else:
            before = f"{self.replaced_encryption.label} (the object it replaced)"
        return f"Uploaded {self.key}: {before} → {self.encryption.label}."


def upload_object(
    bucket,
    *,
    key: str,
    content,
    sse: Sse | None = None,
    content_type: str = "",
    metadata: dict[str, str] | None = None,
    overwrite: bool = False,
    actor=None,
) -> Upload:
    """PutObject streaming `content` (a file object, read in chunks), encrypted as `sse` asks, or by the bucket
    default when `sse` is None; an existing key is refused unless `overwrite`.
    """
    oss = OssClient(bucket.connection)
    where = {"actor": actor, "connection": bucket.connection, "bucket": bucket.name, "object_key": key}
    with recording("object.upload", **where) as pending:
        check_object_key(key)
        check_content_type(content_type)
        if sse is not None:
            sse = check_encryption_allowed(bucket, sse)
        replaced, before = existing_object(oss, bucket.name, key, overwrite=overwrite)
        default = Sse.of_rule(oss.get_encryption(bucket.name))
        written = _put(oss, bucket.name, key, content, _upload_headers(sse, content_type, metadata or {}, overwrite))
        got = Sse.of_headers(_lower(written.headers))
        key_names = _key_names(bucket, *(setting for setting in (got, default, before) if setting))
        upload = Upload(
            key=key,
            size=_size_of(content),
            etag=written.etag,
            request_id=written.request_id,
            encryption=_encryption(got, key_names),
            requested=sse,
            bucket_default=_encryption(default, key_names),
            replaced=replaced,
            replaced_encryption=_encryption(before, key_names) if before else None,
        )
        if replaced:
            pending.before = {"sse": before.as_dict() if before else None}
        pending.after = {
            "key": key,
            "size": upload.size,
            "etag": upload.etag,
            "sse": got.as_dict(),
            "sse_source": upload.source,
        }
        pending.request_id = written.request_id
    return upload


def _refuse_existing(oss: OssClient, bucket_name: str, key: str) -> None:
    existing_object(oss, bucket_name, key, overwrite=False)


def existing_object(oss: OssClient, bucket_name: str, key: str, *, overwrite: bool) -> tuple[bool, Sse | None]:
    """Whether an upload to `key` replaces an object, and that object's encryption (None when OSS cannot say).

    An existing object is refused unless `overwrite`. When overwriting, a HEAD that OSS refuses (e.g. the object is
    under a KMS key that is disabled now) does not stop the upload: only the encryption it replaces is unknown.
    """
    try:
        head = oss.head_object(bucket_name, key)
    except CloudError as error:
        if error.http_status == 404:
            return False, None
        if overwrite:
            return True, None
        raise
    if not overwrite:
        raise Conflict(f"An object named {key} already exists: tick “overwrite” to replace it.")
    return True, Sse.of_headers(head.headers)


def _upload_headers(sse: Sse | None, content_type: str, metadata: dict[str, str], overwrite: bool) -> dict:
    headers = {f"{USER_META_PREFIX}{name}": value for name, value in metadata.items()}
    headers |= sse.request_headers() if sse is not None else {}
    if content_type:
        headers["Content-Type"] = content_type
    if not overwrite:
        # Closes the gap between our HEAD and the PUT: OSS itself refuses to replace an object created meanwhile.
        headers["x-oss-forbid-overwrite"] = "true"
    return headers


def _put(oss: OssClient, bucket_name: str, key: str, content, headers: dict) -> Written:
    try:
        return oss.put_object(bucket_name, key, content, headers)
    except CloudError as error:
        if error.code == "FileAlreadyExists":
            raise Conflict(f"An object named {key} was created meanwhile: tick “overwrite” to replace it.") from None
        raise


def _size_of(content) -> int:
    size = getattr(content, "size", None)
    return size if size is not None else len(content)


# Changing one object's encryption in place (design.md §7 steps 1, 3 and 4)


@dataclass(frozen=True)
class ObjectState:
    """What the copy must keep (step 1), and what the check after it compares (step 4)."""

    head: ObjectHead
    acl: str
    tags: dict[str, str]


@dataclass(frozen=True)
class EncryptionChange:
    """One object's encryption and ETag before and after an in-place change, with the copy's request id."""

    key: str
    before: Encryption
    after: Encryption
    etag_before: str
    etag_after: str
    request_id: str


def _decrypt_refusal(default: Encryption) -> str:
    return (
        f"This bucket encrypts by default ({default.label}), and OSS encrypts a copy that asks for no encryption "
        "with the bucket default: an object can only be decrypted in place in a bucket without a default. "
        "Delete the bucket default first, or choose an encryption."
    )


def change_object_encryption(bucket, key: str, sse: Sse, actor=None, *, expected_etag: str = "") -> EncryptionChange:
    """Re-encrypt one object as `sse` by copying it onto itself, keeping everything else, then check the result.

    `expected_etag` (optional) is the version the caller saw: if the object is no longer that one, nothing is done.
    """
    oss = OssClient(bucket.connection)
    where = {"actor": actor, "connection": bucket.connection, "bucket": bucket.name, "object_key": key}
    with recording("object.encryption.change", **where) as pending:
        check_object_key(key)
        sse = check_encryption_allowed(bucket, sse)
        _refuse_decrypting_under_default(bucket, oss, sse)
        state = read_object_state(oss, bucket.name, key)
        before = Sse.of_headers(state.head.headers)
        pending.before = {"sse": before.as_dict(), "etag": state.head.etag}
        if expected_etag and expected_etag.strip('"') != state.head.etag:
            raise Conflict(OBJECT_CHANGED)
        refuse_unsupported(state.head)
        written = copy_with_encryption(oss, bucket.name, state, sse)
        after = read_object_state(oss, bucket.name, key)
        problems = verification_problems(state, after, sse)
        if problems:
            raise ServiceError(
                f"The copy was made (request id {written.request_id}) but the check after it found: "
                + "; ".join(problems)
                + "."
            )
        got = Sse.of_headers(after.head.headers)
        key_names = _key_names(bucket, before, got)
        pending.after = {"sse": got.as_dict(), "etag": after.head.etag}
        pending.request_id = written.request_id
    return EncryptionChange(
        key,
        _encryption(before, key_names),
        _encryption(got, key_names),
        state.head.etag,
        after.head.etag,
        written.request_id,
    )


def _refuse_decrypting_under_default(bucket, oss: OssClient, target: Sse) -> None:
    if target.method != NONE:
        return
    default = Sse.of_rule(oss.get_encryption(bucket.name))
    if default.method != NONE:
        raise ServiceError(_decrypt_refusal(_encryption(default, _key_names(bucket, default))))


def read_object_state(oss: OssClient, bucket_name: str, key: str) -> ObjectState:
    return ObjectState(
        oss.head_object(bucket_name, key), oss.object_acl(bucket_name, key), oss.object_tags(bucket_name, key)
    )


def copy_refusal(head: ObjectHead) -> str | None:
    """Why a copy onto itself cannot re-encrypt this object as it is, or None when it can.

    The one-object change and the jobs both ask this, so an object one path refuses is never rewritten by the other.
    """
    object_type = head.header("x-oss-object-type")
    if object_type == "Symlink":
        return "symlink: re-encrypt the object it points to"
    if object_type == "Appendable":
        return "appendable object: a copy would end appending to it"
    if head.storage_class in COLD_STORAGE_CLASSES and 'ongoing-request="false"' not in head.header("x-oss-restore"):
        return f"{head.storage_class} object not restored"
    return None


def refuse_unsupported(head: ObjectHead) -> None:
    """Objects one CopyObject cannot re-encrypt, refused before anything is written."""
    reason = copy_refusal(head)
    if reason:
        raise ServiceError(f"{head.key} cannot be re-encrypted in place: {reason}.")
    if head.size > COPY_OBJECT_LIMIT:
        raise ServiceError(
            f"{head.key} is larger than the 1 GB a single copy can re-encrypt: use a re-encryption job instead."
        )


def copy_with_encryption(oss: OssClient, bucket_name: str, state: ObjectState, target: Sse) -> Written:
    """Step 3: CopyObject onto itself with the target SSE, only if the object is still the one `state` read.

    Metadata is REPLACEd with exactly what was read, so the new SSE headers apply while content headers and user
    metadata stay; tags are copied; storage class and ACL are sent as they were.
    """
    headers = {
        "x-oss-metadata-directive": "REPLACE",
        **rewritten_headers(state, target),
        "x-oss-copy-source-if-match": state.head.etag,
        "x-oss-tagging-directive": "Copy",
    }
    try:
        return oss.copy_in_place(bucket_name, state.head.key, headers)
    except CloudError as error:
        if error.http_status == 412:
            raise ObjectChanged(error) from None
        raise


def rewritten_headers(state: ObjectState, target: Sse) -> dict[str, str]:
    """What a rewrite of the object onto itself sends so it keeps everything but its encryption."""
    head = state.head
    headers = {
        **head.content_headers,
        **{f"{USER_META_PREFIX}{name}": value for name, value in head.user_metadata.items()},
        **target.request_headers(),
        "x-oss-storage-class": head.storage_class,
    }
    if state.acl and state.acl != "default":
        headers["x-oss-object-acl"] = state.acl
    return headers


# Step 4 compares what a copy must keep, each aspect read from the object's state before and after the copy.
ASPECTS = {
    "size": lambda state: state.head.size,
    "CRC64": lambda state: state.head.header(CRC64_HEADER),
    "storage class": lambda state: state.head.storage_class,
    "user metadata": lambda state: state.head.user_metadata,
    "content headers": lambda state: state.head.content_headers,
    "ACL": lambda state: state.acl,
    "tags": lambda state: state.tags,
    "tag count": lambda state: state.head.header("x-oss-tagging-count"),
    "server-side encryption": lambda state: Sse.of_headers(state.head.headers),
}
# The one-object change reads ACL and tags on both sides (three requests for one object are cheap), so it
# compares them themselves rather than their count.
ONE_OBJECT_ASPECTS = ("size", "CRC64", "storage class", "user metadata", "content headers", "ACL", "tags")


def changed_aspects(before: ObjectState, after: ObjectState, aspects: Iterable[str]) -> list[str]:
    """ "the <aspect> changed" for each of `aspects` (names of ASPECTS) that differs between the two states."""
    return [f"the {name} changed" for name in aspects if ASPECTS[name](before) != ASPECTS[name](after)]


def verification_problems(before: ObjectState, after: ObjectState, target: Sse) -> list[str]:
    """Step 4: what differs from the target encryption and from the object as it was (empty: all is well)."""
    problems = []
    got = Sse.of_headers(after.head.headers)
    if not _as_targeted(got, target):
        problems.append(f"the encryption is {got.label()}, not {target.label()}")
    return problems + changed_aspects(before, after, ONE_OBJECT_ASPECTS)


def _as_targeted(got: Sse, target: Sse) -> bool:
    """A blank target key means the region's default CMK, which OSS reports by its id."""
    if (got.method, got.algorithm) != (target.method, target.algorithm if target.method != NONE else ""):
        return False
    return not target.key_id or got.key_id == target.key_id


# Downloading


def open_download(bucket, key: str) -> ObjectDownload:
    """The object's headers and stored bytes from one GET; refusals (e.g. a disabled CMK) come before any byte."""
    check_object_key(key)
    return OssClient(bucket.connection).download_object(bucket.name, key)


def download_filename(key: str) -> str:
    """The key's last segment, the name a browser saves the download under."""
    return posixpath.basename(key.rstrip("/")) or "download"
