"""Recognising objects that oss2.CryptoBucket encrypted on the client, from the metadata of their HEAD.

The envelope lives in `x-oss-meta-client-side-encryption-*` headers, or in the older `x-oss-meta-oss-crypto-*`
ones that oss2 still reads (oss-api.md §8). The console only reports it here; decrypting is another matter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

CURRENT_NAMES = {
    "key": "x-oss-meta-client-side-encryption-key",
    "start": "x-oss-meta-client-side-encryption-start",
    "cek_alg": "x-oss-meta-client-side-encryption-cek-alg",
    "wrap_alg": "x-oss-meta-client-side-encryption-wrap-alg",
    "matdesc": "x-oss-meta-client-side-encryption-matdesc",
    "unencrypted_length": "x-oss-meta-client-side-encryption-unencrypted-content-length",
    "unencrypted_md5": "x-oss-meta-client-side-encryption-unencrypted-content-md5",
    "data_size": "x-oss-meta-client-side-encryption-data-size",
    "part_size": "x-oss-meta-client-side-encryption-part-size",
}
# The names oss2 wrote before; cek-alg and wrap-alg never had "crypto" in them.
OLDER_NAMES = {
    "key": "x-oss-meta-oss-crypto-key",
    "start": "x-oss-meta-oss-crypto-start",
    "cek_alg": "x-oss-meta-oss-cek-alg",
    "wrap_alg": "x-oss-meta-oss-wrap-alg",
    "matdesc": "x-oss-meta-oss-crypto-matdesc",
    "unencrypted_length": "x-oss-meta-oss-crypto-unencrypted-content-length",
    "unencrypted_md5": "x-oss-meta-oss-crypto-unencrypted-content-md5",
}

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


def recognise(headers: dict[str, str]) -> ClientSideEncryption | None:
    """The envelope when the object carries a wrapped data key under the current or the older name, else None.

    `headers` are a HEAD's, with lower-case names.
    """
    for names, older in ((CURRENT_NAMES, False), (OLDER_NAMES, True)):
        if headers.get(names["key"]):
            return _envelope(headers, names, older)
    return None


def _envelope(headers: dict[str, str], names: dict[str, str], older: bool) -> ClientSideEncryption:
    def value(field: str) -> str:
        return headers.get(names.get(field, ""), "").strip()

    return ClientSideEncryption(
        wrap_algorithm=value("wrap_alg"),
        content_cipher=value("cek_alg"),
        matdesc=_matdesc(value("matdesc")),
        unencrypted_length=_size(value("unencrypted_length")),
        unencrypted_md5=value("unencrypted_md5"),
        data_size=_size(value("data_size")),
        part_size=_size(value("part_size")),
        older_names=older,
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
