"""The KMS endpoint as a WSGI application (localcloud/wsgi.py routes RPC requests here).

Parameters come from the query (and a form body, for hand-made RPC requests); the signature is the SDK's
ACS3-HMAC-SHA256 (or ACS4 / RPC HMAC-SHA1) with the access keys OSS accepts; each nonce is accepted once;
the action is the signed one. Answers are JSON with a RequestId; every refusal is the KMS error JSON of
errors.py with a 4xx status, which the SDK raises as ClientException. A region is addressed by the endpoint
(`kms.<region>.<LOCALCLOUD_DOMAIN>`) or the ACS4 signing scope (Config(signature_version='v4', region_id=...));
other requests address LOCALCLOUD_REGION.
"""

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from functools import cached_property
from http import HTTPStatus
from urllib.parse import parse_qsl, quote

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections

from localcloud import accesskeys, hosts, keystore
from localcloud.auth import MAX_SKEW_SECONDS, Headers, Identity, KmsAuthError, authenticate_kms
from localcloud.faults import Fault
from localcloud.kms import actions, byok, errors, lifecycle, permissions
from localcloud.kms.errors import KmsError
from localcloud.kms.params import Params

log = logging.getLogger("localcloud.kms")

API_VERSION = "2016-01-20"
METHODS = ("GET", "POST")
MAX_BODY = 64 * 1024
# A signature is good for MAX_SKEW_SECONDS either side of now: its nonce must be remembered that long both ways.
NONCE_TTL_SECONDS = 2 * MAX_SKEW_SECONDS + 60
ACTIONS = {**actions.ACTIONS, **byok.ACTIONS}


@dataclass(frozen=True)
class Incoming:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Headers
    body: bytes

    @cached_property
    def params(self) -> dict[str, str]:
        """Query and form-body parameters, as the RPC HMAC-SHA1 scheme signs them; later duplicates win."""
        pairs = list(self.query)
        if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            pairs += parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return dict(pairs)


def _headers(environ) -> Headers:
    items = [(name[5:].replace("_", "-").lower(), value) for name, value in environ.items() if name.startswith("HTTP_")]
    items += [(name.replace("_", "-").lower(), environ[name]) for name in ("CONTENT_TYPE", "CONTENT_LENGTH")
              if environ.get(name)]  # fmt: skip
    return Headers(items)


def _path(environ) -> str:
    """The path as sent (ACS3 signs it encoded)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0] or "/"
    return quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/")


def _too_large() -> KmsError:
    return KmsError(400, "InvalidParameter", f"The request body is larger than {MAX_BODY} bytes.")


def _body(environ, headers: Headers) -> bytes:
    """A small body: by Content-Length, or chunked (cheroot decodes it); anything else has none."""
    stream, length = environ["wsgi.input"], headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise KmsError(400, "InvalidParameter", "Content-Length is not a number.")
        if int(length) > MAX_BODY:
            raise _too_large()
        return _read(stream, int(length))
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _read(stream, MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise _too_large()
        return body
    return b""


def _read(stream, size: int) -> bytes:
    parts, remaining = [], size
    while remaining > 0 and (chunk := stream.read(remaining)):
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _incoming(environ) -> Incoming:
    method = environ.get("REQUEST_METHOD", "GET").upper()
    if method not in METHODS:
        raise KmsError(403, "UnsupportedHTTPMethod", "This http method is not supported.")
    headers = _headers(environ)
    query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    return Incoming(method, _path(environ), query, headers, _body(environ, headers))


def _authenticate(incoming: Incoming) -> Identity:
    try:
        identity = authenticate_kms(incoming.method, incoming.path, incoming.query, incoming.headers, incoming.body,
                                    accesskeys.lookup_secret, time.time())  # fmt: skip
    except KmsAuthError as error:
        # Like POP, show what the server signed so a client can find its canonicalisation bug; it holds no secret.
        sts = f" server string to sign is: {error.string_to_sign}" if error.string_to_sign else ""
        raise KmsError(error.status, error.code, error.message + sts) from None
    if identity.security_token:
        raise KmsError(
            400, "InvalidSecurityToken.Malformed", "localcloud issues no STS tokens; sign with an access key."
        )
    return identity


def _accept_nonce(identity: Identity) -> None:
    """Replay protection: each (access key, nonce) once while its signature could still be accepted."""
    if not identity.nonce:
        raise KmsError(400, "MissingSignatureNonce", "SignatureNonce is mandatory for this action.")
    digest = hashlib.sha256(f"{identity.access_key_id}\0{identity.nonce}".encode()).hexdigest()
    try:
        fresh = cache.add(f"localcloud:kms:nonce:{digest}", 1, timeout=NONCE_TTL_SECONDS)
    except Exception:  # the cache backend's own errors (Redis down): refuse rather than skip the check
        log.warning("KMS replay cache unavailable", exc_info=True)
        raise KmsError(503, "ServiceUnavailableTemporary", "Service Unavailable Temporary.") from None
    if not fresh:
        raise KmsError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")


def _check_version(incoming: Incoming, identity: Identity) -> None:
    # Use the signed copy: the query Version for RPC HMAC-SHA1 (its headers are unsigned), else x-acs-version.
    if identity.scheme == "HMAC-SHA1":
        version = incoming.params.get("Version")
    else:
        version = incoming.headers.get("x-acs-version")
    if version != API_VERSION:
        raise KmsError(
            400, "InvalidVersion", f"Specified parameter Version is not valid; localcloud serves {API_VERSION}."
        )


def _signing_region(incoming: Incoming, identity: Identity) -> str | None:
    if identity.scheme != "ACS4-HMAC-SHA256":
        return None
    credential = incoming.headers["authorization"].partition("Credential=")[2].split(",", 1)[0]
    return credential.split("/")[2]


def _region(incoming: Incoming, identity: Identity) -> str:
    """The region of the endpoint (`kms.<region>.<LOCALCLOUD_DOMAIN>`) or of the ACS4 signing scope (signed, so
    trusted), which must agree when both are given, if it is one of ours; otherwise LOCALCLOUD_REGION."""
    endpoint_region = hosts.addressed(incoming.headers.get("host", ""), settings.LOCALCLOUD_DOMAIN).kms_region
    signing_region = _signing_region(incoming, identity)
    if endpoint_region and signing_region and endpoint_region != signing_region:
        raise KmsError(
            400,
            "InvalidRegionId",
            f"The signing region {signing_region[:64]!r} is not the endpoint's region {endpoint_region[:64]!r}.",
        )
    region = endpoint_region or signing_region
    if region is None:
        return settings.LOCALCLOUD_REGION
    if region not in keystore.regions():
        raise KmsError(400, "InvalidRegionId", f"The specified region {region[:64]!r} does not exist here.")
    return region


def _from_keystore(error: keystore.KeyStoreError) -> KmsError:
    """Key-store refusals that the actions' own checks did not pre-empt (races, tampered blobs)."""
    if isinstance(error, keystore.InvalidCiphertext):
        return errors.invalid_ciphertext(str(error))
    if isinstance(error, keystore.KeyNotFound):
        return KmsError(404, "Forbidden.KeyNotFound", str(error))
    return KmsError(409, error.code, str(error))


def _dispatch(incoming: Incoming) -> dict:
    identity = _authenticate(incoming)
    _accept_nonce(identity)
    _check_version(incoming, identity)
    action = ACTIONS.get(identity.action or "")
    if action is None:
        raise KmsError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
    region = _region(incoming, identity)
    lifecycle.sweep_if_due()
    call = actions.Call(Params(incoming.params), region)
    permissions.authorize(identity, identity.action, call)
    # No request-wide transaction: `lifecycle.refresh` must persist even when the action then refuses.
    return action(call)


def handle(environ, fault: Fault | None = None) -> tuple[int, dict]:
    """The status and JSON body for the request, or for `fault` (faults.py) without reading or changing anything."""
    request_id, host = str(uuid.uuid4()), environ.get("HTTP_HOST", "")
    # Each branch returns the body, not the exception: an exception kept in a local of this frame would form a
    # cycle through its traceback that, until a GC pass, pins what it references (a database connection).
    try:
        if fault is not None and (injected := fault.kms_error()) is not None:
            raise injected
        return 200, {**_dispatch(_incoming(environ)), "RequestId": request_id}
    except keystore.KeyStoreError as error:
        failure = _from_keystore(error)
        return failure.status, failure.body(request_id, host)
    except KmsError as error:
        return error.status, error.body(request_id, host)
    except Exception:
        log.exception("localcloud KMS request %s failed", request_id)
        return 500, KmsError(500, "InternalFailure", "Internal Failure.").body(request_id, host)


def application(environ, start_response, fault: Fault | None = None):
    close_old_connections()
    try:
        status, payload = handle(environ, fault)
    finally:
        close_old_connections()
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [
            ("Content-Type", "application/json;charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("x-acs-request-id", payload["RequestId"]),
        ],
    )
    return [body]
