"""The envelope of a client-side encrypted object: its metadata headers, as oss2's `ContentCryptoMaterial` writes
them (`to_object_meta`) and reads them (`from_object_meta`).

Written (current names, all values strings):

- `-key`, `-start`: base64 of the wrapped data key and of the wrapped IV, always;
- `-cek-alg` (`AES/CTR/NoPadding`) and `-wrap-alg`, always;
- `-matdesc`: `json.dumps` of the material description, only when there is one;
- `-unencrypted-content-length`, `-unencrypted-content-md5`: only when the writer knew them (oss2 moves the
  caller's `Content-Length` and `Content-MD5` headers there);
- `-data-size`, `-part-size`: multipart uploads only, both or neither.

The older `x-oss-meta-oss-crypto-*` names are read too, by oss2's rule (`ContentCryptoMaterial.from_object_meta`):
an object carrying the older key header is read entirely by the older names even if it also has current headers
(`names_in` is that rule, for the parser here and for `recognition.describe`). Its wrap-alg is `rsa` (RSA-OAEP)
or `kms`, a cek-alg `AES/GCM/NoPadding` was in fact CTR, the start decrypts to a decimal counter instead of an
IV, and KMS key and start are the raw CiphertextBlobs, without the extra base64 layer. Envelope keeps the header
values as stated, so `from_headers(envelope.to_metadata())` gives the same envelope back; the properties say what
they mean.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cloud.cse.errors import CseError

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
# The names oss2 wrote before (oss2.headers DEPRECATED_*); cek-alg and wrap-alg never had "crypto" in them.
OLDER_NAMES = {
    "key": "x-oss-meta-oss-crypto-key",
    "start": "x-oss-meta-oss-crypto-start",
    "cek_alg": "x-oss-meta-oss-cek-alg",
    "wrap_alg": "x-oss-meta-oss-wrap-alg",
    "matdesc": "x-oss-meta-oss-crypto-matdesc",
    "unencrypted_length": "x-oss-meta-oss-crypto-unencrypted-content-length",
    "unencrypted_md5": "x-oss-meta-oss-crypto-unencrypted-content-md5",
}
ENVELOPE_HEADERS = frozenset(CURRENT_NAMES.values()) | frozenset(OLDER_NAMES.values())

CEK_ALG = "AES/CTR/NoPadding"
OLDER_CEK_ALG = "AES/GCM/NoPadding"
WRAP_RSA_PKCS1 = "RSA/NONE/PKCS1Padding"
WRAP_RSA_OAEP = "RSA/NONE/OAEPWithSHA-1AndMGF1Padding"
WRAP_KMS = "KMS/ALICLOUD"
WRAP_ALGORITHMS = (WRAP_RSA_PKCS1, WRAP_RSA_OAEP, WRAP_KMS)
# oss2 reads an older envelope as KMS when its wrap-alg is "kms", else as RSA-OAEP.
OLDER_WRAP_ALGORITHMS = {"kms": WRAP_KMS, "rsa": WRAP_RSA_OAEP, "": WRAP_RSA_OAEP}


@dataclass(frozen=True)
class Envelope:
    """The envelope of one object, with the header values as stated (strings) and the sizes as numbers."""

    wrapped_key: str
    wrapped_start: str
    wrap_alg: str
    cek_alg: str = CEK_ALG
    matdesc: str | None = None
    unencrypted_length: int | None = None
    unencrypted_md5: str | None = None
    data_size: int | None = None
    part_size: int | None = None
    older_names: bool = False

    @classmethod
    def from_headers(cls, headers) -> Envelope | None:
        """The envelope in response headers (any letter case), or None when the object carries no wrapped key."""
        lowered = lower_case(headers)
        names = names_in(lowered)
        if not lowered.get(names["key"]):
            return None
        older = names is OLDER_NAMES

        def text(field: str) -> str:
            return lowered.get(names[field], "") if field in names else ""

        return cls(
            wrapped_key=text("key"),
            wrapped_start=text("start"),
            wrap_alg=text("wrap_alg"),
            cek_alg=text("cek_alg"),
            matdesc=text("matdesc") or None,
            unencrypted_length=_size(names, "unencrypted_length", text("unencrypted_length")),
            unencrypted_md5=text("unencrypted_md5") or None,
            data_size=_size(names, "data_size", text("data_size")),
            part_size=_size(names, "part_size", text("part_size")),
            older_names=older,
        )

    def to_metadata(self) -> dict[str, str]:
        """The `x-oss-meta-*` headers of this envelope, under the names it was read with (current for new ones)."""
        names = OLDER_NAMES if self.older_names else CURRENT_NAMES
        headers = {
            names["key"]: self.wrapped_key,
            names["start"]: self.wrapped_start,
            names["cek_alg"]: self.cek_alg,
            names["wrap_alg"]: self.wrap_alg,
        }
        if self.matdesc:
            headers[names["matdesc"]] = self.matdesc
        if self.unencrypted_length is not None:
            headers[names["unencrypted_length"]] = str(self.unencrypted_length)
        if self.unencrypted_md5:
            headers[names["unencrypted_md5"]] = self.unencrypted_md5
        if not self.older_names and self.data_size and self.part_size:
            headers[names["data_size"]] = str(self.data_size)
            headers[names["part_size"]] = str(self.part_size)
        return headers

    @property
    def wrap_algorithm(self) -> str:
        """The wrap algorithm as oss2 understands it (older `rsa`/`kms` mapped to the current names)."""
        if self.older_names:
            return OLDER_WRAP_ALGORITHMS.get(self.wrap_alg.lower(), self.wrap_alg)
        return self.wrap_alg

    @property
    def content_cipher(self) -> str:
        """`AES/CTR/NoPadding`, or what else the envelope states; older objects stating GCM were CTR."""
        if not self.cek_alg or (self.older_names and self.cek_alg == OLDER_CEK_ALG):
            return CEK_ALG
        return self.cek_alg

    @property
    def material_description(self) -> dict | None:
        """The matdesc as a dict (None without one); oss2 writes it with `json.dumps`."""
        if not self.matdesc:
            return None
        try:
            parsed = json.loads(self.matdesc)
        except ValueError:
            raise CseError("The object's material description (matdesc) is not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise CseError("The object's material description (matdesc) is not a JSON object.")
        return parsed or None

    @property
    def plaintext_size(self) -> int | None:
        """The plaintext length the envelope records (the unencrypted length, else the multipart data size)."""
        return self.unencrypted_length if self.unencrypted_length is not None else self.data_size

    @property
    def start_is_counter(self) -> bool:
        """Older envelopes wrap a decimal counter instead of a 16-byte IV."""
        return self.older_names


def lower_case(headers) -> dict[str, str]:
    return {str(name).lower(): str(value).strip() for name, value in dict(headers).items()}


def names_in(lowered_headers: dict[str, str]) -> dict[str, str]:
    """The header names an object's envelope is read by: oss2 reads every field by the older names as soon as the
    older key header is there at all, whatever current headers the object also carries."""
    return OLDER_NAMES if OLDER_NAMES["key"] in lowered_headers else CURRENT_NAMES


def matdesc_json(description: dict | None) -> str | None:
    """The matdesc header value for `description`, byte for byte as oss2 writes it (`json.dumps`), or None."""
    return json.dumps(description) if description else None


def _size(names: dict[str, str], field: str, text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise CseError(f"The object's {names[field]} metadata is not a number of bytes.")
    return int(text)
