"""KMS errors as the POP gateway returns them: a 4xx status and {RequestId, HostId, Code, Message, Recommend},
which alibabacloud-tea-openapi raises as ClientException(code=Code). Codes follow Alibaba Cloud KMS's
published list (common error codes of KMS 2016-01-20 and the key-state table, help doc 44211):

| status | code | when |
|---|---|---|
| 400 | MissingParameter | a required parameter is absent or empty |
| 400 | InvalidParameter | a parameter is malformed or out of range; reserved `alias/acs/` names |
| 400 | InvalidVersion | x-acs-version (or Version) is not 2016-01-20 |
| 404 | InvalidAction.NotFound | an action localcloud does not serve |
| 403 | UnsupportedHTTPMethod | neither GET nor POST |
| 400 | InvalidRegionId | an ACS4 signing region that is not one of localcloud's regions |
| 400 | SignatureNonceUsed / MissingSignatureNonce | a replayed or absent signature nonce |
| 400 | InvalidSecurityToken.Malformed | an STS token: localcloud issues none |
| 4xx | (auth codes) | as localcloud.auth raises them: IncompleteSignature, SignatureDoesNotMatch, ... |
| 404 | InvalidAccessKeyId.NotFound | unknown access key |
| 404 | Forbidden.KeyNotFound | unknown key id or ARN, a key of another region, a deleted key |
| 404 | Forbidden.AliasNotFound | unknown alias in this region |
| 403 | Forbidden.NoPermission | changing a service key (`alias/acs/oss`) |
| 400 | AliasAlreadyExists | CreateAlias with a name taken in this region |
| 409 | Rejected.Enabled / Disabled / PendingDeletion / PendingImport | the key's state forbids the action |
| 409 | Rejected.StateModifiedFailed | Enable/DisableKey or ScheduleKeyDeletion from a state that cannot move |
| 400 | Unsupported.Origin | BYOK actions on an Aliyun_KMS key; rotation of an EXTERNAL key |
| 400 | InvalidImportToken / ExpiredImportToken | a token of another key or unknown; past its 24 h |
| 400 | InvalidKeyMaterial | wrapped material that does not unwrap, has the wrong length or differs from before |
| 400 | Rejected.InvalidCiphertext | a ciphertext blob that is not ours, truncated, tampered or under another context |
| 400 | DryRunOperationError | DryRun=true on a request that would have succeeded |
| 503 | ServiceUnavailableTemporary | the replay cache (Redis) is unreachable |
| 500 | InternalFailure | a bug; logged with the request id, never with parameters |
"""

_RECOMMEND = "https://api.aliyun.com/troubleshoot?q={code}&product=Kms"


class KmsError(Exception):
    """Raised anywhere in a KMS request; api.py renders it. Messages never carry key material or plaintext."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message

    def body(self, request_id: str, host: str) -> dict:
        recommend = _RECOMMEND.format(code=self.code)
        return {"RequestId": request_id, "HostId": host, "Code": self.code, "Message": self.message,
                "Recommend": recommend}  # fmt: skip


def missing(name: str) -> KmsError:
    return KmsError(400, "MissingParameter", f'The parameter "{name}" is needed but not provided.')


def invalid(name: str, why: str = "") -> KmsError:
    message = f'The specified parameter "{name}" is not valid.'
    return KmsError(400, "InvalidParameter", f"{message} {why}" if why else message)


def key_not_found(reference: str) -> KmsError:
    return KmsError(404, "Forbidden.KeyNotFound", f"The specified Key is not found: {reference[:300]}")


def alias_not_found(name: str) -> KmsError:
    return KmsError(404, "Forbidden.AliasNotFound", f"The specified Alias is not found: {name[:300]}")


def rejected(state: str) -> KmsError:
    return KmsError(409, f"Rejected.{state}", f"The request was rejected because the key state is {state}.")


def state_modified_failed(state: str) -> KmsError:
    return KmsError(409, "Rejected.StateModifiedFailed", f"Keystate modified failed: the key is {state}.")


def unsupported_origin(origin: str) -> KmsError:
    return KmsError(400, "Unsupported.Origin", f"This key origin ({origin}) is not valid for this api.")


def no_permission(why: str) -> KmsError:
    return KmsError(403, "Forbidden.NoPermission", f"This operation is forbidden by permission system: {why}")


def invalid_ciphertext(why: str) -> KmsError:
    return KmsError(400, "Rejected.InvalidCiphertext", why)


def invalid_key_material(why: str) -> KmsError:
    return KmsError(400, "InvalidKeyMaterial", f"key material is invalid: {why}")


def dry_run() -> KmsError:
    return KmsError(400, "DryRunOperationError", "Request validation has been passed with DryRun flag set.")
