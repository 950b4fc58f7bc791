"""Server-side encryption settings as the OSS console presents them, and the rules of design.md §5."""

from __future__ import annotations

from dataclasses import dataclass

from cloud import regions
from cloud.errors import ServiceError
from cloud.kms import DEFAULT_OSS_ALIAS, KeyInfo
from cloud.oss import SSE_DATA_HEADER, SSE_HEADER, SSE_KEY_HEADER, EncryptionRule

NONE, OSS, KMS = "none", "oss", "kms"
METHOD_CHOICES = [(NONE, "None"), (OSS, "OSS-managed"), (KMS, "KMS")]
AES256, SM4 = "AES256", "SM4"
ALGORITHM_CHOICES = [(AES256, "AES256"), (SM4, "SM4")]


@dataclass(frozen=True)
class Sse:
    """One encryption setting: method none/oss/kms, algorithm AES256/SM4, and for KMS a key id (blank: default)."""

    method: str = NONE
    algorithm: str = ""
    key_id: str = ""

    @classmethod
    def of_rule(cls, rule: EncryptionRule | None) -> Sse:
        if rule is None:
            return cls()
        if rule.algorithm == "KMS":
            return cls(KMS, rule.kms_data_encryption or AES256, rule.kms_key_id)
        return cls(OSS, rule.algorithm)

    @classmethod
    def of_headers(cls, headers: dict[str, str]) -> Sse:
        """From object response headers (lower-case names)."""
        method = headers.get(SSE_HEADER, "")
        if method == "KMS":
            return cls(KMS, headers.get(SSE_DATA_HEADER) or AES256, headers.get(SSE_KEY_HEADER, ""))
        if method in (AES256, SM4):
            return cls(OSS, method)
        return cls()

    def rule(self) -> EncryptionRule | None:
        if self.method == NONE:
            return None
        if self.method == OSS:
            return EncryptionRule(self.algorithm)
        return EncryptionRule("KMS", self.key_id, SM4 if self.algorithm == SM4 else "")

    def request_headers(self) -> dict[str, str]:
        """Headers that ask OSS for this encryption on PutObject or CopyObject."""
        if self.method == OSS:
            return {SSE_HEADER: self.algorithm}
        if self.method != KMS:
            return {}
        headers = {SSE_HEADER: "KMS"}
        if self.algorithm == SM4:
            headers[SSE_DATA_HEADER] = SM4
        if self.key_id:
            headers[SSE_KEY_HEADER] = self.key_id
        return headers

    def label(self, key_names: dict[str, str] | None = None) -> str:
        """`None`, `OSS-managed SM4`, `KMS AES256 alias/acs/oss`, `KMS SM4 alias/name(CMK ID)`."""
        if self.method == NONE:
            return "None"
        if self.method == OSS:
            return f"OSS-managed {self.algorithm}"
        key = (key_names or {}).get(self.key_id, self.key_id) if self.key_id else DEFAULT_OSS_ALIAS
        return f"KMS {self.algorithm} {key}"

    def as_dict(self) -> dict:
        return {"method": self.method, "algorithm": self.algorithm, "key_id": self.key_id}


def parse(method: str, algorithm: str = "", key_id: str = "") -> Sse:
    """A setting from form or API input; shape errors are refused with a message the user can act on."""
    method, algorithm, key_id = (method or "").lower(), (algorithm or "").upper(), (key_id or "").strip()
    if method not in (NONE, OSS, KMS):
        raise ServiceError(f"Unknown encryption method {method!r}: choose none, oss or kms.")
    if method == NONE:
        if algorithm or key_id:
            raise ServiceError("With no encryption there is no algorithm and no key.")
        return Sse()
    if algorithm not in (AES256, SM4):
        raise ServiceError(f"Unknown algorithm {algorithm!r}: choose AES256 or SM4.")
    if method == OSS and key_id:
        raise ServiceError("A KMS key can only be chosen with the KMS method.")
    return Sse(method, algorithm, key_id)


def check_region(sse: Sse, region: str) -> None:
    """Where the setting is allowed: no region means SSE-OSS only; KMS only where the product offers it."""
    if sse.method == NONE:
        return
    if not region:
        if sse.method == KMS:
            raise ServiceError("This bucket has no region attribute: only OSS-managed encryption is available.")
        return
    if not regions.supports_sse(region):
        raise ServiceError(f"Server-side encryption is not available in region {region}.")
    if sse.method == KMS and not regions.supports_kms(region):
        raise ServiceError(f"KMS encryption is not available in region {region}: choose OSS-managed.")


def check_key(key: KeyInfo, region: str) -> None:
    """A chosen CMK must be Enabled and live in the bucket's region (its ARN names the region)."""
    if key.state != "Enabled":
        raise ServiceError(f"KMS key {key.display_name} is {key.state}: only an Enabled key can encrypt.")
    arn = key.arn.split(":")  # acs:kms:<region>:<account>:key/<id>
    key_region = arn[2] if len(arn) >= 5 else ""
    if key_region and key_region != region:
        raise ServiceError(f"KMS key {key.display_name} is in {key_region}, not in the bucket's region {region}.")
    if key.usage and key.usage != "ENCRYPT/DECRYPT":
        raise ServiceError(f"KMS key {key.display_name} is for {key.usage}, not for encryption.")
