from urllib.parse import urlsplit

from django.db import models

from cloud import sse
from console import secrets

_SECRET = "access-key-secret"
_STS_TOKEN = "sts-token"


class Connection(models.Model):
    """An OSS endpoint and region with the AccessKey pair the console uses there; secrets are sealed at rest."""

    name = models.CharField(max_length=100, unique=True)
    oss_endpoint = models.URLField(max_length=255, help_text="e.g. https://oss-cn-hangzhou.aliyuncs.com")
    region = models.CharField(max_length=64, help_text="e.g. cn-hangzhou")
    access_key_id = models.CharField(max_length=128)
    sealed_secret = models.TextField(editable=False)
    sealed_sts_token = models.TextField(blank=True, editable=False)
    kms_endpoint = models.URLField(max_length=255, blank=True, help_text="Blank: derived from the OSS endpoint.")
    is_demo = models.BooleanField(default=False, editable=False)
    # The last test (on save or with the Test button): when, whether every check passed, and each check as
    # buckets.services.connections.CheckResult.as_dict() gives it (advice, never the cloud's raw message).
    last_tested_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_ok = models.BooleanField(null=True, editable=False)
    last_test_checks = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("view_secret", "Can see and use connection secrets")]

    def __str__(self):
        return self.name

    def _context(self) -> str:
        # Bound to the key id, not the row id, so a secret can be sealed before the row exists.
        return f"connection:{self.access_key_id}"

    @property
    def access_key_secret(self) -> str:
        return secrets.unseal(_SECRET, self.sealed_secret, self._context())

    @property
    def sts_token(self) -> str:
        return secrets.unseal(_STS_TOKEN, self.sealed_sts_token, self._context()) if self.sealed_sts_token else ""

    def set_credentials(self, access_key_id: str, secret: str, sts_token: str = "") -> None:
        self.access_key_id = access_key_id
        self.sealed_secret = secrets.seal(_SECRET, secret, self._context())
        self.sealed_sts_token = secrets.seal(_STS_TOKEN, sts_token, self._context()) if sts_token else ""

    @property
    def last_test_failure(self) -> dict | None:
        """The first check the last test failed, with its code and advice; None when it passed or never ran."""
        return next((check for check in self.last_test_checks if not check.get("ok")), None)

    @property
    def effective_kms_endpoint(self) -> str:
        """The KMS endpoint: as configured, else `kms.<region>.aliyuncs.com` for Alibaba Cloud, else the OSS host."""
        if self.kms_endpoint:
            return self.kms_endpoint
        parts = urlsplit(self.oss_endpoint)
        if parts.hostname and parts.hostname.endswith(".aliyuncs.com"):
            return f"https://kms.{self.region}.aliyuncs.com"
        return f"{parts.scheme}://{parts.netloc}"


secrets.register_sealed_field(Connection, "sealed_secret", _SECRET, Connection._context)
secrets.register_sealed_field(Connection, "sealed_sts_token", _STS_TOKEN, Connection._context)


class Bucket(models.Model):
    """What the console last saw of a bucket: refreshed from ListBuckets/GetBucketInfo and after each change."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="buckets")
    name = models.CharField(max_length=63)
    region = models.CharField(max_length=64, blank=True)
    location = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(null=True, blank=True)
    storage_class = models.CharField(max_length=32, blank=True)
    sse_method = models.CharField(max_length=8, choices=sse.METHOD_CHOICES, default=sse.NONE)
    sse_algorithm = models.CharField(max_length=8, blank=True, help_text="AES256 or SM4")
    sse_key_id = models.CharField(max_length=128, blank=True, help_text="Blank under KMS: the default key.")
    sse_label = models.CharField(max_length=200, blank=True, help_text="As the list shows it.")
    encryption_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the console last saw the default encryption change."
    )
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["connection__name", "name"]
        constraints = [models.UniqueConstraint(fields=["connection", "name"], name="unique_bucket_per_connection")]
        permissions = [
            ("change_encryption", "Can change bucket default encryption"),
            ("upload_object", "Can upload objects"),
            ("change_object", "Can change an object's encryption"),
            ("change_lifecycle", "Can change bucket lifecycle rules"),
        ]

    def __str__(self):
        return f"{self.connection.name}/{self.name}"
