"""OpenAPI examples of the audit log API."""

from drf_spectacular.utils import OpenApiExample

EVENT_EXAMPLE = OpenApiExample(
    "A bucket default changed to KMS",
    value={
        "id": 42,
        "time": "2026-11-23T10:15:00Z",
        "user": "olga",
        "channel": "api",
        "action": "bucket.encryption.put",
        "action_label": "Bucket default encryption set",
        "outcome": "success",
        "connection": "production",
        "bucket": "logs",
        "object_key": "",
        "target": "",
        "change": "Default encryption of bucket logs: None → KMS SM4 alias/logs(key-hzz62f1c3f8d1ad6xxxxx)",
        "before": {"method": "none", "algorithm": "", "key_id": "", "label": "None"},
        "after": {
            "method": "kms",
            "algorithm": "SM4",
            "key_id": "key-hzz62f1c3f8d1ad6xxxxx",
            "label": "KMS SM4 alias/logs(key-hzz62f1c3f8d1ad6xxxxx)",
        },
        "request_id": "6551DBCF4311A7303980C9B6",
        "error": "",
    },
    response_only=True,
)
