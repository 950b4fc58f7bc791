from django.conf import settings
from django.db import models

from console import secrets


class Key(models.Model):
    """KMS keys live in KMS, not here: this table-less model only carries the roles' permissions on them."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_key", "Can see KMS keys"), ("manage_key", "Can create, change and import KMS keys")]

    def __str__(self):
        return "KMS key"


class MasterKey(models.Model):
    """A master key for client-side encryption (oss2 CryptoBucket): an RSA key pair kept by the console, or a KMS
    customer master key. The RSA private key is sealed at rest (console.secrets) and never leaves the server."""

    RSA, KMS = "rsa", "kms"
    KIND_CHOICES = [(RSA, "RSA key pair"), (KMS, "KMS key")]
    SEAL_PURPOSE = "CSE private key"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=8, choices=KIND_CHOICES)
    description = models.CharField(max_length=500, blank=True)
    matdesc = models.JSONField(default=dict, blank=True, help_text="Material description written into objects.")
    # The sealing context of the private key: random, so a sealed key copied into another row does not open.
    seal_id = models.CharField(max_length=32, blank=True, editable=False)
    public_key_pem = models.TextField(blank=True)
    sealed_private_key = models.TextField(blank=True, editable=False)
    bits = models.PositiveIntegerField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the public key (DER), hex.")
    connection = models.ForeignKey(
        "buckets.Connection", on_delete=models.PROTECT, null=True, blank=True, related_name="cse_master_keys"
    )
    region = models.CharField(max_length=64, blank=True)
    cmk_id = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        default_permissions = ("add", "delete", "view")

    def __str__(self):
        return self.name

    def __repr__(self):
        return f"<MasterKey {self.name} ({self.kind})>"

    def seal_context(self) -> str:
        return f"cse-master-key:{self.seal_id}"


secrets.register_sealed_field(MasterKey, "sealed_private_key", MasterKey.SEAL_PURPOSE, MasterKey.seal_context)


class CseTransfer(models.Model):
    """A large client-side encrypted upload, sent as a multipart upload of its object: the web process that
    received the file encrypts and sends every part (recorded here as each completes), and a Celery worker on any
    host joins them with Complete. Nothing of it is on a disk another process must read
    (buckets/services/cse_transfer.py)."""

    SENDING, QUEUED, RUNNING, DONE, FAILED = "sending", "queued", "running", "done", "failed"
    STATE_CHOICES = [
        (SENDING, "Sending parts"),
        (QUEUED, "Queued"),
        (RUNNING, "Completing"),
        (DONE, "Done"),
        (FAILED, "Failed"),
    ]
    FINISHED_STATES = (DONE, FAILED)

    bucket = models.ForeignKey("buckets.Bucket", on_delete=models.SET_NULL, null=True, related_name="+")
    bucket_name = models.CharField(max_length=63)
    key = models.CharField(max_length=1024)
    master_key = models.ForeignKey(MasterKey, on_delete=models.SET_NULL, null=True, related_name="+")
    size = models.BigIntegerField()
    bytes_done = models.BigIntegerField(default=0)
    state = models.CharField(max_length=8, choices=STATE_CHOICES, default=SENDING)
    error = models.TextField(blank=True)
    # The upload's other choices: sse (as_dict or None), content_type, metadata, overwrite.
    options = models.JSONField(default=dict, blank=True)
    # The multipart upload in the cloud ("" until Initiate answered), its part size, and the parts sent so far as
    # [number, ETag] pairs: what Complete (or an abort) needs, from any host.
    upload_id = models.CharField(max_length=128, blank=True, editable=False)
    part_size = models.BigIntegerField(default=0, editable=False)
    parts = models.JSONField(default=list, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ()

    def __str__(self):
        return f"{self.bucket_name}/{self.key}"

    @property
    def finished(self) -> bool:
        return self.state in self.FINISHED_STATES

    @property
    def part_count(self) -> int:
        """How many parts the whole file makes (0 before the part size is chosen)."""
        return -(-self.size // self.part_size) if self.part_size else 0

    @property
    def percent(self) -> float:
        return 100.0 if self.state == self.DONE or not self.size else min(100.0, 100.0 * self.bytes_done / self.size)
