"""Requests and responses of the OSS endpoint, over plain WSGI (no Django request handling: it would
invent a Content-Type, drop chunked bodies and rewrite headers; oss-api.md §1.7)."""

import email.utils
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

from django.conf import settings

from localcloud import errors, hosts
from localcloud.auth import Headers, Identity, SignedRequest

BODY_CHUNK = 256 * 1024
MAX_XML_BODY = 4 * 1024 * 1024


def _headers_of(environ) -> Headers:
    items = []
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            items.append((name[5:].replace("_", "-").lower(), value))
        elif name in ("CONTENT_TYPE", "CONTENT_LENGTH") and value != "":
            items.append((name.replace("_", "-").lower(), value))
    return Headers(items)


def _raw_target(environ) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0]
    return quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/")


class Request:
    """One OSS request: method, bucket, key, query, headers (latin-1 view of the wire bytes) and body."""

    def __init__(self, environ):
        self.environ = environ
        self.method = environ["REQUEST_METHOD"].upper()
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        headers = _headers_of(environ)
        self.host = headers.get("host", "")
        # Set for a virtual-hosted request (`<bucket>.<LOCALCLOUD_DOMAIN>`), whose whole path is the key.
        self.host_bucket = hosts.addressed(self.host, settings.LOCALCLOUD_DOMAIN).bucket
        target = _raw_target(environ) or "/"
        self.signed = SignedRequest(self.method, target, tuple(query), headers, self.host_bucket)
        self.headers: Headers = self.signed.headers
        self.params: dict[str, str] = self.signed.params
        self.bucket_name, raw_key = self.signed.bucket_and_key()
        self.key = self._decode_key(raw_key)
        self.identity: Identity | None = None
        # The signer's RAM policy (localcloud.ram.Policy); None for the account owner and anonymous callers.
        self.policy = None

    @property
    def service_host(self) -> str:
        """The endpoint's host:port as the client reached it, without the bucket of a virtual-hosted request."""
        return self.host[len(self.host_bucket) + 1 :] if self.host_bucket else self.host

    def object_url(self, key: str) -> str:
        """The URL of `key` in the request's bucket, in the request's own style (OSS's Location of an object)."""
        path = quote(key, safe="/")
        if self.host_bucket:
            return f"http://{self.host}/{path}"
        return f"http://{self.host}/{self.bucket_name}/{path}"

    @staticmethod
    def _decode_key(raw_key: bytes) -> str:
        try:
            return raw_key.decode("utf-8")
        except UnicodeDecodeError:
            raise errors.OssError(400, "InvalidObjectName", "The specified object is not valid.") from None

    def has(self, name: str) -> bool:
        return name in self.params

    @property
    def anonymous(self) -> bool:
        return self.identity is None

    def header_bytes(self, name: str) -> bytes | None:
        value = self.headers.get(name)
        return None if value is None else value.encode("latin-1")

    def body_chunks(self) -> Iterator[bytes]:
        """The body as it arrives, by Content-Length or chunked; a body shorter than announced is an error."""
        stream = self.environ["wsgi.input"]
        length = self.headers.get("content-length")
        if length is None:
            while chunk := stream.read(BODY_CHUNK):
                yield chunk
            return
        try:
            remaining = int(length)
        except ValueError:
            raise errors.invalid_argument("Content-Length is not a number.", "Content-Length", length) from None
        while remaining > 0:
            chunk = stream.read(min(BODY_CHUNK, remaining))
            if not chunk:
                raise errors.OssError(
                    400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length."
                )
            remaining -= len(chunk)
            yield chunk

    def small_body(self, limit: int = MAX_XML_BODY) -> bytes:
        """A whole body that must be small (XML documents)."""
        parts, size = [], 0
        for chunk in self.body_chunks():
            size += len(chunk)
            if size > limit:
                raise errors.OssError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
            parts.append(chunk)
        return b"".join(parts)


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""


def xml_response(body: bytes, status: int = 200, headers: dict | None = None) -> Response:
    return Response(status, {"Content-Type": "application/xml", **(headers or {})}, body)


def http_date(moment: datetime | float | None = None) -> str:
    """IMF-fixdate with a two-digit day, as oss2's Last-Modified regex demands."""
    if moment is None:
        moment = time.time()
    if isinstance(moment, datetime):
        moment = moment.timestamp()
    return email.utils.formatdate(moment, usegmt=True)


def iso_time(moment: datetime) -> str:
    """XML time with the literal `.000Z` oss2 requires."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def now_seconds() -> datetime:
    """Now, truncated to whole seconds: listings and Last-Modified must agree to the second."""
    return datetime.now(UTC).replace(microsecond=0)
