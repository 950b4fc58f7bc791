"""OSS errors as oss2 parses them (oss-api.md §3): a status, a Code, a message and context elements."""

from localcloud import xml


class OssError(Exception):
    """Raised anywhere in a request; the WSGI app renders it as the error XML."""

    def __init__(self, status: int, code: str, message: str, *, ec: str = "", headers=None, **details):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.ec = status, code, message, ec
        self.headers = dict(headers or {})
        # A list value is a nested element of (tag, text) children, as AccessDeniedDetail is.
        present = {name: value for name, value in details.items() if value is not None}
        self.details = {name: value if isinstance(value, list) else str(value) for name, value in present.items()}

    def body(self, request_id: str, host: str) -> bytes:
        children = [("Code", self.code), ("Message", self.message), ("RequestId", request_id), ("HostId", host)]
        children += list(self.details.items())
        if self.ec:
            children.append(("EC", self.ec))
        return xml.document("Error", children)


def invalid_argument(message: str, name: str | None = None, value: str | None = None) -> OssError:
    return OssError(400, "InvalidArgument", message, ArgumentName=name, ArgumentValue=value)


def no_such_bucket(bucket: str) -> OssError:
    return OssError(404, "NoSuchBucket", "The specified bucket does not exist.", BucketName=bucket, ec="0015-00000101")


def no_such_key(key: str) -> OssError:
    return OssError(404, "NoSuchKey", "The specified key does not exist.", Key=key, ec="0026-00000001")


def no_such_upload(upload_id: str) -> OssError:
    return OssError(
        404,
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, "
        "or the upload may have been aborted or completed.",
        UploadId=upload_id,
    )


def malformed_xml() -> OssError:
    return OssError(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema.",
    )


def invalid_encryption_algorithm(value: str) -> OssError:
    return OssError(
        400,
        "InvalidEncryptionAlgorithmError",
        "The Encryption request you specified is not valid. Supported value: AES256/KMS/SM4",
        ArgumentName="x-oss-server-side-encryption",
        ArgumentValue=value,
    )


KMS_FORBIDDEN, KMS_FORBIDDEN_EC = "This request is forbidden by kms.", "0026-00000010"


def kms_forbidden() -> OssError:
    return OssError(403, "AccessDenied", KMS_FORBIDDEN, ec=KMS_FORBIDDEN_EC)


RAM_DENIED = "You are not authorized to do this action. You should be authorized by RAM."
# OSS's EC for a RAM refusal: an explicit Deny statement matched, or no statement allows the action.
RAM_DENIED_EC = {"ExplicitDeny": "0003-00000201", "ImplicitDeny": "0003-00000202"}


def _denial_detail(action: str, resource: str, decision: str) -> list:
    return [
        ("PolicyType", "AccountLevelIdentityBasedPolicy"),
        ("AuthPrincipalType", "SubUser"),
        ("NoPermissionType", decision),
        ("AuthAction", action),
        ("AuthResource", resource),
    ]


def _why(action: str, resource: str, decision: str) -> str:
    """The readable tail localcloud adds to OSS's wording, so the console's message names what is missing."""
    reason = "an explicit Deny statement refuses it" if decision == "ExplicitDeny" else "no statement allows it"
    return f"(RAM policy of the access key: {action} on {resource}: {reason}.)"


def ram_denied(action: str, resource: str, decision: str) -> OssError:
    """403 AccessDenied as OSS answers a caller whose RAM policy does not allow the action on the resource."""
    return OssError(
        403,
        "AccessDenied",
        f"{RAM_DENIED} {_why(action, resource, decision)}",
        ec=RAM_DENIED_EC[decision],
        AccessDeniedDetail=_denial_detail(action, resource, decision),
    )


def kms_ram_denied(action: str, resource: str, decision: str) -> OssError:
    """403 as OSS answers when the KMS call it makes for the caller (SSE-KMS) is refused by the caller's policy."""
    return OssError(
        403,
        "AccessDenied",
        f"{KMS_FORBIDDEN} {_why(action, resource, decision)}",
        ec=KMS_FORBIDDEN_EC,
        AccessDeniedDetail=_denial_detail(action, resource, decision),
    )


def access_denied(message: str = "You have no right to access this object because of bucket acl.") -> OssError:
    return OssError(403, "AccessDenied", message)


def invalid_digest() -> OssError:
    return OssError(400, "InvalidDigest", "The Content-MD5 you specified was invalid.")


def precondition_failed(condition: str) -> OssError:
    return OssError(
        412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.", Condition=condition
    )


def not_implemented(what: str) -> OssError:
    return OssError(400, "NotImplemented", f"{what} is not implemented by localcloud.")
