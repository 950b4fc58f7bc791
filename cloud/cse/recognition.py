"""Describing objects that oss2.CryptoBucket encrypted on the client, from the metadata of their HEAD, for display.

The envelope lives in `x-oss-meta-client-side-encryption-*` headers, or in the older `x-oss-meta-oss-crypto-*`
ones that oss2 still reads (oss-api.md §8). `describe` picks the names as the strict parser
(`cloud.cse.envelope.Envelope.from_headers`) does, so a label never speaks of other headers than the ones a
decryption reads; it is only lenient about values (a matdesc that is not JSON is shown as it is, a size that is
not a number is not reported) because a page must show an odd object rather than fail on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cloud.cse.envelope import OLDER_NAMES, lower_case, names_in

# What each wrap algorithm means, and which oss2 provider writes it.
WRAP_ALGORITHMS = {
    "KMS/ALICLOUD": "KMS data key (AliKMSProvider)",
    "RSA/NONE/PKCS1Padding": "RSA PKCS#1 v1.5 (RsaProvider)",
    "RSA/NONE/OAEPWithSHA-1AndMGF1Padding": "RSA-OAEP with SHA-1 (LocalRsaProvider)",
    "kms": "KMS data key (older AliKMSProvider)",
    "rsa": "RSA-OAEP with SHA-1 (older LocalRsaProvider)",
}
# Older objects name GCM, but oss2 always encrypted them with CTR.
CONTENT_CIPHERS = {
    "AES/CTR/NoPadding": "AES-256-CTR",
    "AES/GCM/NoPadding": "AES-256-CTR (recorded as AES/GCM/NoPadding by older oss2)",
}


@dataclass(frozen=True)
class ClientSideEncryption:
    """The envelope of a client-side encrypted object, as its metadata states it."""

    wrap_algorithm: str
    content_cipher: str
    matdesc: dict | str | None
    unencrypted_length: int | None
    unencrypted_md5: str
    data_size: int | None
    part_size: int | None
    older_names: bool

    @property
    def wrap_label(self) -> str:
        return WRAP_ALGORITHMS.get(self.wrap_algorithm, self.wrap_algorithm or "not stated")

    @property
    def cipher_label(self) -> str:
        return CONTENT_CIPHERS.get(self.content_cipher, self.content_cipher or "not stated")

    @property
    def metadata_names(self) -> str:
        return "older x-oss-meta-oss-crypto-*" if self.older_names else "x-oss-meta-client-side-encryption-*"


def describe(headers: dict[str, str]) -> ClientSideEncryption | None:
    """What the object's envelope states, read by the names decryption reads; None when it carries no wrapped key."""
    lowered = lower_case(headers)
    names = names_in(lowered)

    def value(field: str) -> str:
        return lowered.get(names.get(field, ""), "")

    if not value("key"):
        return None
    return ClientSideEncryption(
        wrap_algorithm=value("wrap_alg"),
        content_cipher=value("cek_alg"),
        matdesc=_matdesc(value("matdesc")),
        unencrypted_length=_size(value("unencrypted_length")),
        unencrypted_md5=value("unencrypted_md5"),
        data_size=_size(value("data_size")),
        part_size=_size(value("part_size")),
        older_names=names is OLDER_NAMES,
    )


def _matdesc(text: str) -> dict | str | None:
    """The material description is JSON when oss2 wrote it; anything else is shown as it is."""
    if not text:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return parsed if isinstance(parsed, dict) else text


def _size(text: str) -> int | None:
    return int(text) if text.isdigit() else None
