"""Client-side encrypted objects are described from HEAD metadata under the current and the older oss2 names."""

import base64

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from cloud.cse import recognition as cse
from cloud.cse.content import ContentCipher, new_data_key, new_iv
from cloud.cse.envelope import Envelope
from cloud.cse.wrapping import RsaWrapper


def test_current_names_give_the_whole_envelope():
    found = cse.describe(
        {
            "x-oss-meta-client-side-encryption-key": "d3JhcHBlZA==",
            "x-oss-meta-client-side-encryption-start": "aXY=",
            "x-oss-meta-client-side-encryption-cek-alg": "AES/CTR/NoPadding",
            "x-oss-meta-client-side-encryption-wrap-alg": "RSA/NONE/OAEPWithSHA-1AndMGF1Padding",
            "x-oss-meta-client-side-encryption-matdesc": '{"desc": "backup"}',
            "x-oss-meta-client-side-encryption-unencrypted-content-length": "1048576",
            "x-oss-meta-client-side-encryption-unencrypted-content-md5": "XUFAKrxLKna5cZ2REBfFkg==",
            "x-oss-meta-client-side-encryption-data-size": "1048576",
            "x-oss-meta-client-side-encryption-part-size": "102400",
        }
    )

    assert found == cse.ClientSideEncryption(
        wrap_algorithm="RSA/NONE/OAEPWithSHA-1AndMGF1Padding",
        content_cipher="AES/CTR/NoPadding",
        matdesc={"desc": "backup"},
        unencrypted_length=1048576,
        unencrypted_md5="XUFAKrxLKna5cZ2REBfFkg==",
        data_size=1048576,
        part_size=102400,
        older_names=False,
    )
    assert found.wrap_label == "RSA-OAEP with SHA-1 (LocalRsaProvider)" and found.cipher_label == "AES-256-CTR"


def test_older_names_are_recognised_and_said_to_be_older():
    found = cse.describe(
        {
            "x-oss-meta-oss-crypto-key": "Y2lwaGVydGV4dGJsb2I=",
            "x-oss-meta-oss-crypto-start": "Y291bnRlcg==",
            "x-oss-meta-oss-cek-alg": "AES/GCM/NoPadding",
            "x-oss-meta-oss-wrap-alg": "kms",
            "x-oss-meta-oss-crypto-matdesc": "not json",
            "x-oss-meta-oss-crypto-unencrypted-content-length": "42",
            "x-oss-meta-oss-crypto-unencrypted-content-md5": "md5",
        }
    )

    assert found.older_names and found.wrap_algorithm == "kms" and found.unencrypted_length == 42
    assert found.matdesc == "not json" and found.unencrypted_md5 == "md5"
    assert found.wrap_label == "KMS data key (older AliKMSProvider)"
    assert found.cipher_label.startswith("AES-256-CTR") and found.metadata_names.startswith("older")


def test_with_both_name_sets_the_label_describes_the_envelope_decryption_reads_which_is_the_older_as_in_oss2():
    """oss2 reads every field by the older names once the older key header is there; the current ones here are a
    decoy that no key opens, so only the older envelope decrypts."""
    wrapper = RsaWrapper.generate()
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    public = serialization.load_pem_public_key(wrapper.public_pem())
    data_key, counter = new_data_key(), int.from_bytes(new_iv(), "big")
    headers = {
        "x-oss-meta-oss-crypto-key": base64.b64encode(public.encrypt(data_key, oaep)).decode(),
        "x-oss-meta-oss-crypto-start": base64.b64encode(public.encrypt(str(counter).encode(), oaep)).decode(),
        "x-oss-meta-oss-cek-alg": "AES/GCM/NoPadding",
        "x-oss-meta-oss-wrap-alg": "rsa",
        "x-oss-meta-client-side-encryption-key": "ZGVjb3k=",
        "x-oss-meta-client-side-encryption-start": "ZGVjb3k=",
        "x-oss-meta-client-side-encryption-cek-alg": "AES/CTR/NoPadding",
        "x-oss-meta-client-side-encryption-wrap-alg": "KMS/ALICLOUD",
    }
    ciphertext = b"".join(ContentCipher(data_key, counter.to_bytes(16, "big")).encrypt(b"the plaintext"))

    label = cse.describe(headers)
    data_key, iv = wrapper.unwrap(Envelope.from_headers(headers))

    assert label.older_names and label.wrap_label == "RSA-OAEP with SHA-1 (older LocalRsaProvider)"
    assert b"".join(ContentCipher(data_key, iv).decrypt(ciphertext)) == b"the plaintext"


def test_objects_without_a_wrapped_key_are_not_client_side_encrypted():
    assert cse.describe({}) is None
    assert cse.describe({"x-oss-meta-client-side-encryption-wrap-alg": "KMS/ALICLOUD"}) is None
    assert cse.describe({"x-oss-meta-owner": "finance", "x-oss-server-side-encryption": "KMS"}) is None


def test_sizes_that_are_not_numbers_are_not_reported():
    found = cse.describe(
        {"x-oss-meta-client-side-encryption-key": "a2V5", "x-oss-meta-client-side-encryption-data-size": "lots"}
    )

    assert found.data_size is None and found.unencrypted_length is None and found.matdesc is None
    assert found.wrap_label == "not stated"
