"""What the console reads from a cloud refusal, whichever app meets it."""

import pytest

from cloud.errors import CloudError


@pytest.mark.parametrize(
    "service, code, message, http_status, refused_by_kms",
    [
        ("oss", "AccessDenied", "This request is forbidden by kms.", 403, True),
        ("oss", "AccessDenied", "This request is forbidden by KMS.", 403, True),
        ("kms", "Forbidden.NoPermission", "This operation is forbidden.", 403, True),
        ("oss", "AccessDenied", "You have no right to access this object.", 403, False),
        ("oss", "NoSuchKey", "The specified key does not exist (kms).", 404, False),
        ("kms", "Forbidden.KeyNotFound", "The specified Key is not found.", 404, False),
        ("oss", "RequestError", "OSS endpoint unreachable (kms)", None, False),
    ],
)
def test_a_refusal_is_put_down_to_kms_only_when_kms_refused_with_a_403(
    service, code, message, http_status, refused_by_kms
):
    error = CloudError(service, code, message, request_id="6551DBCF4311A7303980C9B6", http_status=http_status)

    assert error.refused_by_kms is refused_by_kms
