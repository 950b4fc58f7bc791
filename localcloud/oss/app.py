"""The OSS endpoint as a WSGI application: authentication, routing, common headers, error XML."""

import base64
import logging
import secrets
import time

from django.conf import settings
from django.db import close_old_connections

from localcloud import accesskeys, crypto, errors
from localcloud.auth import AuthError, authenticate_oss
from localcloud.faults import Fault
from localcloud.oss import permissions, routes
from localcloud.oss.common import CONTROL_CHARACTERS
from localcloud.oss.http import Request, Response, http_date

log = logging.getLogger("localcloud.oss")

STATUS_TEXT = {
    200: "OK", 204: "No Content", 206: "Partial Content", 304: "Not Modified", 400: "Bad Request",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 411: "Length Required",
    412: "Precondition Failed", 416: "Requested Range Not Satisfiable", 500: "Internal Server Error",
    503: "Service Unavailable",
}  # fmt: skip


def _authenticate(request: Request) -> None:
    try:
        request.identity = authenticate_oss(
            request.signed, accesskeys.lookup_secret, settings.LOCALCLOUD_REGION, time.time()
        )
    except AuthError as error:
        raise errors.OssError(error.status, error.code, error.message, **error.details) from None
    if request.identity is not None:
        request.policy = accesskeys.lookup_policy(request.identity.access_key_id)


def _error_response(error: errors.OssError, request_id: str, host: str, method: str) -> Response:
    body = error.body(request_id, host)
    headers = {"Content-Type": "application/xml", **error.headers}
    if error.ec:
        headers["x-oss-ec"] = error.ec
    if method == "HEAD" and error.status != 304:
        headers["x-oss-err"] = base64.b64encode(body).decode()
    return Response(error.status, headers, body)


def _refuse_unsafe_headers(headers: dict) -> None:
    """The last guard against header injection: no answer goes out with a control character in a header,
    whatever stored value or parameter put it there."""
    for name, value in headers.items():
        if CONTROL_CHARACTERS.search(str(value)):
            log.error("localcloud refused to send a control character in the %s header", name)
            raise errors.OssError(500, "InternalError", "We encountered an internal error. Please try again.")


def _first_chunk_checked(body):
    """Pull the first chunk before the status line goes out, so a key or integrity failure is still
    a clean error response; a failure further in aborts the connection rather than send wrong bytes."""
    iterator = iter(body)
    try:
        first = next(iterator)
    except StopIteration:
        return []
    except crypto.IntegrityError:
        raise errors.OssError(500, "InternalError", "The object's stored data failed its integrity check.") from None

    def chained():
        yield first
        yield from iterator

    return chained()


def handle(environ, fault: Fault | None = None) -> tuple[Response, str]:
    """The response to the request, or to `fault` (faults.py) without reading or changing anything."""
    request_id = secrets.token_hex(12).upper()
    method = environ.get("REQUEST_METHOD", "GET").upper()
    host = environ.get("HTTP_HOST", "")
    try:
        if fault is not None and (injected := fault.oss_error()) is not None:
            raise injected
        request = Request(environ)
        _authenticate(request)
        name = routes.resolve_name(request)
        permissions.authorize(request, name)
        response = routes.handler(name)(request)
        _refuse_unsafe_headers(response.headers)
        if not isinstance(response.body, bytes):
            response.body = _first_chunk_checked(response.body)
    except errors.OssError as error:
        response = _error_response(error, request_id, host, method)
    except Exception:
        log.exception("localcloud request %s failed", request_id)
        error = errors.OssError(500, "InternalError", "We encountered an internal error. Please try again.")
        response = _error_response(error, request_id, host, method)
    return response, request_id


def _closing(body):
    try:
        yield from body
    finally:
        close_old_connections()


def application(environ, start_response, fault: Fault | None = None):
    close_old_connections()
    started = time.perf_counter()
    response, request_id = handle(environ, fault)
    # The path only: a query string may carry presigned-URL signatures and tokens.
    log.info(
        "%s %s %s %s %.1f ms",
        environ.get("REQUEST_METHOD"),
        environ.get("PATH_INFO"),
        response.status,
        request_id,
        (time.perf_counter() - started) * 1000,
    )
    headers = {"Server": "AliyunOSS", "Date": http_date(), "x-oss-request-id": request_id, **response.headers}
    body = response.body
    if isinstance(body, bytes):
        headers.setdefault("Content-Length", str(len(body)))
        body = [body]
    if environ.get("REQUEST_METHOD", "").upper() == "HEAD" or response.status in (204, 304):
        body = []
        if response.status in (204, 304):
            headers["Content-Length"] = "0"
    status = f"{response.status} {STATUS_TEXT.get(response.status, 'Unknown')}"
    start_response(status, [(name, str(value)) for name, value in headers.items()])
    return _closing(body)
