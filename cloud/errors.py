class ServiceError(Exception):
    """A business rule refused an operation; the message is safe to show to the user."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Conflict(ServiceError):
    """The operation clashes with the current state (409 in the API)."""

    status_code = 409


class NotFound(ServiceError):
    status_code = 404


# Codes of answers that say "too many requests, slow down": OSS's QPS and bandwidth limits (503), the S3-style
# SlowDown some OSS-compatible services send, the gateway's Throttling, KMS's quota (429 Rejected.Throttling).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "SlowDown",
        "TotalQpsLimitExceeded",
        "MetaOperationQpsLimitExceeded",
        "ActiveRequestLimitExceeded",
        "QpsLimitExceeded",
        "DownloadTrafficRateLimitExceeded",
        "UploadTrafficRateLimitExceeded",
        "Rejected.Throttling",
    }
)
# Codes of failures that may pass on their own (besides any 5xx answer): unreachable, timed out, throttled.
TRANSIENT_CODES = THROTTLING_CODES | {"RequestError", "RequestTimeout", "ServiceUnavailable", "InternalError"}


class CloudError(ServiceError):
    """OSS or KMS refused a request, or could not be reached: the cloud's own code, message and request id.

    4xx answers are the caller's to fix (400, or 404/409 when the cloud said so); 5xx and 429 answers and network
    failures are the cloud's (502), so none of them ever becomes a 500 of the console. `qos_delay_ms` is what
    OSS's x-oss-qos-delay-time header said (0: absent).
    """

    def __init__(
        self,
        service: str,
        code: str,
        message: str,
        request_id: str = "",
        http_status: int | None = None,
        qos_delay_ms: int = 0,
    ):
        self.service, self.code, self.request_id, self.http_status = service, code, request_id, http_status
        self.qos_delay_ms = qos_delay_ms
        super().__init__(f"{service.upper()} {code}: {message}" + (f" (request id {request_id})" if request_id else ""))
        self.cloud_message = message
        self.status_code = self._console_status(http_status)

    @property
    def refused_by_kms(self) -> bool:
        """A guess from the answer: KMS refused the request itself, or OSS says KMS refused it on its behalf
        (an object under a disabled key or one the connection may not use: "This request is forbidden by kms.")."""
        return self.http_status == 403 and (self.service == "kms" or "kms" in self.cloud_message.lower())

    @property
    def throttled(self) -> bool:
        """The cloud asked us to slow down (it may serve the same request a moment later)."""
        return self.http_status == 429 or self.code in THROTTLING_CODES or self.qos_delay_ms > 0

    @property
    def transient(self) -> bool:
        """Trying the same request again a little later may well succeed."""
        return self.code in TRANSIENT_CODES or self.throttled or self.http_status in (500, 502, 503, 504)

    @staticmethod
    def _console_status(http_status: int | None) -> int:
        if http_status in (404, 409):
            return http_status
        if http_status is not None and 400 <= http_status < 500 and http_status != 429:  # 429: the cloud is busy
            return 400
        return 502

    def as_dict(self) -> dict:
        return {
            "detail": self.message,
            "service": self.service,
            "code": self.code,
            "message": self.cloud_message,
            "request_id": self.request_id,
        }
