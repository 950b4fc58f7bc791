"""Master-key wrappers: how the data key and the IV of an object are sealed in its envelope, as oss2's providers do.

- `RsaWrapper` with `RSA/NONE/PKCS1Padding` is oss2's `RsaProvider`: the 32-byte data key and the 16-byte IV are
  each encrypted with RSA PKCS#1 v1.5 under the public key, the raw ciphertexts then base64-encoded into the
  metadata. With `RSA/NONE/OAEPWithSHA-1AndMGF1Padding` it is oss2's `LocalRsaProvider` (RSA-OAEP, SHA-1 and MGF1
  with SHA-1), the same otherwise. Either reads both RSA algorithms: the key pair is what matters.
- `KmsWrapper` is oss2's `AliKMSProvider` (`KMS/ALICLOUD`): the data key comes from KMS GenerateDataKey (AES_256,
  32 bytes) and its CiphertextBlob is the wrapped key; the IV is base64-encoded and given to KMS Encrypt, whose
  CiphertextBlob is the wrapped start. Both blobs are base64-encoded once more into the metadata. Decrypt then
  returns the base64 text of the key or IV. oss2's passphrase becomes the EncryptionContext `{"x-passphrase": ...}`.

Older envelopes (`x-oss-meta-oss-crypto-*`) wrap a decimal counter instead of the IV, and keep the KMS blobs
without the extra base64 layer; `unwrap` gives the counter back as the equivalent 16-byte IV.

Every refusal is a CseError that names the cause and never holds key material.
"""

from __future__ import annotations

import base64
import binascii
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cloud.cse.content import IV_SIZE, KEY_SIZE, new_data_key, new_iv
from cloud.cse.envelope import CEK_ALG, WRAP_ALGORITHMS, WRAP_KMS, WRAP_RSA_OAEP, WRAP_RSA_PKCS1, Envelope, matdesc_json
from cloud.cse.errors import CseError
from cloud.errors import CloudError

RSA_KEY_SIZES = (2048, 3072)
WRAP_LABELS = {
    WRAP_RSA_PKCS1: "RSA PKCS#1 v1.5 (oss2 RsaProvider)",
    WRAP_RSA_OAEP: "RSA-OAEP with SHA-1 (oss2 LocalRsaProvider)",
    WRAP_KMS: "a KMS data key (oss2 AliKMSProvider)",
}
_WRONG_RSA_KEY = (
    "The {what} does not decrypt with this private key: the key pair is not the one the object was encrypted "
    "with, or the envelope was altered."
)


@dataclass(frozen=True)
class Material:
    """A fresh data key and IV (secret) with their wrapped forms for the metadata."""

    data_key: bytes = field(repr=False)
    iv: bytes = field(repr=False)
    wrapped_key: str
    wrapped_iv: str
    wrap_alg: str


class Wrapper(ABC):
    """Seals data keys under a master key; `matdesc` is the material description it writes and expects."""

    wrap_alg: str
    reads: tuple[str, ...]
    description: str

    def __init__(self, matdesc: dict | None = None):
        if matdesc is not None and not isinstance(matdesc, dict):
            raise CseError("The material description must be a JSON object.")
        self.matdesc = dict(matdesc) if matdesc else None

    @property
    def matdesc_json(self) -> str | None:
        return matdesc_json(self.matdesc)

    def new_material(self) -> Material:
        """A new random data key and IV, wrapped."""
        data_key, iv = new_data_key(), new_iv()
        wrapped_key, wrapped_iv, wrap_alg = self.wrap(data_key, iv)
        return Material(data_key, iv, wrapped_key, wrapped_iv, wrap_alg)

    @abstractmethod
    def wrap(self, data_key: bytes, iv: bytes) -> tuple[str, str, str]:
        """(wrapped key, wrapped IV, wrap algorithm), the first two as the metadata holds them (base64 text)."""

    def unwrap(self, envelope: Envelope) -> tuple[bytes, bytes]:
        """(data key, IV) of the object, after checking the envelope is one this wrapper can open."""
        self.check(envelope)
        data_key, start = self._unwrap(envelope)
        if len(data_key) != KEY_SIZE:
            raise CseError(self._failed("wrapped data key"))
        return data_key, _iv_from_start(envelope, start, self._failed("wrapped start (IV)"))

    def check(self, envelope: Envelope) -> None:
        """Refuse an envelope of another cipher, wrap algorithm or material description."""
        if envelope.content_cipher != CEK_ALG:
            raise CseError(
                f"The object's content cipher {_shown(envelope.content_cipher)} is not supported; "
                f"oss2 encrypts with {CEK_ALG}."
            )
        algorithm = envelope.wrap_algorithm
        if algorithm not in WRAP_ALGORITHMS:
            raise CseError(
                f"The object's data key is wrapped with {_shown(algorithm)}, which is not supported "
                f"(supported: {', '.join(WRAP_ALGORITHMS)})."
            )
        if algorithm not in self.reads:
            raise CseError(
                f"The object's data key is wrapped with {WRAP_LABELS[algorithm]}; it needs another key than "
                f"{self.description}."
            )
        stated = envelope.material_description
        if stated != self.matdesc:
            raise CseError(
                f"The object's material description {json_text(stated)} does not match this key's "
                f"({json_text(self.matdesc)}): the object was encrypted with other encryption materials."
            )

    @abstractmethod
    def _unwrap(self, envelope: Envelope) -> tuple[bytes, bytes]:
        """(data key, decrypted start): the IV, or for older envelopes the decimal counter as ASCII."""

    def _failed(self, what: str) -> str:
        return f"The {what} could not be unwrapped with {self.description}: the envelope was altered or truncated."


class RsaWrapper(Wrapper):
    """An RSA key pair (the public key to wrap, the private key to unwrap), as oss2's RsaProvider/LocalRsaProvider."""

    reads = (WRAP_RSA_PKCS1, WRAP_RSA_OAEP)

    def __init__(
        self,
        private_key: rsa.RSAPrivateKey | None = None,
        public_key: rsa.RSAPublicKey | None = None,
        *,
        wrap_alg: str = WRAP_RSA_PKCS1,
        matdesc: dict | None = None,
    ):
        super().__init__(matdesc)
        if wrap_alg not in self.reads:
            raise CseError(f"{_shown(wrap_alg)} is not an RSA wrap algorithm ({', '.join(self.reads)}).")
        if private_key is None and public_key is None:
            raise CseError("An RSA wrapper needs a public key, a private key or both.")
        if private_key is not None and not isinstance(private_key, rsa.RSAPrivateKey):
            raise CseError("The private key is not an RSA key.")
        if public_key is not None and not isinstance(public_key, rsa.RSAPublicKey):
            raise CseError("The public key is not an RSA key.")
        if private_key is not None and public_key is not None:
            if private_key.public_key().public_numbers() != public_key.public_numbers():
                raise CseError("The public key does not belong to the private key.")
        self.wrap_alg = wrap_alg
        self._private = private_key
        self._public = public_key if public_key is not None else private_key.public_key()
        self.description = f"this {self._public.key_size}-bit RSA key pair"

    def __repr__(self) -> str:
        return f"RsaWrapper({self._public.key_size} bits, {self.wrap_alg}, private key: {self.can_unwrap})"

    @classmethod
    def from_pem(
        cls,
        private_pem: bytes | str | None = None,
        public_pem: bytes | str | None = None,
        *,
        passphrase: bytes | str | None = None,
        wrap_alg: str = WRAP_RSA_PKCS1,
        matdesc: dict | None = None,
    ) -> RsaWrapper:
        """From PEM text: PKCS#1 or PKCS#8 private keys (encrypted with `passphrase` or not), PKCS#1 or X.509
        public keys, as oss2 and pycryptodome write them."""
        private_key = public_key = None
        if private_pem:
            password = passphrase.encode() if isinstance(passphrase, str) else passphrase
            try:
                private_key = serialization.load_pem_private_key(_pem_bytes(private_pem), password or None)
            except TypeError:
                needed = "needs a passphrase" if not password else "is not encrypted; give no passphrase"
                raise CseError(f"The private key {needed}.") from None
            except (ValueError, UnsupportedAlgorithm):
                raise CseError(
                    "The private key could not be read: wrong passphrase, or not a PEM RSA private key."
                ) from None
        if public_pem:
            try:
                public_key = serialization.load_pem_public_key(_pem_bytes(public_pem))
            except (ValueError, UnsupportedAlgorithm):
                raise CseError("The public key could not be read: not a PEM RSA public key.") from None
        return cls(private_key, public_key, wrap_alg=wrap_alg, matdesc=matdesc)

    @classmethod
    def generate(cls, bits: int = 2048, *, wrap_alg: str = WRAP_RSA_PKCS1, matdesc: dict | None = None) -> RsaWrapper:
        if bits not in RSA_KEY_SIZES:
            raise CseError(f"RSA keys are generated with {' or '.join(map(str, RSA_KEY_SIZES))} bits, not {bits}.")
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=bits), wrap_alg=wrap_alg, matdesc=matdesc)

    @property
    def can_unwrap(self) -> bool:
        return self._private is not None

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def private_pem(self, passphrase: bytes | str | None = None) -> bytes:
        """The private key as PKCS#8 PEM, encrypted when a passphrase is given (pycryptodome reads both)."""
        if self._private is None:
            raise CseError("This RSA wrapper has no private key.")
        password = passphrase.encode() if isinstance(passphrase, str) else passphrase
        encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        return self._private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)

    def public_pem(self) -> bytes:
        return self._public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def wrap(self, data_key: bytes, iv: bytes) -> tuple[str, str, str]:
        scheme = _padding(self.wrap_alg)
        return (
            _b64(self._public.encrypt(data_key, scheme)),
            _b64(self._public.encrypt(iv, scheme)),
            self.wrap_alg,
        )

    def _unwrap(self, envelope: Envelope) -> tuple[bytes, bytes]:
        if self._private is None:
            raise CseError(
                "Decrypting needs the private key of the RSA key pair; this wrapper has the public key only."
            )
        scheme = _padding(envelope.wrap_algorithm)
        return (
            self._decrypt(envelope.wrapped_key, scheme, "wrapped data key"),
            self._decrypt(envelope.wrapped_start, scheme, "wrapped start (IV)"),
        )

    def _decrypt(self, text: str, scheme, what: str) -> bytes:
        sealed = _b64decode(text, what)
        size = (self._private.key_size + 7) // 8
        if len(sealed) != size:
            raise CseError(
                f"The {what} is {len(sealed)} bytes, but a {self._private.key_size}-bit RSA key wraps into {size}: "
                "the envelope was altered or truncated, or the key pair is not the object's."
            )
        try:
            # PKCS#1 v1.5 may answer a wrong key with random bytes (implicit rejection): `unwrap` checks the sizes.
            return self._private.decrypt(sealed, scheme)
        except ValueError:
            raise CseError(_WRONG_RSA_KEY.format(what=what)) from None

    def _failed(self, what: str) -> str:
        return _WRONG_RSA_KEY.format(what=what)


class KmsWrapper(Wrapper):
    """A KMS customer master key, as oss2's AliKMSProvider uses it. `key_id` is needed to wrap only: the blobs
    name their key. `passphrase` is oss2's, sent as the EncryptionContext."""

    wrap_alg = WRAP_KMS
    reads = (WRAP_KMS,)

    def __init__(self, kms, key_id: str = "", *, passphrase: str | None = None, matdesc: dict | None = None):
        super().__init__(matdesc)
        self.kms = kms
        self.key_id = key_id
        self.context = {"x-passphrase": passphrase} if passphrase else None
        self.description = f"KMS key {key_id}" if key_id else "KMS"

    def __repr__(self) -> str:
        return f"KmsWrapper({self.key_id or 'read only'}, region {getattr(self.kms, 'region', '?')})"

    def new_material(self) -> Material:
        """A data key from GenerateDataKey (AES_256, 32 bytes) and a random IV sealed with Encrypt, as oss2 does."""
        self._need_key_id()
        generated = self.kms.generate_data_key(
            self.key_id, key_spec="AES_256", number_of_bytes=KEY_SIZE, context=self.context
        )
        data_key = _b64decode(generated.plaintext, "data key KMS generated")
        if len(data_key) != KEY_SIZE:
            raise CseError(f"KMS generated a data key of {len(data_key)} bytes instead of {KEY_SIZE}.")
        iv = new_iv()
        sealed_iv = self.kms.encrypt(self.key_id, _b64(iv), context=self.context)
        wrapped_key = _b64(generated.ciphertext_blob.encode())
        return Material(data_key, iv, wrapped_key, _b64(sealed_iv.ciphertext_blob.encode()), WRAP_KMS)

    def wrap(self, data_key: bytes, iv: bytes) -> tuple[str, str, str]:
        """Seal a given data key and IV with KMS Encrypt (AliKMSProvider gets its key from GenerateDataKey instead;
        Decrypt gives the same base64 text back either way)."""
        self._need_key_id()
        sealed_key = self.kms.encrypt(self.key_id, _b64(data_key), context=self.context)
        sealed_iv = self.kms.encrypt(self.key_id, _b64(iv), context=self.context)
        return _b64(sealed_key.ciphertext_blob.encode()), _b64(sealed_iv.ciphertext_blob.encode()), WRAP_KMS

    def _unwrap(self, envelope: Envelope) -> tuple[bytes, bytes]:
        if envelope.older_names:  # the raw CiphertextBlobs
            key_blob, start_blob = envelope.wrapped_key, envelope.wrapped_start
        else:
            key_blob = _blob(envelope.wrapped_key, "wrapped data key")
            start_blob = _blob(envelope.wrapped_start, "wrapped start (IV)")
        data_key = _b64decode(self._decrypt(key_blob, "wrapped data key"), "data key KMS returned")
        start = self._decrypt(start_blob, "wrapped start (IV)")
        return data_key, start.encode() if envelope.start_is_counter else _b64decode(start, "IV KMS returned")

    def _decrypt(self, blob: str, what: str) -> str:
        try:
            return self.kms.decrypt(blob, context=self.context).plaintext
        except CloudError as error:
            if error.http_status is None or error.transient:
                raise
            request = f" (request id {error.request_id})" if error.request_id else ""
            raise CseError(
                f"KMS could not unwrap the {what}: {error.code}: {error.cloud_message}{request}. The envelope was "
                "altered, the passphrase differs, or the key is not usable here."
            ) from None

    def _need_key_id(self) -> None:
        if not self.key_id:
            raise CseError("Encrypting with KMS needs the id or alias of a customer master key.")


def json_text(description: dict | None) -> str:
    return matdesc_json(description) or "none"


def _iv_from_start(envelope: Envelope, start: bytes, failed: str) -> bytes:
    if not envelope.start_is_counter:
        if len(start) != IV_SIZE:
            raise CseError(failed)
        return start
    text = start.decode("ascii", "replace").strip()
    if not text.isdigit() or int(text) >= 1 << 128:
        raise CseError(
            "The wrapped start of this older envelope does not decrypt to a decimal counter: the key is not the "
            "object's, or the envelope was altered."
        )
    return int(text).to_bytes(IV_SIZE, "big")


def _padding(wrap_alg: str):
    if wrap_alg == WRAP_RSA_OAEP:
        return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    return padding.PKCS1v15()


def _blob(text: str, what: str) -> str:
    try:
        return _b64decode(text, what).decode("ascii")
    except UnicodeDecodeError:
        raise CseError(f"The {what} in the object's metadata is not a KMS CiphertextBlob.") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """Base64 as oss2 decodes it (characters outside the alphabet skipped); a broken one is a CseError."""
    try:
        return base64.b64decode(text)
    except (binascii.Error, ValueError):
        raise CseError(f"The {what} is not valid base64.") from None


def _pem_bytes(pem: bytes | str) -> bytes:
    return pem.encode() if isinstance(pem, str) else pem


def _shown(value: str) -> str:
    value = value or "(none stated)"
    return repr(value if len(value) <= 60 else value[:57] + "...")
