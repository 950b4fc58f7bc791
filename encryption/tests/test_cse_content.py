"""cloud.cse without a network: AES-256-CTR content, ranges, multipart counters, the envelope's headers and RSA
wrapping, checked against oss2's own cipher and metadata code (oss2.utils.AESCTRCipher, ContentCryptoMaterial)."""

import base64
import os

import pytest
from oss2 import models as oss_models
from oss2 import utils as oss_utils
from oss2.headers import (
    KMS_ALI_WRAP_ALGORITHM,
    RSA_NONE_OAEPWithSHA1AndMGF1Padding,
    RSA_NONE_PKCS1Padding_WRAP_ALGORITHM,
)

from cloud.cse import CseError
from cloud.cse.content import (
    BLOCK_SIZE,
    MIN_PART_SIZE,
    ContentCipher,
    CtrStream,
    as_chunks,
    check_part_size,
    fetch_range,
    new_data_key,
    new_iv,
    part_offset,
)
from cloud.cse.envelope import CEK_ALG, WRAP_KMS, WRAP_RSA_OAEP, WRAP_RSA_PKCS1, Envelope
from cloud.cse.wrapping import KmsWrapper, RsaWrapper

DATA = os.urandom(5000)
RANGES = [(0, 0), (0, 15), (1, 1), (5, 20), (15, 16), (16, 31), (17, 4999), (100, None), (4095, 4097), (4999, 4999)]


@pytest.fixture(scope="module")
def material():
    return new_data_key(), new_iv()


@pytest.fixture(scope="module")
def rsa_pair():
    return RsaWrapper.generate(2048)


def oss2_cipher(key: bytes, iv: bytes, counter_offset: int = 0):
    cipher = oss_utils.AESCTRCipher()
    cipher.initialize(key, iv, counter_offset)
    return cipher


def joined(chunks) -> bytes:
    return b"".join(chunks)


def in_chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# Content


def test_new_material_has_oss2s_shape():
    iv = new_iv()
    assert len(new_data_key()) == 32 and len(iv) == 16
    assert iv[8:12] == bytes(4), "bytes 8-11 are zero as in oss2's random_iv"


@pytest.mark.parametrize("chunk_size", [1, 7, 16, 1000, 65536])
def test_encryption_matches_oss2s_cipher_whatever_the_chunks(material, chunk_size):
    key, iv = material
    expected = oss2_cipher(key, iv).encrypt(DATA)
    assert joined(ContentCipher(key, iv).encrypt(in_chunks(DATA, chunk_size))) == expected
    assert joined(ContentCipher(key, iv).decrypt(in_chunks(expected, chunk_size))) == DATA
    assert len(expected) == len(DATA), "CTR: no padding, no tag"


def test_data_may_be_bytes_a_file_or_chunks(material):
    import io

    key, iv = material
    expected = joined(ContentCipher(key, iv).encrypt(DATA))
    assert joined(ContentCipher(key, iv).encrypt(io.BytesIO(DATA))) == expected
    assert joined(ContentCipher(key, iv).encrypt(iter(in_chunks(DATA, 333)))) == expected
    assert list(as_chunks(b"")) == []


@pytest.mark.parametrize("start, end", RANGES)
def test_fetch_range_aligns_the_start_down_as_oss2s_adjust_range(start, end):
    fetched_start, fetched_end, discard = fetch_range(start, end)
    if start:  # oss2 leaves a start of 0 (falsy) alone; aligned either way
        assert (fetched_start, fetched_end) == oss_utils.AESCTRCipher().adjust_range(start, end)
    assert fetched_start % BLOCK_SIZE == 0 and fetched_start + discard == start and fetched_end == end


@pytest.mark.parametrize("start, end", RANGES)
def test_a_range_decrypts_to_exactly_the_plaintext_bytes_asked_for(material, start, end):
    key, iv = material
    ciphertext = joined(ContentCipher(key, iv).encrypt(DATA))
    fetched_start, fetched_end, _ = fetch_range(start, end)
    fetched = ciphertext[fetched_start : None if fetched_end is None else fetched_end + 1]
    wanted = DATA[start : None if end is None else end + 1]
    assert joined(ContentCipher(key, iv).decrypt_range(in_chunks(fetched, 7), start, end)) == wanted
    # The same bytes from an unaligned fetch (as a suffix range gives), and from the object's first byte.
    unaligned = max(start - 3, 0)
    fetched = ciphertext[unaligned : None if end is None else end + 1]
    assert joined(ContentCipher(key, iv).decrypt_range(fetched, start, end, fetched_from=unaligned)) == wanted
    assert joined(ContentCipher(key, iv).decrypt_range(ciphertext, start, end, fetched_from=0)) == wanted


def test_a_range_decrypts_like_oss2_from_the_content_range_start(material):
    """oss2 starts the cipher at counter offset start // 16 of the 206's Content-Range, then drops `discard`."""
    key, iv = material
    ciphertext = oss2_cipher(key, iv).encrypt(DATA)
    start, end = 1234, 3000
    aligned, _, discard = fetch_range(start, end)
    by_oss2 = oss2_cipher(key, iv, aligned // 16).decrypt(ciphertext[aligned : end + 1])[discard:]
    assert by_oss2 == DATA[start : end + 1]
    assert joined(ContentCipher(key, iv).decrypt_range(ciphertext[aligned : end + 1], start, end)) == by_oss2


def test_ctr_stream_may_start_at_any_byte(material):
    key, iv = material
    ciphertext = joined(ContentCipher(key, iv).encrypt(DATA))
    for offset in (0, 1, 15, 16, 17, 4321):
        assert CtrStream(key, iv, offset).update(ciphertext[offset:]) == DATA[offset:]


def test_multipart_parts_continue_one_keystream_with_oss2s_counters(material):
    key, iv = material
    part_size = MIN_PART_SIZE
    data = os.urandom(part_size * 3 + 777)
    whole = joined(ContentCipher(key, iv).encrypt(data))
    parts = []
    for number, start in enumerate(range(0, len(data), part_size), start=1):
        plain = data[start : start + part_size]
        assert part_offset(number, part_size) == start
        mine = joined(ContentCipher(key, iv).encrypt_part(plain, number, part_size))
        # CryptoBucket.upload_part: cipher.initialize(key, iv, calc_offset(part_size * (number - 1)))
        counter = oss_utils.AESCTRCipher().calc_offset(part_size * (number - 1))
        assert mine == oss2_cipher(key, iv, counter).encrypt(plain)
        parts.append(mine)
    assert b"".join(parts) == whole
    assert joined(ContentCipher(key, iv).decrypt(whole)) == data
    start, end = part_size - 5, 2 * part_size + 5  # across two part boundaries
    assert (
        joined(ContentCipher(key, iv).decrypt_range(whole[start - start % 16 : end + 1], start, end))
        == data[start : end + 1]
    )


def test_the_counter_wraps_around_128_bits_like_a_single_stream():
    key, iv = new_data_key(), b"\xff" * 16
    data = os.urandom(64)
    ciphertext = joined(ContentCipher(key, iv).encrypt(data))
    assert CtrStream(key, iv, 32).update(ciphertext[32:]) == data[32:]


@pytest.mark.parametrize(
    "part_size, data_size, message",
    [
        (MIN_PART_SIZE + 1, 10**6, "multiple of 16"),
        (MIN_PART_SIZE - 16, 10**6, "at least 102400"),
        (MIN_PART_SIZE, MIN_PART_SIZE * 10_001, "more than 10000 parts"),
    ],
)
def test_part_sizes_follow_oss2s_rules(part_size, data_size, message):
    assert oss_utils.AESCTRCipher().is_valid_part_size(part_size, data_size) is False
    with pytest.raises(CseError, match=message):
        check_part_size(part_size, data_size)
    check_part_size(MIN_PART_SIZE, MIN_PART_SIZE * 10_000)


def test_bad_ranges_and_material_are_refused(material):
    key, iv = material
    for start, end in ((-1, 5), (10, 9)):
        with pytest.raises(CseError, match="not valid"):
            fetch_range(start, end)
    with pytest.raises(CseError, match="cannot give plaintext"):
        ContentCipher(key, iv).decrypt_range(b"", 5, 9, fetched_from=6)
    with pytest.raises(CseError, match="32 bytes"):
        ContentCipher(key[:16], iv)
    with pytest.raises(CseError, match="multiple of 16"):
        part_offset(2, 100)
    assert "AES-256-CTR" in repr(ContentCipher(key, iv)) and key.hex() not in repr(ContentCipher(key, iv))


# Envelope


def test_metadata_is_what_oss2s_content_crypto_material_writes():
    wrapped_key, wrapped_iv = os.urandom(256), os.urandom(256)
    matdesc = {"owner": "console", "purpose": "tests"}
    context = oss_models.MultipartUploadCryptoContext(data_size=300_000, part_size=MIN_PART_SIZE)
    by_oss2 = oss_models.ContentCryptoMaterial(
        oss_utils.AESCTRCipher(), RSA_NONE_PKCS1Padding_WRAP_ALGORITHM, wrapped_key, wrapped_iv, matdesc
    ).to_object_meta({"content-length": "300000", "content-md5": "bWQ1"}, context)
    envelope = Envelope(
        wrapped_key=base64.b64encode(wrapped_key).decode(),
        wrapped_start=base64.b64encode(wrapped_iv).decode(),
        wrap_alg=WRAP_RSA_PKCS1,
        matdesc='{"owner": "console", "purpose": "tests"}',
        unencrypted_length=300_000,
        unencrypted_md5="bWQ1",
        data_size=300_000,
        part_size=MIN_PART_SIZE,
    )
    assert envelope.to_metadata() == dict(by_oss2.items())
    assert Envelope.from_headers(by_oss2) == envelope


def test_only_what_oss2_writes_by_default_is_present():
    by_oss2 = oss_models.ContentCryptoMaterial(oss_utils.AESCTRCipher(), KMS_ALI_WRAP_ALGORITHM, b"blob", b"ivblob")
    envelope = Envelope(wrapped_key="YmxvYg==", wrapped_start="aXZibG9i", wrap_alg=WRAP_KMS)
    assert envelope.to_metadata() == dict(by_oss2.to_object_meta({}).items())
    assert sorted(envelope.to_metadata()) == [
        "x-oss-meta-client-side-encryption-cek-alg",
        "x-oss-meta-client-side-encryption-key",
        "x-oss-meta-client-side-encryption-start",
        "x-oss-meta-client-side-encryption-wrap-alg",
    ]


def test_older_names_are_read_as_oss2_reads_them():
    headers = {
        "X-Oss-Meta-Oss-Crypto-Key": "a2V5",
        "x-oss-meta-oss-crypto-start": "c3RhcnQ=",
        "x-oss-meta-oss-cek-alg": "AES/GCM/NoPadding",
        "x-oss-meta-oss-wrap-alg": "rsa",
        "x-oss-meta-oss-crypto-matdesc": '{"a": "b"}',
        "x-oss-meta-oss-crypto-unencrypted-content-length": "42",
        "x-oss-meta-oss-crypto-unencrypted-content-md5": "bWQ1",
        "x-oss-meta-client-side-encryption-key": "Y3VycmVudA==",  # the older key wins, as in oss2
    }
    envelope = Envelope.from_headers(headers)
    assert envelope.older_names and envelope.start_is_counter
    assert (envelope.wrapped_key, envelope.wrapped_start) == ("a2V5", "c3RhcnQ=")
    assert (envelope.wrap_algorithm, envelope.content_cipher) == (WRAP_RSA_OAEP, CEK_ALG)
    assert (envelope.unencrypted_length, envelope.unencrypted_md5) == (42, "bWQ1")
    assert envelope.material_description == {"a": "b"}
    material = oss_models.ContentCryptoMaterial(oss_utils.AESCTRCipher(), RSA_NONE_OAEPWithSHA1AndMGF1Padding)
    material.from_object_meta(headers)
    assert (material.deprecated, material.wrap_alg, material.cek_alg) == (True, WRAP_RSA_OAEP, CEK_ALG)
    assert Envelope.from_headers(envelope.to_metadata()) == envelope
    assert (
        Envelope.from_headers({"x-oss-meta-oss-wrap-alg": "kms", "x-oss-meta-oss-crypto-key": "k"}).wrap_algorithm
        == WRAP_KMS
    )


def test_headers_without_a_wrapped_key_have_no_envelope_and_bad_sizes_are_refused():
    assert Envelope.from_headers({"content-length": "5", "x-oss-meta-client-side-encryption-start": "x"}) is None
    with pytest.raises(CseError, match="unencrypted-content-length metadata is not a number"):
        Envelope.from_headers(
            {
                "x-oss-meta-client-side-encryption-key": "k",
                "x-oss-meta-client-side-encryption-unencrypted-content-length": "-1",
            }
        )
    with pytest.raises(CseError, match="not valid JSON"):
        _ = Envelope("k", "s", WRAP_KMS, matdesc="{oops").material_description


# RSA wrapping


@pytest.mark.parametrize("wrap_alg", [WRAP_RSA_PKCS1, WRAP_RSA_OAEP])
def test_rsa_wraps_key_and_iv_separately_and_unwraps_both_paddings(rsa_pair, wrap_alg):
    writer = RsaWrapper.from_pem(public_pem=rsa_pair.public_pem(), wrap_alg=wrap_alg)
    material = writer.new_material()
    assert material.wrap_alg == wrap_alg and len(base64.b64decode(material.wrapped_key)) == 256
    envelope = Envelope(material.wrapped_key, material.wrapped_iv, material.wrap_alg)
    assert rsa_pair.unwrap(envelope) == (material.data_key, material.iv)
    assert "data_key=" not in repr(material) and "iv=" not in repr(material).replace("wrapped_iv=", "")


def test_pycryptodome_keys_with_a_passphrase_are_read(rsa_pair):
    from Crypto.PublicKey import RSA

    key = RSA.generate(2048)
    wrapper = RsaWrapper.from_pem(key.export_key(passphrase="s3cret"), passphrase="s3cret")
    assert wrapper.key_size == 2048 and wrapper.can_unwrap
    RsaWrapper.from_pem(key.export_key(), key.publickey().export_key())
    with pytest.raises(CseError, match="wrong passphrase"):
        RsaWrapper.from_pem(key.export_key(passphrase="s3cret"), passphrase="other")
    with pytest.raises(CseError, match="needs a passphrase"):
        RsaWrapper.from_pem(key.export_key(passphrase="s3cret"))
    with pytest.raises(CseError, match="does not belong"):
        RsaWrapper.from_pem(key.export_key(), rsa_pair.public_pem())
    with pytest.raises(CseError, match="not a PEM RSA private key"):
        RsaWrapper.from_pem("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    with pytest.raises(CseError, match="2048 or 3072"):
        RsaWrapper.generate(1024)


def test_rsa_unwrap_refusals_are_clear(rsa_pair):
    material = rsa_pair.new_material()
    envelope = Envelope(material.wrapped_key, material.wrapped_iv, material.wrap_alg)
    other = RsaWrapper.generate(2048)
    with pytest.raises(CseError, match="does not decrypt with this private key") as refused:
        other.unwrap(envelope)
    assert material.data_key.hex() not in refused.value.message
    with pytest.raises(CseError, match="is 128 bytes, but a 2048-bit RSA key wraps into 256"):
        rsa_pair.unwrap(Envelope(base64.b64encode(os.urandom(128)).decode(), material.wrapped_iv, WRAP_RSA_PKCS1))
    with pytest.raises(CseError, match="public key only"):
        RsaWrapper.from_pem(public_pem=rsa_pair.public_pem()).unwrap(envelope)
    with pytest.raises(CseError, match="'RSA/ECB/Foo', which is not supported"):
        rsa_pair.unwrap(Envelope(material.wrapped_key, material.wrapped_iv, "RSA/ECB/Foo"))
    with pytest.raises(CseError, match="content cipher 'AES/CBC/PKCS5Padding' is not supported"):
        rsa_pair.unwrap(
            Envelope(material.wrapped_key, material.wrapped_iv, WRAP_RSA_PKCS1, cek_alg="AES/CBC/PKCS5Padding")
        )
    with pytest.raises(CseError, match="KMS data key"):
        rsa_pair.unwrap(Envelope(material.wrapped_key, material.wrapped_iv, WRAP_KMS))
    with pytest.raises(CseError, match='material description {"who": "x"} does not match this key\'s \\(none\\)'):
        rsa_pair.unwrap(Envelope(material.wrapped_key, material.wrapped_iv, WRAP_RSA_PKCS1, matdesc='{"who": "x"}'))


def test_kms_wrapper_refuses_rsa_envelopes_before_calling_kms():
    envelope = Envelope("a2V5", "aXY=", WRAP_RSA_PKCS1)
    with pytest.raises(CseError, match="RSA PKCS#1 v1.5"):
        KmsWrapper(kms=None, key_id="key-1").unwrap(envelope)
