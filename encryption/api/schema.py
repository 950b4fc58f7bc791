"""OpenAPI examples of the encryption API: KMS keys, the RAM policy helper, client-side encryption master keys."""

from drf_spectacular.utils import OpenApiExample

from cloud.sse import Sse
from encryption import ram_policy

# KMS keys

KEY_ID = "0987dcba-09fe-87dc-65ba-ab0987654321"
KEY_ARN = f"acs:kms:cn-hangzhou:1234567890:key/{KEY_ID}"
KEY_INFO = {
    "key_id": KEY_ID,
    "display_name": f"alias/finance({KEY_ID})",
    "arn": KEY_ARN,
    "aliases": ["alias/finance"],
    "state": "Enabled",
    "spec": "Aliyun_AES_256",
    "usage": "ENCRYPT/DECRYPT",
    "origin": "Aliyun_KMS",
    "creator": "1234567890",
    "description": "Finance reports",
    "created": "2026-11-23T09:30:00Z",
    "deletion_date": "",
    "material_expires": "",
    "protection_level": "SOFTWARE",
    "automatic_rotation": "Disabled",
    "rotation_interval": "",
    "last_rotation": "",
    "is_default_oss_key": False,
}
REQUEST_ID = "5C1B138A-109F-4E40-5B2D-8AEF5C1B138A"
KEY_EXAMPLE = OpenApiExample(
    "A key used by one bucket", value=KEY_INFO | {"used_by": ["finance-reports"]}, response_only=True
)


def _key_changed(title: str, **changed) -> OpenApiExample:
    """The answer of a change to one key: the key as after the change, with the KMS request id."""
    return OpenApiExample(title, value={"key": KEY_INFO | changed, "request_id": REQUEST_ID}, response_only=True)


def _request(title: str, value: dict) -> OpenApiExample:
    return OpenApiExample(title, value=value, request_only=True)


KEY_CREATE_EXAMPLE = _request(
    "A KMS-generated key with an alias",
    {"connection": 1, "region": "cn-hangzhou", "spec": "Aliyun_AES_256", "alias": "alias/finance"},
)
EXTERNAL_KEY_CREATE_EXAMPLE = _request(
    "An SM4 key for your own material",
    {"connection": 1, "spec": "Aliyun_SM4", "origin": "EXTERNAL", "alias": "alias/byok-sm4"},
)
KEY_CREATED_EXAMPLE = _key_changed("The new key", description="")
ALIAS_ADD_EXAMPLE = _request("A second alias", {"alias": "alias/finance-2026"})
ALIAS_ADDED_EXAMPLE = _key_changed("The key with its new alias", aliases=["alias/finance", "alias/finance-2026"])
ALIAS_REMOVE_EXAMPLE = _request("An alias of the key", {"alias": "alias/finance"})
ALIAS_REMOVED_EXAMPLE = _key_changed("The key without the alias", aliases=[], display_name=KEY_ID)
KEY_ENABLED_EXAMPLE = _key_changed("Enabled again")
KEY_DISABLED_EXAMPLE = _key_changed(
    "Disabled: objects sealed under it are unreadable until it is enabled", state="Disabled"
)
DELETION_SCHEDULE_EXAMPLE = _request("In 30 days", {"pending_days": 30})
DELETION_SCHEDULED_EXAMPLE = _key_changed(
    "Pending deletion", state="PendingDeletion", deletion_date="2026-12-23T09:30:00Z"
)
DELETION_CANCELLED_EXAMPLE = _key_changed("Enabled again, no deletion date")
KEY_ROTATED_EXAMPLE = _key_changed("Rotated", last_rotation="2026-11-24T08:00:00Z")
IMPORT_PARAMETERS_REQUEST_EXAMPLE = _request("RSAES-OAEP with SHA-256", {"wrapping_algorithm": "RSAES_OAEP_SHA_256"})
IMPORT_PARAMETERS_EXAMPLE = OpenApiExample(
    "Parameters",
    value={
        "key_id": KEY_ID,
        "wrapping_algorithm": "RSAES_OAEP_SHA_256",
        "public_key": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA…",
        "public_key_pem": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA…\n"
        "-----END PUBLIC KEY-----\n",
        "import_token": "AAEAAMBtnBbFAU5Z…",
        "token_expires": "2026-11-24T09:30:00Z",
        "request_id": REQUEST_ID,
    },
    response_only=True,
)
MATERIAL_IMPORT_EXAMPLE = _request(
    "Material that expires in a year",
    {
        "encrypted_key_material": "Qm9vZ3VzIGV4YW1wbGUgb2Ygd3JhcHBlZCBtYXRlcmlhbA…",
        "import_token": "AAEAAMBtnBbFAU5Z…",
        "expires_unix": 1826870400,
    },
)
MATERIAL_IMPORTED_EXAMPLE = _key_changed(
    "Enabled with your material", origin="EXTERNAL", material_expires="2027-11-23T00:00:00Z"
)


# The RAM policy helper

_EXAMPLE_POLICY = ram_policy.ram_policy(
    ram_policy.Targets("finance-reports", "cn-hangzhou", Sse("kms", "AES256", KEY_ID), KEY_ARN),
    [ram_policy.UPLOAD, ram_policy.DOWNLOAD],
)
RAM_POLICY_EXAMPLE = OpenApiExample(
    "Upload and download with a named CMK",
    value={
        "document": _EXAMPLE_POLICY.document(),
        "annotations": _EXAMPLE_POLICY.annotations(),
        "key_arn": KEY_ARN,
        "notes": [],
    },
    response_only=True,
)


# Client-side encryption master keys

GENERATE_EXAMPLE = OpenApiExample(
    "Generate an RSA key pair", value={"name": "finance", "kind": "rsa", "bits": 3072}, request_only=True
)
IMPORT_EXAMPLE = OpenApiExample(
    "Import an RSA private key",
    value={"name": "legacy", "kind": "rsa", "private_key_pem": "-----BEGIN PRIVATE KEY-----\n...", "passphrase": ""},
    request_only=True,
)
KMS_EXAMPLE = OpenApiExample(
    "Add a KMS key",
    value={"name": "kms-finance", "kind": "kms", "connection": 3, "region": "", "cmk_id": "alias/finance"},
    request_only=True,
)
