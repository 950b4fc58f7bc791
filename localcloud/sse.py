"""Which server-side encryption applies to a request (design.md §5, oss-api.md §4.6, §5.8)."""

from dataclasses import dataclass

from localcloud import errors

ALGORITHMS = ("AES256", "KMS", "SM4")
SSE_HEADER = "x-oss-server-side-encryption"
DATA_ENCRYPTION_HEADER = "x-oss-server-side-data-encryption"
KEY_ID_HEADER = "x-oss-server-side-encryption-key-id"
SSE_HEADERS = (SSE_HEADER, DATA_ENCRYPTION_HEADER, KEY_ID_HEADER)


@dataclass(frozen=True)
class SseChoice:
    """What the client asked for: algorithm "" (none), AES256, SM4 or KMS with optional key id and SM4 data."""

    algorithm: str = ""
    kms_key_id: str = ""
    data_encryption: str = ""

    @property
    def cipher(self) -> str:
        """The frame cipher at rest: SSE-OSS uses its own algorithm, KMS its data-encryption algorithm."""
        if self.algorithm == "KMS":
            return self.data_encryption or "AES256"
        return self.algorithm


NONE = SseChoice()


def _normalised(algorithm: str, key_id: str, data_encryption: str, *, header_names: bool) -> SseChoice:
    if algorithm not in ALGORITHMS:
        raise errors.invalid_encryption_algorithm(algorithm)
    if algorithm != "KMS":
        if key_id:
            name = KEY_ID_HEADER if header_names else "KMSMasterKeyID"
            raise errors.invalid_argument(
                "KMSMasterKeyID is not applicable if the default sse algorithm is not KMS", name, key_id
            )
        return SseChoice(algorithm)
    if data_encryption not in ("", "SM4"):
        name = DATA_ENCRYPTION_HEADER if header_names else "KMSDataEncryption"
        raise errors.invalid_argument(f"Invalid data encryption algorithm {data_encryption!r}.", name, data_encryption)
    return SseChoice("KMS", key_id, data_encryption)


def from_headers(headers) -> SseChoice | None:
    """The request's own SSE, or None when it carries no x-oss-server-side-encryption header."""
    algorithm = headers.get(SSE_HEADER)
    if algorithm is None:
        return None
    return _normalised(
        algorithm, headers.get(KEY_ID_HEADER, ""), headers.get(DATA_ENCRYPTION_HEADER, ""), header_names=True
    )


def from_rule(algorithm: str, key_id: str, data_encryption: str) -> SseChoice:
    """A PutBucketEncryption rule, validated the way OSS does."""
    return _normalised(algorithm, key_id, data_encryption, header_names=False)


def of_bucket(bucket) -> SseChoice:
    return SseChoice(bucket.sse_algorithm, bucket.sse_kms_key_id, bucket.sse_kms_data_encryption)


def for_new_object(headers, bucket) -> SseChoice:
    """Precedence: the request's headers, else the bucket default, else none."""
    return from_headers(headers) or of_bucket(bucket)


def reject_headers(headers) -> None:
    """UploadPart and CompleteMultipartUpload take their SSE from the upload, never from the request."""
    for name in SSE_HEADERS:
        if name in headers:
            raise errors.invalid_argument(f"{SSE_HEADER} header is not supported for this operation.", name)


def response_headers(record) -> dict[str, str]:
    """The SSE headers OSS returns for an object, part or upload (nothing when unencrypted)."""
    if not record.sse_algorithm:
        return {}
    headers = {SSE_HEADER: record.sse_algorithm}
    if record.sse_algorithm == "KMS":
        headers[KEY_ID_HEADER] = record.sse_kms_key_id
        if record.sse_data_encryption:
            headers[DATA_ENCRYPTION_HEADER] = record.sse_data_encryption
    return headers
