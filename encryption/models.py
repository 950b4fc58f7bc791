from django.conf import settings
from django.db import models


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
