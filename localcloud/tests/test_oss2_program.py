"""A program written for Alibaba Cloud OSS with oss2 runs unchanged against localcloud."""

import hashlib
import os

import oss2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from oss2.models import ServerSideEncryptionRule


def rsa_key_pair() -> dict:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "private_key": private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        "public_key": private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    }


def test_an_encryption_workflow_written_for_oss_runs_unchanged(localcloud, auth, tmp_path):
    bucket = oss2.Bucket(auth, localcloud, "program-bucket")
    bucket.create_bucket(oss2.BUCKET_ACL_PRIVATE)

    rule = ServerSideEncryptionRule()
    rule.sse_algorithm = oss2.SERVER_SIDE_ENCRYPTION_KMS
    bucket.put_bucket_encryption(rule)
    assert bucket.get_bucket_encryption().sse_algorithm == "KMS"

    default_encrypted = bucket.put_object("reports/2026/q3.csv", b"id,amount\n1,10\n")
    assert default_encrypted.headers["x-oss-server-side-encryption"] == "KMS"
    sm4 = bucket.put_object(
        "reports/2026/q4.csv", b"id,amount\n2,20\n", headers={"x-oss-server-side-encryption": "SM4"}
    )
    assert sm4.headers["x-oss-server-side-encryption"] == "SM4"

    tagging_rule = oss2.models.TaggingRule()
    tagging_rule.add("team", "finance")
    bucket.put_object_tagging("reports/2026/q4.csv", oss2.models.Tagging(tagging_rule))
    bucket.copy_object(
        "program-bucket",
        "reports/2026/q4.csv",
        "reports/2026/q4.csv",
        headers={
            "x-oss-metadata-directive": "REPLACE",
            "Content-Type": "text/csv",
            "x-oss-server-side-encryption": "AES256",
            "x-oss-copy-source-if-match": bucket.head_object("reports/2026/q4.csv").etag,
        },
    )
    head = bucket.head_object("reports/2026/q4.csv")
    assert head.headers["x-oss-server-side-encryption"] == "AES256"
    assert head.content_type == "text/csv"
    assert bucket.get_object_tagging("reports/2026/q4.csv").tag_set.tagging_rule == {"team": "finance"}

    big = tmp_path / "archive.bin"
    big.write_bytes(os.urandom(700 * 1024))
    oss2.resumable_upload(bucket, "archive.bin", str(big), multipart_threshold=200 * 1024, part_size=100 * 1024)
    downloaded = tmp_path / "archive.copy"
    oss2.resumable_download(bucket, "archive.bin", str(downloaded), multiget_threshold=200 * 1024, part_size=100 * 1024)
    assert downloaded.read_bytes() == big.read_bytes()

    keys = [info.key for info in oss2.ObjectIteratorV2(bucket, prefix="reports/", max_keys=1)]
    assert keys == ["reports/2026/q3.csv", "reports/2026/q4.csv"]
    folders = [info.key for info in oss2.ObjectIterator(bucket, delimiter="/") if info.is_prefix()]
    assert folders == ["reports/"]

    secret = os.urandom(300 * 1024)
    crypto_bucket = oss2.CryptoBucket(
        auth, localcloud, "program-bucket", crypto_provider=oss2.RsaProvider(rsa_key_pair())
    )
    crypto_bucket.put_object("private/secret.bin", secret)
    assert crypto_bucket.get_object("private/secret.bin").read() == secret
    stored = bucket.get_object("private/secret.bin").read()
    assert stored != secret and len(stored) == len(secret)
    assert hashlib.md5(crypto_bucket.get_object("private/secret.bin", byte_range=(1000, 2999)).read()).digest() == (
        hashlib.md5(secret[1000:3000]).digest()
    )

    for info in oss2.ObjectIterator(bucket):
        bucket.delete_object(info.key)
    bucket.delete_bucket_encryption()
    bucket.delete_bucket()
