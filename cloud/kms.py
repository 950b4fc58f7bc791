"""The console's only door to KMS: alibabacloud-kms20160120 calls for one connection and region.

Answers come back as plain data and every refusal or network failure as a CloudError with KMS's code,
message and request id.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from alibabacloud_kms20160120 import models as kms
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import RetryError
from Tea.exceptions import TeaException, UnretryableException

from cloud import retries
from cloud.endpoints import check_endpoint
from cloud.errors import CloudError

DEFAULT_OSS_ALIAS = "alias/acs/oss"
# Reads, and cryptographic calls that change nothing: repeating one after a failure is harmless. CreateKey (a
# second key), CreateKeyVersion and the like are not retried: a lost answer may hide a success.
IDEMPOTENT_ACTIONS = frozenset(
    {
        "list_aliases",
        "list_keys",
        "describe_key",
        "list_aliases_by_key_id",
        "encrypt",
        "decrypt",
        "generate_data_key",
    }
)
TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    arn: str
    state: str
    spec: str
    usage: str
    origin: str
    creator: str
    description: str
    created: str
    deletion_date: str
    material_expires: str
    protection_level: str
    automatic_rotation: str
    rotation_interval: str
    last_rotation: str
    aliases: tuple[str, ...] = ()

    @property
    def is_default_oss_key(self) -> bool:
        return DEFAULT_OSS_ALIAS in self.aliases

    @property
    def display_name(self) -> str:
        """As the OSS console shows a key: `alias/<name>(<CMK ID>)`, or the bare id without an alias."""
        return f"{self.aliases[0]}({self.key_id})" if self.aliases else self.key_id


@dataclass(frozen=True)
class ImportParameters:
    key_id: str
    public_key: str
    import_token: str
    token_expires: str
    request_id: str


@dataclass(frozen=True)
class DataKey:
    """A GenerateDataKey answer: the data key as KMS gives it (base64 text, secret) and its CiphertextBlob."""

    key_id: str
    plaintext: str = field(repr=False)
    ciphertext_blob: str
    request_id: str


@dataclass(frozen=True)
class Sealed:
    """An Encrypt answer."""

    key_id: str
    ciphertext_blob: str
    request_id: str


@dataclass(frozen=True)
class Opened:
    """A Decrypt answer: the plaintext exactly as it was given to Encrypt (or GenerateDataKey's, base64)."""

    key_id: str
    plaintext: str = field(repr=False)
    request_id: str


def _key_info(meta, aliases: tuple[str, ...]) -> KeyInfo:
    return KeyInfo(
        key_id=meta.key_id,
        arn=meta.arn or "",
        state=meta.key_state or "",
        spec=meta.key_spec or "",
        usage=meta.key_usage or "",
        origin=meta.origin or "",
        creator=meta.creator or "",
        description=meta.description or "",
        created=meta.creation_date or "",
        deletion_date=meta.delete_date or "",
        material_expires=meta.material_expire_time or "",
        protection_level=meta.protection_level or "",
        automatic_rotation=meta.automatic_rotation or "",
        rotation_interval=meta.rotation_interval or "",
        last_rotation=meta.last_rotation_date or "",
        aliases=aliases,
    )


# KMS, like every POP API, appends what it signed to a signature refusal: noise to a person reading the message.
_STRING_TO_SIGN = re.compile(r"\s*server string to sign is:.*", re.IGNORECASE | re.DOTALL)


def _refusal(error: TeaException) -> CloudError:
    data = error.data if isinstance(error.data, dict) else {}
    status = data.get("statusCode") or getattr(error, "status_code", None)
    message = _STRING_TO_SIGN.sub("", data.get("Message") or error.message or "") or "no message"
    return CloudError("kms", error.code or "KmsError", message, data.get("RequestId", ""), status)


@contextmanager
def _cloud_errors():
    try:
        yield
    except UnretryableException as error:
        inner = getattr(error, "inner_exception", None)
        if isinstance(inner, TeaException):
            raise _refusal(inner) from None
        raise CloudError("kms", "RequestError", f"KMS endpoint unreachable ({type(inner).__name__})") from None
    except TeaException as error:
        raise _refusal(error) from None
    except (RetryError, OSError) as error:
        raise CloudError("kms", "RequestError", f"KMS endpoint unreachable ({type(error).__name__})") from None


def endpoint_for(connection, region: str) -> str:
    """The KMS endpoint of `region`: Alibaba Cloud has one per region, a configured or localcloud one serves all."""
    if not connection.kms_endpoint and (urlsplit(connection.oss_endpoint).hostname or "").endswith(".aliyuncs.com"):
        return f"https://kms.{region}.aliyuncs.com"
    return connection.effective_kms_endpoint


class KmsClient:
    """KMS of one connection in one region."""

    def __init__(self, connection, region: str | None = None):
        self.region = region or connection.region
        check_endpoint(endpoint_for(connection, self.region))
        endpoint = urlsplit(endpoint_for(connection, self.region))
        # Alibaba Cloud has an endpoint per region; one endpoint serving several regions (localcloud) learns
        # the region from the ACS4 signing scope.
        per_region = (endpoint.hostname or "").endswith(".aliyuncs.com")
        self._client = Client(
            Config(
                signature_version=None if per_region else "v4",
                access_key_id=connection.access_key_id,
                access_key_secret=connection.access_key_secret,
                security_token=connection.sts_token or None,
                endpoint=endpoint.netloc,
                protocol=endpoint.scheme or "https",
                region_id=self.region,
                connect_timeout=TIMEOUT_MS,
                read_timeout=TIMEOUT_MS,
            )
        )

    def _call(self, method: str, request=None):
        """One KMS action; those safe to repeat (IDEMPOTENT_ACTIONS) are retried on transient failures."""
        if method in IDEMPOTENT_ACTIONS:
            return retries.call(self._call_once, method, request)
        return self._call_once(method, request)

    def _call_once(self, method: str, request=None):
        with _cloud_errors():
            operation = getattr(self._client, method)
            return (operation(request) if request is not None else operation()).body

    # Reading

    def aliases_by_key(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        page = 1
        while True:
            body = self._call("list_aliases", kms.ListAliasesRequest(page_number=page, page_size=100))
            for alias in body.aliases.alias if body.aliases else []:
                found.setdefault(alias.key_id, []).append(alias.alias_name)
            if page * 100 >= (body.total_count or 0):
                return {key_id: tuple(sorted(names)) for key_id, names in found.items()}
            page += 1

    def key_ids(self) -> list[str]:
        ids, page = [], 1
        while True:
            body = self._call("list_keys", kms.ListKeysRequest(page_number=page, page_size=100))
            ids += [key.key_id for key in (body.keys.key if body.keys else [])]
            if page * 100 >= (body.total_count or 0):
                return ids
            page += 1

    def list_keys(self) -> list[KeyInfo]:
        """Every key of the region, described, with its aliases."""
        aliases = self.aliases_by_key()
        return [self.describe_key(key_id, aliases.get(key_id, ())) for key_id in self.key_ids()]

    def describe_key(self, reference: str, aliases: tuple[str, ...] | None = None) -> KeyInfo:
        """A key by id, alias or ARN."""
        meta = self._call("describe_key", kms.DescribeKeyRequest(key_id=reference)).key_metadata
        if aliases is None:
            aliases = self.aliases_of(meta.key_id)
        return _key_info(meta, aliases)

    def aliases_of(self, key_id: str) -> tuple[str, ...]:
        body = self._call("list_aliases_by_key_id", kms.ListAliasesByKeyIdRequest(key_id=key_id, page_size=100))
        return tuple(sorted(alias.alias_name for alias in (body.aliases.alias if body.aliases else [])))

    def default_oss_key(self) -> KeyInfo | None:
        """The service key behind `alias/acs/oss`, or None before OSS first used it in this region."""
        try:
            return self.describe_key(DEFAULT_OSS_ALIAS)
        except CloudError as error:
            if error.http_status == 404:
                return None
            raise

    def probe(self) -> str:
        """One cheap authenticated call, for "Test connection": the request id."""
        return self._call("list_keys", kms.ListKeysRequest(page_number=1, page_size=1)).request_id or ""

    # Changing: each returns the request id for the audit log

    def create_key(
        self,
        *,
        spec: str = "Aliyun_AES_256",
        origin: str = "Aliyun_KMS",
        description: str = "",
        protection_level: str = "SOFTWARE",
    ) -> tuple[KeyInfo, str]:
        request = kms.CreateKeyRequest(
            key_spec=spec,
            origin=origin,
            description=description or None,
            key_usage="ENCRYPT/DECRYPT",
            protection_level=protection_level,
        )
        body = self._call("create_key", request)
        return _key_info(body.key_metadata, ()), body.request_id or ""

    def create_alias(self, key_id: str, alias: str) -> str:
        return self._call("create_alias", kms.CreateAliasRequest(alias_name=alias, key_id=key_id)).request_id or ""

    def delete_alias(self, alias: str) -> str:
        return self._call("delete_alias", kms.DeleteAliasRequest(alias_name=alias)).request_id or ""

    def enable_key(self, key_id: str) -> str:
        return self._call("enable_key", kms.EnableKeyRequest(key_id=key_id)).request_id or ""

    def disable_key(self, key_id: str) -> str:
        return self._call("disable_key", kms.DisableKeyRequest(key_id=key_id)).request_id or ""

    def schedule_deletion(self, key_id: str, pending_days: int) -> str:
        request = kms.ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=pending_days)
        return self._call("schedule_key_deletion", request).request_id or ""

    def cancel_deletion(self, key_id: str) -> str:
        return self._call("cancel_key_deletion", kms.CancelKeyDeletionRequest(key_id=key_id)).request_id or ""

    def rotate(self, key_id: str) -> str:
        """A new key version that becomes primary; data sealed under older versions still decrypts."""
        return self._call("create_key_version", kms.CreateKeyVersionRequest(key_id=key_id)).request_id or ""

    def set_rotation_policy(self, key_id: str, enabled: bool, interval: str = "") -> str:
        request = kms.UpdateRotationPolicyRequest(
            key_id=key_id, enable_automatic_rotation=enabled, rotation_interval=interval or None
        )
        return self._call("update_rotation_policy", request).request_id or ""

    def import_parameters(
        self, key_id: str, wrapping_algorithm: str = "RSAES_OAEP_SHA_256", wrapping_key_spec: str = "RSA_2048"
    ) -> ImportParameters:
        request = kms.GetParametersForImportRequest(
            key_id=key_id, wrapping_algorithm=wrapping_algorithm, wrapping_key_spec=wrapping_key_spec
        )
        body = self._call("get_parameters_for_import", request)
        return ImportParameters(
            body.key_id, body.public_key, body.import_token, body.token_expire_time or "", body.request_id or ""
        )

    def import_key_material(
        self, key_id: str, encrypted_material_b64: str, import_token: str, expires_unix: int = 0
    ) -> str:
        request = kms.ImportKeyMaterialRequest(
            key_id=key_id,
            encrypted_key_material=encrypted_material_b64,
            import_token=import_token,
            key_material_expire_unix=expires_unix,
        )
        return self._call("import_key_material", request).request_id or ""

    # Data keys and envelopes (client-side encryption). `context` is the EncryptionContext, which Decrypt must
    # be given again.

    def generate_data_key(
        self, key_id: str, *, key_spec: str = "AES_256", number_of_bytes: int | None = None, context: dict | None = None
    ) -> DataKey:
        request = kms.GenerateDataKeyRequest(
            key_id=key_id, key_spec=key_spec, number_of_bytes=number_of_bytes, encryption_context=context or None
        )
        body = self._call("generate_data_key", request)
        return DataKey(body.key_id or key_id, body.plaintext or "", body.ciphertext_blob or "", body.request_id or "")

    def encrypt(self, key_id: str, plaintext: str, *, context: dict | None = None) -> Sealed:
        """Seal `plaintext` (base64 text, as the API takes it) under the key."""
        request = kms.EncryptRequest(key_id=key_id, plaintext=plaintext, encryption_context=context or None)
        body = self._call("encrypt", request)
        return Sealed(body.key_id or key_id, body.ciphertext_blob or "", body.request_id or "")

    def decrypt(self, ciphertext_blob: str, *, context: dict | None = None) -> Opened:
        request = kms.DecryptRequest(ciphertext_blob=ciphertext_blob, encryption_context=context or None)
        body = self._call("decrypt", request)
        return Opened(body.key_id or "", body.plaintext or "", body.request_id or "")
