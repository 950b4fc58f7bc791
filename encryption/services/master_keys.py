"""Master keys for client-side encryption: RSA key pairs the console keeps, and KMS customer master keys.

The private half of an RSA key pair is sealed at rest under CONSOLE_ROOT_KEY (console.secrets) as soon as it is
generated or imported, and only `wrapper_for` opens it again, in memory, to wrap or unwrap data keys. It never
appears in pages, API answers, audit events, logs or error messages.

Which key opened an object: `match_envelope` looks at the envelope's wrap algorithm (RSA or KMS) and its material
description only; it does not try keys by unwrapping. A key's material description is therefore unique per kind.
"""

from __future__ import annotations

import hashlib
import json
import secrets as random

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from django.db import IntegrityError, transaction

from audit.services import recording
from cloud.cse.envelope import WRAP_KMS, WRAP_RSA_OAEP, WRAP_RSA_PKCS1, Envelope
from cloud.cse.wrapping import RSA_KEY_SIZES, KmsWrapper, RsaWrapper
from cloud.errors import CloudError, Conflict, ServiceError
from cloud.kms import KmsClient
from console import secrets
from encryption.models import MasterKey
from encryption.services import keys as key_services

_PURPOSE = MasterKey.SEAL_PURPOSE
MIN_RSA_BITS = 2048
MAX_NAME = 100
MAX_MATDESC_CHARS = 1024
MAX_PEM_CHARS = 20_000
_OTHER_KEYS = (
    (ec.EllipticCurvePrivateKey, "an EC key"),
    (ed25519.Ed25519PrivateKey, "an Ed25519 key"),
    (ed448.Ed448PrivateKey, "an Ed448 key"),
    (dsa.DSAPrivateKey, "a DSA key"),
)


# Reading


def list_master_keys():
    return MasterKey.objects.select_related("connection", "created_by").order_by("name")


def snapshot(key: MasterKey) -> dict:
    """What the audit log keeps of a key: public facts only."""
    shown = {"name": key.name, "kind": key.kind, "matdesc": key.matdesc, "description": key.description}
    if key.kind == MasterKey.RSA:
        shown |= {"bits": key.bits, "fingerprint": key.fingerprint}
    else:
        shown |= {
            "connection": key.connection.name if key.connection else "",
            "region": key.region,
            "cmk_id": key.cmk_id,
        }
    return shown


# Creating


def generate_rsa(*, actor, name: str, bits: int = 2048, description: str = "", matdesc: dict | None = None):
    """A new RSA key pair of 2048 or 3072 bits; the private key is sealed at once."""
    with recording("cse.masterkey.create", actor=actor, target=_target(name)) as event:
        if bits not in RSA_KEY_SIZES:
            raise ServiceError(f"RSA keys are generated with {' or '.join(map(str, RSA_KEY_SIZES))} bits, not {bits}.")
        key = _new_key(name, MasterKey.RSA, description, matdesc, actor)
        _set_rsa(key, rsa.generate_private_key(public_exponent=65537, key_size=bits))
        _save(key)
        event.after = snapshot(key)
    return key


def import_rsa(*, actor, name: str, pem: str, passphrase: str = "", description: str = "", matdesc: dict | None = None):
    """An existing RSA private key (PKCS#8 or traditional PKCS#1 PEM, encrypted with `passphrase` or not)."""
    with recording("cse.masterkey.import", actor=actor, target=_target(name)) as event:
        key = _new_key(name, MasterKey.RSA, description, matdesc, actor)
        _set_rsa(key, _load_private_key(pem, passphrase))
        _save(key)
        event.after = snapshot(key)
    return key


def add_kms(
    *, actor, name: str, connection, region: str = "", cmk_id: str, description: str = "", matdesc: dict | None = None
):
    """A KMS customer master key, checked to exist and be Enabled (DescribeKey) in the connection's region."""
    region = region or (connection.region if connection else "")
    with recording("cse.masterkey.create", actor=actor, connection=connection, target=_target(name)) as event:
        if connection is None:
            raise ServiceError("A KMS master key needs a connection.")
        key = _new_key(name, MasterKey.KMS, description, matdesc, actor)
        region = key_services.check_key_region(connection, region)
        cmk_id = (cmk_id or "").strip()
        if not cmk_id or len(cmk_id) > 255:
            raise ServiceError("Give the id, alias or ARN of a KMS customer master key (at most 255 characters).")
        try:
            info = KmsClient(connection, region).describe_key(cmk_id)
        except CloudError as error:
            if error.http_status is not None and 400 <= error.http_status < 500:
                raise ServiceError(
                    f"KMS key {cmk_id} was not found in {region} or is not usable: {error.code}: {error.cloud_message}."
                ) from None
            raise
        if info.state != "Enabled":
            raise ServiceError(f"KMS key {info.key_id} is {info.state}: client-side encryption needs an Enabled key.")
        if info.usage and info.usage != "ENCRYPT/DECRYPT":
            raise ServiceError(f"KMS key {info.key_id} is for {info.usage}, not ENCRYPT/DECRYPT.")
        key.connection, key.region, key.cmk_id = connection, region, info.key_id
        _save(key)
        event.after = snapshot(key)
    return key


def delete_master_key(*, actor, key: MasterKey) -> None:
    """Forget a master key. Objects encrypted under it can no longer be decrypted by the console (KMS keys stay
    in KMS: only the console's reference goes)."""
    with recording(
        "cse.masterkey.delete", actor=actor, connection=key.connection, target=key.name, before=snapshot(key)
    ):
        key.delete()


# Using


def wrapper_for(key: MasterKey) -> RsaWrapper | KmsWrapper:
    """The wrapper of a master key, with its material description; the only place the private key is opened."""
    matdesc = key.matdesc or None
    if key.kind == MasterKey.KMS:
        if key.connection is None:
            raise ServiceError(f"Master key {key.name} has lost its connection.")
        return KmsWrapper(KmsClient(key.connection, key.region), key.cmk_id, matdesc=matdesc)
    private_pem = secrets.unseal(_PURPOSE, key.sealed_private_key, _context(key))
    return RsaWrapper.from_pem(private_pem, matdesc=matdesc)


def master_key_of(headers) -> tuple[Envelope | None, MasterKey | None]:
    """Which master key an object is under, from its HEAD headers: its envelope (None: not client-side encrypted)
    and the console's key the envelope names (None: none does). CseError when the envelope cannot be read, since
    every caller acts on the answer or shows it as fact."""
    envelope = Envelope.from_headers(headers)
    return envelope, match_envelope(envelope)


def match_envelope(envelope: Envelope | None) -> MasterKey | None:
    """The master key an object's envelope names: same kind (by its wrap algorithm) and the same material
    description (an empty one matches an envelope without). No key is tried by unwrapping: None when none matches."""
    if envelope is None:
        return None
    algorithm = envelope.wrap_algorithm
    if algorithm == WRAP_KMS:
        kind = MasterKey.KMS
    elif algorithm in (WRAP_RSA_PKCS1, WRAP_RSA_OAEP):
        kind = MasterKey.RSA
    else:
        return None
    stated = envelope.material_description or {}
    return next((key for key in MasterKey.objects.filter(kind=kind).order_by("pk") if key.matdesc == stated), None)


def public_pem_filename(key: MasterKey) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in key.name)
    return f"{safe}.public.pem"


# Helpers


def _target(name) -> str:
    return str(name or "")[:MAX_NAME]


def _new_key(name, kind: str, description, matdesc, actor) -> MasterKey:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise ServiceError("A master key needs a name.")
    if len(name) > MAX_NAME:
        raise ServiceError(f"A master key's name has at most {MAX_NAME} characters.")
    if MasterKey.objects.filter(name=name).exists():
        raise Conflict(f"A master key named {name} already exists.")
    description = (description or "").strip()
    if len(description) > 500:
        raise ServiceError("The description has at most 500 characters.")
    matdesc = _check_matdesc({"name": name} if matdesc is None else matdesc)
    taken = next((key for key in MasterKey.objects.filter(kind=kind) if key.matdesc == matdesc), None)
    if taken is not None:
        raise Conflict(
            f"Master key {taken.name} already writes this material description: objects could not tell them apart."
        )
    user = actor if getattr(actor, "is_authenticated", False) else None
    return MasterKey(name=name, kind=kind, description=description, matdesc=matdesc, created_by=user)


def _check_matdesc(matdesc) -> dict:
    if not isinstance(matdesc, dict):
        raise ServiceError('The material description must be a JSON object, e.g. {"name": "finance"}.')
    if not all(isinstance(name, str) and isinstance(value, str) for name, value in matdesc.items()):
        raise ServiceError("The material description maps names to text values only.")
    if len(json.dumps(matdesc)) > MAX_MATDESC_CHARS:
        raise ServiceError(f"The material description has at most {MAX_MATDESC_CHARS} characters as JSON.")
    return matdesc


def _load_private_key(pem, passphrase) -> rsa.RSAPrivateKey:
    text = pem.strip() if isinstance(pem, str) else ""
    if not text:
        raise ServiceError("Paste the RSA private key in PEM form (-----BEGIN PRIVATE KEY----- or RSA PRIVATE KEY).")
    if len(text) > MAX_PEM_CHARS:
        raise ServiceError("This is too long for an RSA private key in PEM form.")
    if "PUBLIC KEY-----" in text and "PRIVATE KEY-----" not in text:
        raise ServiceError(
            "This is a public key: importing needs the private key of the pair, which the console keeps sealed."
        )
    if "PRIVATE KEY-----" not in text:
        raise ServiceError("This is not a PEM private key: it should start with -----BEGIN PRIVATE KEY-----.")
    password = passphrase.encode() if isinstance(passphrase, str) and passphrase else None
    try:
        private_key = serialization.load_pem_private_key(text.encode(), password)
    except TypeError:
        needed = "is encrypted: give its passphrase" if not password else "is not encrypted: give no passphrase"
        raise ServiceError(f"The private key {needed}.") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ServiceError(
            "The private key could not be read: wrong passphrase, or not a valid PEM private key."
        ) from None
    if not isinstance(private_key, rsa.RSAPrivateKey):
        kind = next((label for cls, label in _OTHER_KEYS if isinstance(private_key, cls)), "another algorithm")
        raise ServiceError(f"This is not an RSA key ({kind}): client-side encryption needs an RSA key pair.")
    if private_key.key_size < MIN_RSA_BITS:
        raise ServiceError(f"This RSA key has {private_key.key_size} bits; at least {MIN_RSA_BITS} are needed.")
    return private_key


def _set_rsa(key: MasterKey, private_key: rsa.RSAPrivateKey) -> None:
    public = private_key.public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    key.public_key_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    key.bits = private_key.key_size
    key.fingerprint = hashlib.sha256(der).hexdigest()
    key.seal_id = random.token_hex(16)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    key.sealed_private_key = secrets.seal(_PURPOSE, private_pem, _context(key))


def _context(key: MasterKey) -> str:
    return key.seal_context()


def _save(key: MasterKey) -> None:
    try:
        with transaction.atomic():
            key.save()
    except IntegrityError:
        raise Conflict(f"A master key named {key.name} already exists.") from None
