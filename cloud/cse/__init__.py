"""Client-side encryption in the format oss2 2.19's CryptoBucket writes and reads (oss-api.md §8).

- `envelope`: the `x-oss-meta-client-side-encryption-*` metadata (and the older `x-oss-meta-oss-crypto-*` names);
- `wrapping`: master-key wrappers for the data key and IV (RSA PKCS#1 v1.5, RSA-OAEP, KMS);
- `content`: AES-256-CTR over chunks, ranges and multipart counters;
- `objects`: putting and getting objects through `cloud.oss.OssClient`.

Every refusal is a `CseError`, whose message is safe to show and never holds key material.
"""

from cloud.cse.errors import CseError

__all__ = ["CseError"]
