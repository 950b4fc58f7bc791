"""localcloud's metadata. Object data lives in blob files (storage.py); these rows say what they mean."""

from django.db import models


class AccessKey(models.Model):
    """An access key pair accepted for OSS and KMS requests; the secret is sealed under the root key."""

    access_key_id = models.CharField(max_length=64, unique=True)
    sealed_secret = models.BinaryField()
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A RAM policy document (localcloud/ram.py) limiting what the key may do; null: the account owner, allowed all.
    policy = models.JSONField(null=True, blank=True)

    def __str__(self):
        return self.access_key_id


class ServiceMasterKey(models.Model):
    """A version of the SSE-OSS master key that wraps per-object data keys; the newest wraps, all unwrap."""

    version = models.PositiveIntegerField(unique=True)
    sealed_material = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"SSE-OSS master key v{self.version}"


class Cmk(models.Model):
    """A KMS customer master key: one region, one spec, one state; material lives in its versions."""

    class Spec(models.TextChoices):
        AES_256 = "Aliyun_AES_256"
        SM4 = "Aliyun_SM4"

    class Origin(models.TextChoices):
        KMS = "Aliyun_KMS"
        EXTERNAL = "EXTERNAL"

    class State(models.TextChoices):
        ENABLED = "Enabled"
        DISABLED = "Disabled"
        PENDING_IMPORT = "PendingImport"
        PENDING_DELETION = "PendingDeletion"

    key_id = models.CharField(max_length=64, unique=True)
    region = models.CharField(max_length=64)
    spec = models.CharField(max_length=32, choices=Spec.choices, default=Spec.AES_256)
    origin = models.CharField(max_length=32, choices=Origin.choices, default=Origin.KMS)
    state = models.CharField(max_length=32, choices=State.choices, default=State.ENABLED)
    usage = models.CharField(max_length=32, default="ENCRYPT/DECRYPT")
    description = models.CharField(max_length=8192, blank=True)
    is_service_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    delete_date = models.DateTimeField(null=True, blank=True)
    material_expire_time = models.DateTimeField(null=True, blank=True)
    automatic_rotation = models.CharField(max_length=16, default="Disabled")
    rotation_interval = models.CharField(max_length=16, blank=True)
    tags = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["region", "state"])]

    def __str__(self):
        return self.key_id


class CmkVersion(models.Model):
    """Key material of a CMK; the newest version encrypts, every version with material decrypts."""

    cmk = models.ForeignKey(Cmk, on_delete=models.CASCADE, related_name="versions")
    version_id = models.CharField(max_length=64, unique=True)
    sealed_material = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.version_id


class CmkAlias(models.Model):
    """`alias/<name>` pointing at a CMK, unique within a region."""

    region = models.CharField(max_length=64)
    name = models.CharField(max_length=270)
    cmk = models.ForeignKey(Cmk, on_delete=models.CASCADE, related_name="aliases")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="localcloud_alias_unique_in_region")]

    def __str__(self):
        return self.name


class Bucket(models.Model):
    """A bucket with its ACL, storage class and default encryption rule."""

    name = models.CharField(max_length=63, unique=True)
    region = models.CharField(max_length=64)
    storage_class = models.CharField(max_length=32, default="Standard")
    redundancy = models.CharField(max_length=8, default="LRS")
    acl = models.CharField(max_length=32, default="private")
    resource_group = models.CharField(max_length=64, default="rg-default-id")
    created_at = models.DateTimeField()
    sse_algorithm = models.CharField(max_length=8, blank=True)
    sse_kms_key_id = models.CharField(max_length=300, blank=True)
    sse_kms_data_encryption = models.CharField(max_length=8, blank=True)
    # "" for a bucket whose versioning was never set (OSS reports nothing then), else Enabled or Suspended.
    versioning = models.CharField(max_length=16, blank=True)

    def __str__(self):
        return self.name


class BucketLifecycle(models.Model):
    """A bucket's lifecycle rules as PutBucketLifecycle stored them (checked, normalised XML); kept apart from the
    Bucket row, which every request reads, since a configuration may hold a thousand rules."""

    bucket = models.OneToOneField(Bucket, on_delete=models.CASCADE, related_name="lifecycle")
    document = models.TextField()

    def __str__(self):
        return f"lifecycle of {self.bucket_id}"


class EncryptedBlob(models.Model):
    """Fields shared by stored objects and parts: where the bytes are and how they are sealed."""

    blob = models.CharField(max_length=64)
    size = models.BigIntegerField()
    etag = models.CharField(max_length=64)
    crc64 = models.CharField(max_length=20)
    # How the blob is sealed at rest: "" (plain), AES256 or SM4 frames under `sealed_data_key`.
    cipher = models.CharField(max_length=8, blank=True)
    sealed_data_key = models.BinaryField(null=True)
    base_nonce = models.BinaryField(null=True)
    # What the client asked for and OSS reports: "", AES256, SM4 or KMS (+ key id, + SM4 data encryption).
    sse_algorithm = models.CharField(max_length=8, blank=True)
    sse_kms_key_id = models.CharField(max_length=300, blank=True)
    sse_data_encryption = models.CharField(max_length=8, blank=True)

    class Meta:
        abstract = True


class ObjectAttributes(models.Model):
    """What a creating request sets besides the data: content headers, metadata, class, ACL, tags."""

    content_type = models.CharField(max_length=1024, default="application/octet-stream")
    content_headers = models.JSONField(default=dict, blank=True)
    user_meta = models.JSONField(default=dict, blank=True)
    storage_class = models.CharField(max_length=32, default="Standard")
    acl = models.CharField(max_length=32, default="default")
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True


class StoredObject(EncryptedBlob, ObjectAttributes):
    """One version of an object; `blob` names its data file. A bucket that was never versioned holds only the
    `null` version of each key; a versioned one keeps older versions and delete markers (which have no blob)."""

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="stored_objects")
    key = models.CharField(max_length=1100)
    version_id = models.CharField(max_length=64, default="null")
    # The version a request without versionId sees; a key's versions are newest first by primary key.
    is_latest = models.BooleanField(default=True)
    is_delete_marker = models.BooleanField(default=False)
    object_type = models.CharField(max_length=16, default="Normal")
    last_modified = models.DateTimeField()
    content_md5 = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "key"], condition=models.Q(is_latest=True), name="localcloud_object_latest_unique"
            ),
            models.UniqueConstraint(fields=["bucket", "key", "version_id"], name="localcloud_object_version_unique"),
        ]
        indexes = [models.Index(fields=["bucket", "key"])]

    def __str__(self):
        return self.key


class MultipartUpload(ObjectAttributes):
    """An open multipart upload; its metadata and SSE are fixed at Initiate."""

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="uploads")
    key = models.CharField(max_length=1100)
    upload_id = models.CharField(max_length=32, unique=True)
    initiated = models.DateTimeField()
    sse_algorithm = models.CharField(max_length=8, blank=True)
    sse_kms_key_id = models.CharField(max_length=300, blank=True)
    sse_data_encryption = models.CharField(max_length=8, blank=True)
    forbid_overwrite = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["bucket", "key", "upload_id"])]

    def __str__(self):
        return self.upload_id


class UploadPart(EncryptedBlob):
    """One uploaded part; re-uploading a number replaces it."""

    upload = models.ForeignKey(MultipartUpload, on_delete=models.CASCADE, related_name="parts")
    part_number = models.PositiveIntegerField()
    last_modified = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["upload", "part_number"], name="localcloud_part_unique")]

    def __str__(self):
        return f"part {self.part_number}"


class ImportToken(models.Model):
    """A GetParametersForImport answer: the RSA wrapping key an ImportKeyMaterial for `cmk` must use until
    `expires_at`. Only the public half ever leaves; the private half is sealed under the root key."""

    token = models.CharField(max_length=64, unique=True)
    cmk = models.ForeignKey(Cmk, on_delete=models.CASCADE, related_name="import_tokens")
    wrapping_algorithm = models.CharField(max_length=32)
    sealed_private_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"import token of {self.cmk_id}, expires {self.expires_at}"
