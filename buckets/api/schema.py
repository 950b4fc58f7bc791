"""OpenAPI examples of the buckets API: connections, buckets and their default encryption, objects."""

from drf_spectacular.utils import OpenApiExample

from buckets.services.buckets import NEW_OBJECTS_ONLY
from buckets.services.connection_advice import NO_PERMISSION, WRONG_SECRET
from buckets.services.lifecycle import CONSOLE_RULE_ID
from buckets.services.objects import OBJECT_CHANGED

# Connections

CONNECTION_EXAMPLE = OpenApiExample(
    "A connection to Alibaba Cloud in Hangzhou",
    value={
        "id": 3,
        "name": "production",
        "oss_endpoint": "https://oss-cn-hangzhou.aliyuncs.com",
        "region": "cn-hangzhou",
        "access_key_id": "LTAI5tExampleKeyId00001",
        "kms_endpoint": "",
        "effective_kms_endpoint": "https://kms.cn-hangzhou.aliyuncs.com",
        "has_sts_token": False,
        "is_demo": False,
        "last_test": {
            "ok": True,
            "tested_at": "2026-11-23T10:15:00Z",
            "checks": [
                {
                    "name": "OSS ListBuckets",
                    "service": "oss",
                    "ok": True,
                    "summary": "12 bucket(s) visible at https://oss-cn-hangzhou.aliyuncs.com",
                    "code": "",
                    "advice": "",
                    "ram_policy_url": "",
                    "request_id": "",
                },
                {
                    "name": "KMS ListKeys",
                    "service": "kms",
                    "ok": True,
                    "summary": "KMS answered at https://kms.cn-hangzhou.aliyuncs.com in cn-hangzhou",
                    "code": "",
                    "advice": "",
                    "ram_policy_url": "",
                    "request_id": "7F6A8E4B-1C2D-4E5F-8A9B-0C1D2E3F4A5B",
                },
            ],
        },
        "bucket_count": 12,
        "created_at": "2026-11-23T10:15:00Z",
        "updated_at": "2026-11-23T10:15:00Z",
    },
    response_only=True,
)
CONNECTION_CREATE_EXAMPLE = OpenApiExample(
    "Add a connection",
    value={
        "name": "production",
        "oss_endpoint": "https://oss-cn-hangzhou.aliyuncs.com",
        "region": "cn-hangzhou",
        "access_key_id": "LTAI5tExampleKeyId00001",
        "access_key_secret": "<the AccessKey secret>",
    },
    request_only=True,
)
CONNECTION_ROTATE_EXAMPLE = OpenApiExample(
    "Rotate the AccessKey pair",
    value={"access_key_id": "LTAI5tExampleKeyId00002", "access_key_secret": "<the new secret>"},
    request_only=True,
)
CONNECTION_TEST_PASSED_EXAMPLE = OpenApiExample(
    "Both checks passed",
    value={
        "ok": True,
        "checks": [
            {
                "name": "OSS ListBuckets",
                "service": "oss",
                "ok": True,
                "summary": "12 bucket(s) visible at https://oss-cn-hangzhou.aliyuncs.com",
                "code": "",
                "advice": "",
                "ram_policy_url": "",
                "request_id": "",
            },
            {
                "name": "KMS ListKeys",
                "service": "kms",
                "ok": True,
                "summary": "KMS answered at https://kms.cn-hangzhou.aliyuncs.com in cn-hangzhou",
                "code": "",
                "advice": "",
                "ram_policy_url": "",
                "request_id": "7F6A8E4B-1C2D-4E5F-8A9B-0C1D2E3F4A5B",
            },
        ],
    },
    response_only=True,
)
CONNECTION_TEST_FAILED_EXAMPLE = OpenApiExample(
    "A wrong secret",
    value={
        "ok": False,
        "checks": [
            {
                "name": "OSS ListBuckets",
                "service": "oss",
                "ok": False,
                "summary": "",
                "code": "SignatureDoesNotMatch",
                "advice": WRONG_SECRET,
                "ram_policy_url": "",
                "request_id": "6551DBCF4311A7303980C9B6",
            },
            {
                "name": "KMS ListKeys",
                "service": "kms",
                "ok": False,
                "summary": "",
                "code": "IncompleteSignature",
                "advice": WRONG_SECRET,
                "ram_policy_url": "",
                "request_id": "2C5F1E7A-3B4D-4C6E-9F0A-1B2C3D4E5F6A",
            },
        ],
    },
    response_only=True,
)


CONNECTION_SAVE_REFUSED_EXAMPLE = OpenApiExample(
    "Not saved: the key lacks KMS permissions",
    value={
        "detail": f"The connection was not saved: its test failed. KMS ListKeys: Forbidden.RAM. {NO_PERMISSION}",
        "test": {
            "ok": False,
            "checks": [
                {
                    "name": "OSS ListBuckets",
                    "service": "oss",
                    "ok": True,
                    "summary": "12 bucket(s) visible at https://oss-cn-hangzhou.aliyuncs.com",
                    "code": "",
                    "advice": "",
                    "ram_policy_url": "",
                    "request_id": "",
                },
                {
                    "name": "KMS ListKeys",
                    "service": "kms",
                    "ok": False,
                    "summary": "",
                    "code": "Forbidden.RAM",
                    "advice": NO_PERMISSION,
                    "ram_policy_url": "/keys/ram-policy/",
                    "request_id": "2C5F1E7A-3B4D-4C6E-9F0A-1B2C3D4E5F6A",
                },
            ],
        },
    },
    response_only=True,
    status_codes=["400"],
)


# Buckets and their default encryption

FINANCE_CMK_ID = "0987dcba-09fe-87dc-65ba-ab0987654321"
KMS_SM4_SETTING = {"method": "kms", "algorithm": "SM4", "key_id": FINANCE_CMK_ID}
DEFAULT_CHANGE = {
    "bucket": 7,
    "before": {"method": "none", "algorithm": "", "key_id": "", "label": "None"},
    "after": {
        "method": "kms",
        "algorithm": "SM4",
        "key_id": FINANCE_CMK_ID,
        "label": f"KMS SM4 alias/finance({FINANCE_CMK_ID})",
    },
    "request_id": "5C1B138A109F4E405B2D8AEF",
    "note": NEW_OBJECTS_ONLY,
}
BUCKET = {
    "id": 7,
    "connection": 1,
    "connection_name": "production",
    "name": "finance-reports",
    "region": "cn-hangzhou",
    "region_name": "China (Hangzhou)",
    "location": "oss-cn-hangzhou",
    "created": "2026-11-23T09:30:00Z",
    "storage_class": "Standard",
    "encryption": {"method": "none", "algorithm": "", "key_id": "", "label": "None", "state": "none"},
    "refreshed_at": "2026-11-23T09:30:01Z",
}
BUCKET_DETAIL_EXAMPLE = OpenApiExample(
    "KMS with a chosen key",
    response_only=True,
    value={
        "bucket": BUCKET
        | {"encryption": KMS_SM4_SETTING | {"label": f"KMS SM4 alias/finance({FINANCE_CMK_ID})", "state": "kms-named"}},
        "acl": "private",
        "versioning": "",
        "kms_key": {
            "key_id": FINANCE_CMK_ID,
            "display_name": f"alias/finance({FINANCE_CMK_ID})",
            "state": "Enabled",
            "spec": "Aliyun_SM4",
            "origin": "Aliyun_KMS",
            "arn": f"acs:kms:cn-hangzhou:1234567890:key/{FINANCE_CMK_ID}",
        },
        "problems": [],
    },
)
BUCKET_CREATE_EXAMPLE = OpenApiExample(
    "With KMS encryption",
    request_only=True,
    value={
        "connection": 1,
        "name": "finance-reports",
        "storage_class": "Standard",
        "acl": "private",
        "encryption": KMS_SM4_SETTING,
    },
)
BUCKET_CREATED_EXAMPLE = OpenApiExample(
    "Created and encrypted",
    response_only=True,
    status_codes=["201"],
    value={
        "bucket": BUCKET
        | {"encryption": KMS_SM4_SETTING | {"label": f"KMS SM4 alias/finance({FINANCE_CMK_ID})", "state": "kms-named"}},
        "request_id": "5C1B138A109F4E405B2D8AE0",
        "encryption_requested": KMS_SM4_SETTING | {"label": f"KMS SM4 {FINANCE_CMK_ID}"},
        "encryption": DEFAULT_CHANGE,
        "encryption_error": None,
    },
)
BUCKET_CREATED_WITHOUT_ENCRYPTION_EXAMPLE = OpenApiExample(
    "Created, encryption NOT set",
    response_only=True,
    status_codes=["201"],
    value={
        "bucket": BUCKET,
        "request_id": "5C1B138A109F4E405B2D8AE0",
        "encryption_requested": KMS_SM4_SETTING | {"label": f"KMS SM4 {FINANCE_CMK_ID}"},
        "encryption": None,
        "encryption_error": (
            f"KMS key {FINANCE_CMK_ID} is not in the bucket's region cn-hangzhou: KMS there does not know it "
            "(Forbidden.KeyNotFound)."
        ),
    },
)
DEFAULT_ENCRYPTION_EXAMPLE = OpenApiExample(
    "OSS-managed SM4",
    response_only=True,
    value={
        "id": 7,
        "name": "finance-reports",
        "region": "cn-hangzhou",
        "encryption": {
            "method": "oss",
            "algorithm": "SM4",
            "key_id": "",
            "label": "OSS-managed SM4",
            "state": "oss-sm4",
        },
    },
)
SET_KMS_SM4_EXAMPLE = OpenApiExample("KMS, SM4, chosen key", request_only=True, value=KMS_SM4_SETTING)
SET_OSS_AES256_EXAMPLE = OpenApiExample(
    "OSS-managed AES256", request_only=True, value={"method": "oss", "algorithm": "AES256"}
)
DEFAULT_CHANGED_EXAMPLE = OpenApiExample("Changed", response_only=True, value=DEFAULT_CHANGE)
DEFAULT_DELETED_EXAMPLE = OpenApiExample(
    "Deleted",
    response_only=True,
    value=DEFAULT_CHANGE | {"before": DEFAULT_CHANGE["after"], "after": DEFAULT_CHANGE["before"]},
)


# Lifecycle rules and the console's rule expiring older versions

USER_RULE = {
    "id": "archive-logs",
    "prefix": "logs/",
    "status": "Enabled",
    "scope": ["objects whose key starts with 'logs/'"],
    "actions": ["moves objects to Archive 90 days after they were last modified"],
    "noncurrent_days": None,
    "set_by_console": False,
}
CONSOLE_RULE = {
    "id": CONSOLE_RULE_ID,
    "prefix": "",
    "status": "Enabled",
    "scope": ["every object of the bucket"],
    "actions": ["deletes older (noncurrent) versions 30 days after they became noncurrent"],
    "noncurrent_days": 30,
    "set_by_console": True,
}
EXPIRY_PLAN = {
    "bucket": 7,
    "days": 30,
    "versioning": "Enabled",
    "noncurrent_versions": 1250,
    "noncurrent_bytes": 734003200,
    "due_versions": 1100,
    "due_bytes": 629145600,
    "kept_rules": [USER_RULE],
    "replaced_rule": None,
}
LIFECYCLE_EXAMPLE = OpenApiExample(
    "A user's rule and the console's", response_only=True, value={"rules": [USER_RULE, CONSOLE_RULE]}
)
EXPIRY_PLAN_EXAMPLE = OpenApiExample("What a 30-day rule would do", response_only=True, value=EXPIRY_PLAN)
EXPIRE_REQUEST_EXAMPLE = OpenApiExample(
    "Expire after 30 days", request_only=True, value={"days": 30, "confirmation": "finance-reports"}
)
EXPIRED_EXAMPLE = OpenApiExample(
    "Rule set",
    response_only=True,
    value={
        "bucket": 7,
        "rules": [USER_RULE, CONSOLE_RULE],
        "request_id": "5C1B138A109F4E405B2D8AF0",
        "plan": EXPIRY_PLAN,
    },
)
EXPIRE_UNCONFIRMED_EXAMPLE = OpenApiExample(
    "Not confirmed",
    response_only=True,
    status_codes=["400"],
    value={"detail": "Type the bucket's name, finance-reports, to confirm: older versions are deleted for good."},
)
EXPIRY_REMOVED_EXAMPLE = OpenApiExample(
    "Rule removed",
    response_only=True,
    value={"bucket": 7, "rules": [USER_RULE], "request_id": "5C1B138A109F4E405B2D8AF1", "plan": None},
)

# Objects

REPORTS_CMK_ID = "5f2c7a1e-8b3d-4c6f-9a0b-1d2e3f4a5b6c"
REPORTS_CMK_NAME = f"alias/reports({REPORTS_CMK_ID})"

OBJECT_LIST_EXAMPLE = OpenApiExample(
    "A folder with a sub-folder and two objects, more on the next page",
    value={
        "prefix": "reports/",
        "token": "",
        "folders": ["reports/2024/"],
        "objects": [
            {
                "key": "reports/summary.csv",
                "size": 5120,
                "etag": "5D41402ABC4B2A76B9719D911017C592",
                "last_modified": "2026-11-23T10:15:00Z",
                "storage_class": "Standard",
                "object_type": "Normal",
                "encryption": {
                    "method": "kms",
                    "algorithm": "SM4",
                    "key_id": REPORTS_CMK_ID,
                    "key_name": REPORTS_CMK_NAME,
                    "label": f"KMS SM4 {REPORTS_CMK_NAME}",
                },
                "client_side_encryption": None,
                "error": "",
            },
            {
                "key": "reports/vault.bin",
                "size": 1048576,
                "etag": "9E107D9D372BB6826BD81D3542A419D6",
                "last_modified": "2026-11-22T08:00:00Z",
                "storage_class": "IA",
                "object_type": "Normal",
                "encryption": {"method": "none", "algorithm": "", "key_id": "", "key_name": "", "label": "None"},
                "client_side_encryption": {
                    "wrap_algorithm": "KMS/ALICLOUD",
                    "wrap_label": "KMS data key (AliKMSProvider)",
                    "content_cipher": "AES/CTR/NoPadding",
                    "cipher_label": "AES-256-CTR",
                    "matdesc": {"owner": "finance"},
                    "unencrypted_length": 1048576,
                    "unencrypted_md5": "",
                    "data_size": None,
                    "part_size": None,
                    "older_names": False,
                },
                "error": "",
            },
        ],
        "next_token": "cmVwb3J0cy92YXVsdC5iaW4=",
    },
    response_only=True,
)
OBJECT_VERSIONS_EXAMPLE = OpenApiExample(
    "A re-encrypted object whose older version is still unencrypted",
    value={
        "key": "reports/summary.csv",
        "versions": [
            {
                "version_id": "CAEQNhiBgMDJgZCA0BYiIDc4MGZjZGI2OTBjOTRmNTE5NmU5NmFhZjhjYmY0",
                "is_latest": True,
                "delete_marker": False,
                "size": 5120,
                "etag": "5D41402ABC4B2A76B9719D911017C592",
                "last_modified": "2026-11-23T10:15:00Z",
                "storage_class": "Standard",
                "encryption": {
                    "method": "kms",
                    "algorithm": "SM4",
                    "key_id": REPORTS_CMK_ID,
                    "key_name": REPORTS_CMK_NAME,
                    "label": f"KMS SM4 {REPORTS_CMK_NAME}",
                },
                "client_side_encryption": None,
                "error": "",
            },
            {
                "version_id": "CAEQNhiBgIDmgZCA0BYiIGE3ZWI5OTA0NzEwZDQ4ZjBiMjk0MmE5NWU4YmY0",
                "is_latest": False,
                "delete_marker": False,
                "size": 5120,
                "etag": "5D41402ABC4B2A76B9719D911017C592",
                "last_modified": "2026-10-02T08:00:00Z",
                "storage_class": "Standard",
                "encryption": {"method": "none", "algorithm": "", "key_id": "", "key_name": "", "label": "None"},
                "client_side_encryption": None,
                "error": "",
            },
        ],
        "more": False,
    },
    response_only=True,
)

OBJECT_DETAIL_EXAMPLE = OpenApiExample(
    "An object under a named CMK",
    value={
        "key": "reports/summary.csv",
        "size": 5120,
        "etag": "5D41402ABC4B2A76B9719D911017C592",
        "crc64": "11177612005948864433",
        "last_modified": "2026-11-23T10:15:00Z",
        "storage_class": "Standard",
        "object_type": "Normal",
        "content_headers": {"Content-Type": "text/csv", "Cache-Control": "no-cache"},
        "user_metadata": {"owner": "finance"},
        "tags": {"team": "finance"},
        "acl": "default",
        "encryption": {
            "method": "kms",
            "algorithm": "SM4",
            "key_id": REPORTS_CMK_ID,
            "key_name": REPORTS_CMK_NAME,
            "label": f"KMS SM4 {REPORTS_CMK_NAME}",
        },
        "sse_headers": {
            "x-oss-server-side-encryption": "KMS",
            "x-oss-server-side-data-encryption": "SM4",
            "x-oss-server-side-encryption-key-id": REPORTS_CMK_ID,
        },
        "client_side_encryption": None,
        "request_id": "6551DBCF4311A7303980C9B6",
    },
    response_only=True,
)
OBJECT_UPLOAD_REQUEST_EXAMPLE = OpenApiExample(
    "SM4 on the object (multipart/form-data)",
    value={"file": "<the file>", "key": "reports/summary.csv", "method": "oss", "algorithm": "SM4"},
    request_only=True,
)
OBJECT_UPLOAD_EXAMPLE = OpenApiExample(
    "The object setting won over a KMS bucket default",
    value={
        "key": "reports/summary.csv",
        "size": 5120,
        "etag": "5D41402ABC4B2A76B9719D911017C592",
        "request_id": "6551DBCF4311A7303980C9B6",
        "encryption": {"method": "oss", "algorithm": "SM4", "key_id": "", "key_name": "", "label": "OSS-managed SM4"},
        "source": "object",
        "explanation": "OSS-managed SM4: the object setting won over the bucket default (KMS AES256 alias/acs/oss).",
        "bucket_default": {
            "method": "kms",
            "algorithm": "AES256",
            "key_id": "",
            "key_name": "",
            "label": "KMS AES256 alias/acs/oss",
        },
    },
    response_only=True,
)
OBJECT_CHANGE_REQUEST_EXAMPLE = OpenApiExample(
    "Re-encrypt under a named CMK with SM4",
    value={
        "key": "reports/summary.csv",
        "method": "kms",
        "algorithm": "SM4",
        "key_id": REPORTS_CMK_ID,
        "expected_etag": "5D41402ABC4B2A76B9719D911017C592",
    },
    request_only=True,
)
OBJECT_CHANGE_EXAMPLE = OpenApiExample(
    "From OSS-managed AES256 to KMS SM4",
    value={
        "key": "reports/summary.csv",
        "before": {
            "method": "oss",
            "algorithm": "AES256",
            "key_id": "",
            "key_name": "",
            "label": "OSS-managed AES256",
        },
        "after": {
            "method": "kms",
            "algorithm": "SM4",
            "key_id": REPORTS_CMK_ID,
            "key_name": REPORTS_CMK_NAME,
            "label": f"KMS SM4 {REPORTS_CMK_NAME}",
        },
        "etag_before": "5D41402ABC4B2A76B9719D911017C592",
        "etag_after": "5D41402ABC4B2A76B9719D911017C592",
        "request_id": "6551DBCF4311A7303980C9B6",
    },
    response_only=True,
)
OBJECT_CHANGED_MEANWHILE_EXAMPLE = OpenApiExample(
    "The object changed meanwhile",
    value={
        "detail": f"OSS PreconditionFailed: {OBJECT_CHANGED} (request id 6551DBCF4311A7303980C9B6)",
        "service": "oss",
        "code": "PreconditionFailed",
        "message": OBJECT_CHANGED,
        "request_id": "6551DBCF4311A7303980C9B6",
    },
    response_only=True,
    status_codes=["409"],
)
OBJECT_KMS_REFUSED_EXAMPLE = OpenApiExample(
    "The object's CMK is disabled",
    value={
        "detail": "OSS AccessDenied: This request is forbidden by kms. (request id 6551DBCF4311A7303980C9B6)",
        "service": "oss",
        "code": "AccessDenied",
        "message": "This request is forbidden by kms.",
        "request_id": "6551DBCF4311A7303980C9B6",
    },
    response_only=True,
    status_codes=["400"],
)
