"""Bring your own key: the wrapping side of importing key material into an EXTERNAL KMS key.

KMS hands out an RSA public key (base64 of DER SubjectPublicKeyInfo) per GetParametersForImport; the material
travels wrapped with it under RSAES-OAEP, whose hash (and MGF1 hash) is the one the wrapping algorithm names.
"""

from __future__ import annotations

import base64
import binascii
import os
from datetime import UTC, date, datetime, time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cloud.errors import ServiceError

WRAPPING_HASHES = {"RSAES_OAEP_SHA_256": hashes.SHA256, "RSAES_OAEP_SHA_1": hashes.SHA1}
DEFAULT_WRAPPING_ALGORITHM = "RSAES_OAEP_SHA_256"
WRAPPING_KEY_SPEC = "RSA_2048"
MATERIAL_SIZES = {"Aliyun_AES_256": 32, "Aliyun_SM4": 16}


def _public_key_der(public_key_b64: str) -> bytes:
    try:
        return base64.b64decode(public_key_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError("The wrapping public key is not base64.") from None


def load_public_key(public_key_b64: str) -> rsa.RSAPublicKey:
    """The RSA wrapping key from KMS's base64 DER."""
    try:
        key = serialization.load_der_public_key(_public_key_der(public_key_b64))
    except ValueError:
        raise ServiceError("The wrapping public key is not a DER-encoded public key.") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ServiceError("The wrapping public key is not an RSA key.")
    return key


def public_key_pem(public_key_b64: str) -> str:
    """The wrapping key as PEM, the form openssl and most HSM tools take."""
    pem = load_public_key(public_key_b64).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def check_wrapping_algorithm(wrapping_algorithm: str) -> str:
    if wrapping_algorithm not in WRAPPING_HASHES:
        raise ServiceError(f"Unknown wrapping algorithm {wrapping_algorithm!r}: choose {', '.join(WRAPPING_HASHES)}.")
    return wrapping_algorithm


def _oaep(wrapping_algorithm: str) -> padding.OAEP:
    digest = WRAPPING_HASHES[check_wrapping_algorithm(wrapping_algorithm)]
    return padding.OAEP(mgf=padding.MGF1(algorithm=digest()), algorithm=digest(), label=None)


def wrap(material: bytes, public_key_b64: str, wrapping_algorithm: str = DEFAULT_WRAPPING_ALGORITHM) -> str:
    """`material` sealed for KMS: base64 of RSAES-OAEP under the wrapping key, as ImportKeyMaterial takes it."""
    wrapped = load_public_key(public_key_b64).encrypt(material, _oaep(wrapping_algorithm))
    return base64.b64encode(wrapped).decode("ascii")


def generate_wrapped_material(spec: str, public_key_b64: str, wrapping_algorithm: str) -> str:
    """Fresh random material for a key of `spec`, already wrapped; the plaintext never leaves this function.

    For testing only: the console process saw the material, which defeats the point of bringing your own key.
    """
    size = MATERIAL_SIZES.get(spec)
    if size is None:
        raise ServiceError(f"Key material for a {spec or 'unknown'} key cannot be generated here.")
    return wrap(os.urandom(size), public_key_b64, wrapping_algorithm)


def check_wrapped_material(encrypted_material_b64: str) -> str:
    """The wrapped material without whitespace (PEM-style line breaks are common), refused unless base64."""
    compact = "".join(encrypted_material_b64.split())
    if not compact:
        raise ServiceError("Paste the wrapped key material (base64).")
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError("The wrapped key material is not base64.") from None
    return compact


def expiry_unix(expires_on: date | None) -> int:
    """KeyMaterialExpireUnix for material that expires at the start of `expires_on` (UTC); 0 means never."""
    if expires_on is None:
        return 0
    return int(datetime.combine(expires_on, time.min, UTC).timestamp())
