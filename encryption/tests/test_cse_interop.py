"""cloud.cse against localcloud over HTTP, interoperating with oss2 2.19's CryptoBucket in both directions.

RSA (RsaProvider, PKCS#1 v1.5) and RSA-OAEP (LocalRsaProvider): objects the console writes are read by oss2 and
objects oss2 writes are read by the console, single PUT and multipart, whole and by unaligned ranges. KMS goes
through the console's KmsWrapper and localcloud's KMS; see `test_kms_metadata_is_what_ali_kms_provider_writes`
for why oss2's AliKMSProvider itself cannot take part.
"""

import base64
import hashlib
import io
import json
import os

import oss2
import pytest
from oss2 import models as oss_models
from oss2 import utils as oss_utils
from oss2.headers import KMS_ALI_WRAP_ALGORITHM

from cloud.cse import CseError
from cloud.cse.content import MIN_PART_SIZE, ContentCipher, new_data_key, new_iv
from cloud.cse.envelope import WRAP_KMS, WRAP_RSA_OAEP, WRAP_RSA_PKCS1
from cloud.cse.objects import get_decrypted, head_envelope, put_encrypted, put_encrypted_multipart
from cloud.cse.wrapping import KmsWrapper, RsaWrapper
from cloud.errors import CloudError
from cloud.kms import KmsClient
from cloud.oss import OssClient
from console.testing.cloud import named_key, new_bucket

BUCKET = "cse-interop"
SMALL = os.urandom(70_001)
PART_SIZE = MIN_PART_SIZE  # 100 KiB, a multiple of 16
LARGE = os.urandom(PART_SIZE * 3 + 12_345)  # four parts, the last one short
META = "x-oss-meta-client-side-encryption-"


def unaligned_ranges(size: int) -> list[tuple[int, int | None]]:
    return [(0, 0), (1, 17), (15, 16), (4097, 9000), (size - 20, size - 1), (size // 2 + 3, None), (31, size - 2)]


def part_crossing_ranges() -> list[tuple[int, int | None]]:
    return [(PART_SIZE - 7, PART_SIZE + 9), (2 * PART_SIZE - 1, 3 * PART_SIZE + 100), (3 * PART_SIZE + 1, None)]


def expected(data: bytes, start: int, end: int | None) -> bytes:
    return data[start : None if end is None else end + 1]


@pytest.fixture(scope="module")
def rsa_pair():
    return RsaWrapper.generate(2048)


@pytest.fixture
def oss(cloud_connection):
    new_bucket(cloud_connection, BUCKET)
    return OssClient(cloud_connection)


def crypto_bucket(connection, provider) -> oss2.CryptoBucket:
    auth = oss2.AuthV4(connection.access_key_id, connection.access_key_secret)
    return oss2.CryptoBucket(auth, connection.oss_endpoint, BUCKET, provider, region=connection.region)


def plain_bucket(connection) -> oss2.Bucket:
    auth = oss2.AuthV4(connection.access_key_id, connection.access_key_secret)
    return oss2.Bucket(auth, connection.oss_endpoint, BUCKET, region=connection.region)


def rsa_provider(wrapper: RsaWrapper, mat_desc=None) -> oss2.RsaProvider:
    pair = {"private_key": wrapper.private_pem(), "public_key": wrapper.public_pem()}
    return oss2.RsaProvider(key_pair=pair, mat_desc=mat_desc)


def local_rsa_provider(wrapper: RsaWrapper, directory) -> oss2.LocalRsaProvider:
    """LocalRsaProvider reads its key pair from `<dir>/<key>.private_key.pem` and `.public_key.pem`."""
    (directory / "cse.private_key.pem").write_bytes(wrapper.private_pem())
    (directory / "cse.public_key.pem").write_bytes(wrapper.public_pem())
    return oss2.LocalRsaProvider(dir=str(directory), key="cse")


def oss2_multipart(bucket: oss2.CryptoBucket, key: str, data: bytes, part_size: int) -> None:
    context = oss_models.MultipartUploadCryptoContext(data_size=len(data), part_size=part_size)
    upload_id = bucket.init_multipart_upload(key, upload_context=context).upload_id
    parts = []
    for number, start in enumerate(range(0, len(data), part_size), start=1):
        result = bucket.upload_part(key, upload_id, number, data[start : start + part_size], upload_context=context)
        parts.append(oss_models.PartInfo(number, result.etag))
    bucket.complete_multipart_upload(key, upload_id, parts)


def stored(oss, key: str) -> tuple[bytes, dict[str, str]]:
    """The ciphertext as stored, and the object's envelope headers."""
    download = oss.download_object(BUCKET, key)
    body = b"".join(download.chunks)
    return body, {name: value for name, value in download.head.headers.items() if name.startswith("x-oss-meta-")}


# RSA PKCS#1 v1.5 (oss2.RsaProvider)


def test_console_writes_rsa_and_oss2_reads_whole_and_ranges(cloud_connection, oss, rsa_pair):
    put_encrypted(oss, BUCKET, "console.bin", SMALL, rsa_pair, headers={"Content-Type": "application/x-test"})

    bucket = crypto_bucket(cloud_connection, rsa_provider(rsa_pair))
    assert bucket.get_object("console.bin").read() == SMALL
    for start, end in unaligned_ranges(len(SMALL)):
        assert bucket.get_object("console.bin", byte_range=(start, end)).read() == expected(SMALL, start, end)
    head = oss.head_object(BUCKET, "console.bin")
    assert head.header("content-type") == "application/x-test" and head.size == len(SMALL)
    assert head.header(META + "wrap-alg") == WRAP_RSA_PKCS1 and head.header(META + "cek-alg") == "AES/CTR/NoPadding"
    assert head.header(META + "unencrypted-content-length") == str(len(SMALL))
    assert head.header(META + "unencrypted-content-md5") == base64.b64encode(hashlib.md5(SMALL).digest()).decode()
    assert len(base64.b64decode(head.header(META + "key"))) == len(base64.b64decode(head.header(META + "start"))) == 256


def test_oss2_writes_rsa_and_console_reads_whole_ranges_and_streams(cloud_connection, oss, rsa_pair):
    crypto_bucket(cloud_connection, rsa_provider(rsa_pair)).put_object("oss2.bin", SMALL)

    assert get_decrypted(oss, BUCKET, "oss2.bin", rsa_pair) == SMALL
    for start, end in unaligned_ranges(len(SMALL)):
        assert get_decrypted(oss, BUCKET, "oss2.bin", rsa_pair, (start, end)) == expected(SMALL, start, end)
    assert get_decrypted(oss, BUCKET, "oss2.bin", rsa_pair, (None, 33)) == SMALL[-33:]  # the last 33 bytes
    assert get_decrypted(oss, BUCKET, "oss2.bin", rsa_pair, (len(SMALL) - 3, len(SMALL) + 99)) == SMALL[-3:]
    stream = get_decrypted(oss, BUCKET, "oss2.bin", rsa_pair, (5, 100_000), stream=True)
    assert stream.length == len(SMALL) - 5 and b"".join(stream) == SMALL[5:]
    with pytest.raises(CloudError, match="InvalidRange"):
        get_decrypted(oss, BUCKET, "oss2.bin", rsa_pair, (len(SMALL) + 16, None))


def test_console_multipart_is_read_by_oss2(cloud_connection, oss, rsa_pair):
    written = put_encrypted_multipart(oss, BUCKET, "console-mp.bin", io.BytesIO(LARGE), len(LARGE), rsa_pair, PART_SIZE)

    head = oss.head_object(BUCKET, "console-mp.bin")
    assert head.header("x-oss-object-type") == "Multipart" and head.etag == written.etag
    assert (head.header(META + "data-size"), head.header(META + "part-size")) == (str(len(LARGE)), str(PART_SIZE))
    bucket = crypto_bucket(cloud_connection, rsa_provider(rsa_pair))
    assert bucket.get_object("console-mp.bin").read() == LARGE
    for start, end in part_crossing_ranges():
        assert bucket.get_object("console-mp.bin", byte_range=(start, end)).read() == expected(LARGE, start, end)


def test_oss2_multipart_is_read_by_the_console(cloud_connection, oss, rsa_pair):
    oss2_multipart(crypto_bucket(cloud_connection, rsa_provider(rsa_pair)), "oss2-mp.bin", LARGE, PART_SIZE)

    envelope = head_envelope(oss, BUCKET, "oss2-mp.bin")
    assert (envelope.data_size, envelope.part_size, envelope.unencrypted_length) == (len(LARGE), PART_SIZE, None)
    assert get_decrypted(oss, BUCKET, "oss2-mp.bin", rsa_pair) == LARGE
    for start, end in part_crossing_ranges() + unaligned_ranges(len(LARGE))[:3]:
        assert get_decrypted(oss, BUCKET, "oss2-mp.bin", rsa_pair, (start, end)) == expected(LARGE, start, end)


def test_material_descriptions_must_match_both_ways(cloud_connection, oss, rsa_pair):
    described = RsaWrapper.from_pem(rsa_pair.private_pem(), matdesc={"owner": "console"})
    put_encrypted(oss, BUCKET, "described.bin", SMALL, described)
    assert oss.head_object(BUCKET, "described.bin").header(META + "matdesc") == '{"owner": "console"}'
    assert (
        crypto_bucket(cloud_connection, rsa_provider(rsa_pair, {"owner": "console"})).get_object("described.bin").read()
        == SMALL
    )
    crypto_bucket(cloud_connection, rsa_provider(rsa_pair, {"owner": "oss2"})).put_object("by-oss2.bin", b"hello")
    assert (
        get_decrypted(
            oss, BUCKET, "by-oss2.bin", RsaWrapper.from_pem(rsa_pair.private_pem(), matdesc={"owner": "oss2"})
        )
        == b"hello"
    )

    with pytest.raises(CseError, match='material description {"owner": "console"} does not match this key\'s'):
        get_decrypted(oss, BUCKET, "described.bin", rsa_pair)


def test_sse_combines_with_client_side_encryption(cloud_connection, oss, rsa_pair):
    sse = {"x-oss-server-side-encryption": "AES256"}
    put_encrypted(oss, BUCKET, "double.bin", SMALL, rsa_pair, sse_headers=sse)

    assert oss.head_object(BUCKET, "double.bin").header("x-oss-server-side-encryption") == "AES256"
    assert crypto_bucket(cloud_connection, rsa_provider(rsa_pair)).get_object("double.bin").read() == SMALL
    assert get_decrypted(oss, BUCKET, "double.bin", rsa_pair, (100, 200)) == SMALL[100:201]


def test_streams_of_known_size_are_put_and_a_wrong_size_stores_nothing(cloud_connection, oss, rsa_pair):
    chunks = [SMALL[i : i + 5000] for i in range(0, len(SMALL), 5000)]
    put_encrypted(oss, BUCKET, "streamed.bin", iter(chunks), rsa_pair, size=len(SMALL))
    assert crypto_bucket(cloud_connection, rsa_provider(rsa_pair)).get_object("streamed.bin").read() == SMALL

    with pytest.raises(CseError, match="ended after 70001 of the 70002 bytes"):
        put_encrypted(oss, BUCKET, "short.bin", iter(chunks), rsa_pair, size=len(SMALL) + 1)
    assert not plain_bucket(cloud_connection).object_exists("short.bin")


# RSA-OAEP (oss2.LocalRsaProvider) and the older metadata names


def test_oaep_interoperates_with_local_rsa_provider(cloud_connection, oss, rsa_pair, tmp_path):
    bucket = crypto_bucket(cloud_connection, local_rsa_provider(rsa_pair, tmp_path))
    oaep = RsaWrapper.from_pem(rsa_pair.private_pem(), wrap_alg=WRAP_RSA_OAEP)
    put_encrypted(oss, BUCKET, "console-oaep.bin", SMALL, oaep)
    bucket.put_object("oss2-oaep.bin", SMALL)

    assert bucket.get_object("console-oaep.bin", byte_range=(3, 40_000)).read() == SMALL[3:40_001]
    assert head_envelope(oss, BUCKET, "oss2-oaep.bin").wrap_alg == WRAP_RSA_OAEP
    assert get_decrypted(oss, BUCKET, "oss2-oaep.bin", oaep) == SMALL
    assert get_decrypted(oss, BUCKET, "oss2-oaep.bin", rsa_pair, (9, 99)) == SMALL[9:100]  # either padding reads


def test_older_metadata_names_are_decrypted(cloud_connection, oss, rsa_pair, tmp_path):
    """Written by hand as older oss2 did: RSA-OAEP, a wrapped decimal counter as the start, cek-alg stated as GCM
    (it was CTR), `x-oss-meta-oss-crypto-*` names. oss2's LocalRsaProvider reads it too, which checks the sample."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    public = serialization.load_pem_public_key(rsa_pair.public_pem())
    data_key, counter = new_data_key(), int.from_bytes(new_iv(), "big")
    headers = {
        "x-oss-meta-oss-crypto-key": base64.b64encode(public.encrypt(data_key, oaep)).decode(),
        "x-oss-meta-oss-crypto-start": base64.b64encode(public.encrypt(str(counter).encode(), oaep)).decode(),
        "x-oss-meta-oss-cek-alg": "AES/GCM/NoPadding",
        "x-oss-meta-oss-wrap-alg": "rsa",
        "x-oss-meta-oss-crypto-unencrypted-content-length": str(len(SMALL)),
    }
    ciphertext = b"".join(ContentCipher(data_key, counter.to_bytes(16, "big")).encrypt(SMALL))
    oss.put_object(BUCKET, "older.bin", ciphertext, headers)

    assert head_envelope(oss, BUCKET, "older.bin").older_names
    assert get_decrypted(oss, BUCKET, "older.bin", rsa_pair) == SMALL
    assert get_decrypted(oss, BUCKET, "older.bin", rsa_pair, (1000, 1999)) == SMALL[1000:2000]
    bucket = crypto_bucket(cloud_connection, local_rsa_provider(rsa_pair, tmp_path))
    assert bucket.get_object("older.bin", byte_range=(1000, 1999)).read() == SMALL[1000:2000]


# KMS (KMS/ALICLOUD)


@pytest.fixture
def kms_wrapper(cloud_connection):
    return KmsWrapper(KmsClient(cloud_connection), named_key(cloud_connection, "alias/cse-tests"))


def test_kms_round_trip_single_and_multipart(oss, kms_wrapper):
    put_encrypted(oss, BUCKET, "kms.bin", SMALL, kms_wrapper)
    put_encrypted_multipart(oss, BUCKET, "kms-mp.bin", io.BytesIO(LARGE), len(LARGE), kms_wrapper, PART_SIZE)

    reader = KmsWrapper(kms_wrapper.kms)  # the blobs name their key: reading needs no key id
    assert get_decrypted(oss, BUCKET, "kms.bin", reader) == SMALL
    assert get_decrypted(oss, BUCKET, "kms.bin", reader, (7, 7000)) == SMALL[7:7001]
    assert get_decrypted(oss, BUCKET, "kms-mp.bin", reader) == LARGE
    start, end = part_crossing_ranges()[0]
    assert get_decrypted(oss, BUCKET, "kms-mp.bin", reader, (start, end)) == LARGE[start : end + 1]


def test_kms_metadata_is_what_ali_kms_provider_writes(cloud_connection, oss, kms_wrapper):
    """oss2.AliKMSProvider cannot talk to localcloud: its aliyunsdkkms requests are fixed to HTTPS
    (`set_protocol_type('https')`) and to the `kms.<region>.aliyuncs.com` endpoints, while localcloud serves plain
    HTTP on loopback. So this checks, field by field, that the console writes what AliKMSProvider would write for
    the same KMS answers, and decrypts with oss2's own code wherever no KMS call is involved."""
    matdesc = {"app": "console"}
    wrapper = KmsWrapper(kms_wrapper.kms, kms_wrapper.key_id, passphrase="pass phrase", matdesc=matdesc)
    put_encrypted(oss, BUCKET, "kms-fields.bin", SMALL, wrapper)
    ciphertext, metadata = stored(oss, "kms-fields.bin")
    context = {"x-passphrase": "pass phrase"}  # AliKMSProvider: '{"x-passphrase":"' + passphrase + '"}'

    # key: base64 of GenerateDataKey's CiphertextBlob, which Decrypt opens to the base64 of 32 bytes.
    key_blob = base64.b64decode(metadata[META + "key"]).decode()
    data_key = base64.b64decode(kms_wrapper.kms.decrypt(key_blob, context=context).plaintext)
    # start: base64 of the CiphertextBlob of Encrypt(base64(iv)), the IV with bytes 8-11 zero as random_iv makes it.
    iv_blob = base64.b64decode(metadata[META + "start"]).decode()
    iv = base64.b64decode(kms_wrapper.kms.decrypt(iv_blob, context=context).plaintext)
    assert (len(data_key), len(iv), iv[8:12]) == (32, 16, bytes(4))
    # Every header as ContentCryptoMaterial.to_object_meta writes it for AliKMSProvider's material.
    material = oss_models.ContentCryptoMaterial(
        oss_utils.AESCTRCipher(), KMS_ALI_WRAP_ALGORITHM, key_blob, iv_blob, matdesc
    )
    by_oss2 = material.to_object_meta(
        {"content-length": str(len(SMALL)), "content-md5": metadata[META + "unencrypted-content-md5"]}
    )
    assert metadata == dict(by_oss2.items())
    assert metadata[META + "wrap-alg"] == WRAP_KMS and json.loads(metadata[META + "matdesc"]) == matdesc
    # oss2's own reading of the headers and its cipher give the plaintext back.
    read = oss_models.ContentCryptoMaterial(oss_utils.AESCTRCipher(), KMS_ALI_WRAP_ALGORITHM)
    read.from_object_meta(plain_bucket(cloud_connection).head_object("kms-fields.bin").headers)
    assert (read.encrypted_key, read.encrypted_iv, read.mat_desc) == (key_blob.encode(), iv_blob.encode(), matdesc)
    cipher = oss_utils.AESCTRCipher()
    cipher.initialize(data_key, iv)
    assert cipher.decrypt(ciphertext) == SMALL

    with pytest.raises(CseError, match="KMS could not unwrap the wrapped data key"):
        get_decrypted(oss, BUCKET, "kms-fields.bin", KmsWrapper(kms_wrapper.kms, passphrase="other", matdesc=matdesc))


def test_older_kms_envelopes_keep_the_raw_blobs(oss, kms_wrapper):
    """Older oss2 stored the KMS CiphertextBlobs as they are and sealed a decimal counter as the start. localcloud's
    Encrypt takes base64 text, which a counter of 36 digits is (KMS itself takes any text)."""
    kms = kms_wrapper.kms
    generated = kms.generate_data_key(kms_wrapper.key_id, number_of_bytes=32)
    counter = "1" + "0" * 35
    sealed = kms.encrypt(kms_wrapper.key_id, counter)
    headers = {
        "x-oss-meta-oss-crypto-key": generated.ciphertext_blob,
        "x-oss-meta-oss-crypto-start": sealed.ciphertext_blob,
        "x-oss-meta-oss-cek-alg": "AES/GCM/NoPadding",
        "x-oss-meta-oss-wrap-alg": "kms",
    }
    cipher = ContentCipher(base64.b64decode(generated.plaintext), int(counter).to_bytes(16, "big"))
    oss.put_object(BUCKET, "older-kms.bin", b"".join(cipher.encrypt(SMALL)), headers)

    assert get_decrypted(oss, BUCKET, "older-kms.bin", KmsWrapper(kms)) == SMALL


# Refusals: always a CseError with a clear message; the stored object stays as it was


def test_a_wrong_private_key_is_refused(oss, rsa_pair):
    put_encrypted(oss, BUCKET, "mine.bin", SMALL, rsa_pair)
    etag = oss.head_object(BUCKET, "mine.bin").etag

    with pytest.raises(CseError, match="does not decrypt with this private key") as refused:
        get_decrypted(oss, BUCKET, "mine.bin", RsaWrapper.generate(2048))
    assert "Traceback" not in refused.value.message and "BEGIN" not in refused.value.message
    assert oss.head_object(BUCKET, "mine.bin").etag == etag
    assert get_decrypted(oss, BUCKET, "mine.bin", rsa_pair) == SMALL


# Tampered envelopes and content: each refused with a message saying what is wrong, never a traceback.


def refused_read(oss, key: str, body: bytes, metadata: dict, reader, changes: dict | None = None) -> str:
    """Store `body` under `key` with the envelope metadata changed; the CseError's message when reading it."""
    changed = {META + name: value for name, value in (changes or {}).items()}
    oss.put_object(BUCKET, key, body, {**metadata, **changed})
    with pytest.raises(CseError) as error:
        get_decrypted(oss, BUCKET, key, reader)
    return error.value.message


@pytest.fixture
def rsa_stored(oss, rsa_pair) -> tuple[bytes, dict[str, str]]:
    """rsa.bin, encrypted with the RSA pair: its ciphertext and envelope headers as stored."""
    put_encrypted(oss, BUCKET, "rsa.bin", SMALL, rsa_pair)
    return stored(oss, "rsa.bin")


def test_an_rsa_wrapped_key_with_a_flipped_bit_does_not_decrypt(oss, rsa_pair, rsa_stored):
    body, meta = rsa_stored
    wrapped = base64.b64decode(meta[META + "key"])
    flipped = base64.b64encode(wrapped[:100] + bytes([wrapped[100] ^ 1]) + wrapped[101:]).decode()

    message = refused_read(oss, "t1.bin", body, meta, rsa_pair, {"key": flipped})

    assert "does not decrypt with this private key" in message


def test_a_short_rsa_wrapped_key_is_refused_with_its_length(oss, rsa_pair, rsa_stored):
    body, meta = rsa_stored
    short = base64.b64encode(base64.b64decode(meta[META + "key"])[:-8]).decode()

    message = refused_read(oss, "t2.bin", body, meta, rsa_pair, {"key": short})

    assert "is 248 bytes, but a 2048-bit RSA key wraps into 256" in message


def test_a_tampered_kms_wrapped_key_is_refused_as_kms_cannot_unwrap_it(oss, kms_wrapper):
    put_encrypted(oss, BUCKET, "kms.bin", SMALL, kms_wrapper)
    body, meta = stored(oss, "kms.bin")
    blob = base64.b64decode(meta[META + "key"]).decode()
    tampered = base64.b64encode((blob[:20] + ("A" if blob[20] != "A" else "B") + blob[21:]).encode()).decode()

    message = refused_read(oss, "t3-kms.bin", body, meta, KmsWrapper(kms_wrapper.kms), {"key": tampered})

    assert "KMS could not unwrap the wrapped data key" in message


def test_truncated_content_is_refused_with_both_lengths(oss, rsa_pair, rsa_stored):
    body, meta = rsa_stored

    message = refused_read(oss, "t4.bin", body[:-10], meta, rsa_pair)

    assert message == (
        f"The stored object is {len(SMALL) - 10} bytes but its envelope records {len(SMALL)} bytes of plaintext "
        "(the ciphertext is exactly as long): the object was truncated or altered."
    )


def test_an_unsupported_wrap_algorithm_is_refused(oss, rsa_pair, rsa_stored):
    body, meta = rsa_stored

    message = refused_read(oss, "t5.bin", body, meta, rsa_pair, {"wrap-alg": "RSA/ECB/OAEPWithSHA-256"})

    assert "not supported" in message


def test_altered_content_fails_the_md5_check_and_the_original_still_reads(oss, rsa_pair, rsa_stored):
    body, meta = rsa_stored

    message = refused_read(oss, "t6.bin", bytes([body[0] ^ 1]) + body[1:], meta, rsa_pair)

    assert "does not match the MD5" in message
    assert get_decrypted(oss, BUCKET, "rsa.bin", rsa_pair) == SMALL


def test_a_plain_object_is_refused_as_not_client_side_encrypted(oss, rsa_pair):
    oss.put_object(BUCKET, "plain.txt", b"not encrypted", {})

    with pytest.raises(CseError, match="not client-side encrypted"):
        get_decrypted(oss, BUCKET, "plain.txt", rsa_pair)
