"""Jobs (compliance scans and re-encryption runs), their listing pages, per-object outcomes, and schedules.

A job walks a bucket page by page (ListObjectsV2); each page is a checkpoint: it records where its listing
starts and, once processed, what happened to its objects. Totals are sums over pages, so no two workers ever
update the same counter row.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from buckets.models import Connection


class JobSpec(models.Model):
    """What a job does: which objects (filter), what they should become (target), and how fast (limits)."""

    SCAN, REENCRYPT, REWRAP = "scan", "reencrypt", "rewrap"
    KINDS = [(SCAN, "Compliance scan"), (REENCRYPT, "Re-encryption"), (REWRAP, "Client-side master key rotation")]

    SELECT_ALL, SELECT_UNENCRYPTED, SELECT_NOT_MATCHING, SELECT_KEY, SELECT_ALGORITHM = (
        "all",
        "unencrypted",
        "not-matching",
        "key",
        "algorithm",
    )
    SELECTIONS = [
        (SELECT_NOT_MATCHING, "Every object not matching the target"),
        (SELECT_UNENCRYPTED, "Unencrypted objects"),
        (SELECT_KEY, "Objects under a given KMS key"),
        (SELECT_ALGORITHM, "Objects under a given algorithm"),
        (SELECT_ALL, "All objects (scans)"),
    ]
    CHECK_RESPONSE, CHECK_FULL = "response", "full"
    CHECKS_AFTER_COPY = [
        (CHECK_RESPONSE, "From the copy's answer: encryption, ETag and CRC64 (2 round trips per object)"),
        (CHECK_FULL, "By a second HEAD: also size, metadata, content headers and class (3 round trips)"),
    ]
    TARGET_DEFAULT, TARGET_EXPLICIT = "bucket-default", "explicit"
    TARGET_MODES = [(TARGET_DEFAULT, "The bucket default"), (TARGET_EXPLICIT, "An explicit encryption")]

    kind = models.CharField(max_length=16, choices=KINDS, default=REENCRYPT)
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    bucket = models.CharField(max_length=63)
    prefixes = models.JSONField(default=list, blank=True, help_text="Empty: the whole bucket.")
    select = models.CharField(max_length=16, choices=SELECTIONS, default=SELECT_NOT_MATCHING)
    select_key_id = models.CharField(max_length=128, blank=True)
    select_algorithm = models.CharField(max_length=8, blank=True)
    min_size = models.BigIntegerField(null=True, blank=True)
    max_size = models.BigIntegerField(null=True, blank=True)
    target_mode = models.CharField(max_length=16, choices=TARGET_MODES, default=TARGET_DEFAULT)
    target_method = models.CharField(max_length=8, blank=True)
    target_algorithm = models.CharField(max_length=8, blank=True)
    target_key_id = models.CharField(max_length=128, blank=True)
    # Rewrap jobs: client-side encrypted objects move from one master key to another (no object data moves).
    rewrap_from = models.ForeignKey(
        "encryption.MasterKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rewrap_to = models.ForeignKey(
        "encryption.MasterKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    concurrency = models.PositiveIntegerField(default=8)
    requests_per_second = models.PositiveIntegerField(default=200, help_text="OSS requests per second, 0: no cap.")
    kms_per_second = models.PositiveIntegerField(default=100, help_text="KMS calls per second, 0: no cap.")
    verify = models.BooleanField(
        default=True, help_text="Re-encryption only: end with a compliance scan of what the job touched."
    )
    purge_history = models.BooleanField(
        default=False,
        help_text="Re-encryption of a versioned bucket: once an object's current version is as targeted, delete its "
        "older versions that are not.",
    )
    check_after_copy = models.CharField(
        max_length=8,
        choices=CHECKS_AFTER_COPY,
        default=CHECK_RESPONSE,
        help_text="How each copy is checked (design.md §7 step 4); a mismatch fails the object either way.",
    )
    # Where the completion report goes (a bucket of the same connection); blank: no report in the cloud.
    report_bucket = models.CharField(max_length=63, blank=True)
    report_prefix = models.CharField(max_length=900, blank=True)

    class Meta:
        abstract = True

    @property
    def is_reencrypt(self) -> bool:
        return self.kind == self.REENCRYPT

    @property
    def is_rewrap(self) -> bool:
        return self.kind == self.REWRAP

    @property
    def targets_bucket_default(self) -> bool:
        return self.target_mode == self.TARGET_DEFAULT


class Schedule(JobSpec):
    """A re-encryption (or scan) policy that beat runs on a crontab or an interval; each run creates a job, or a
    sweep when it targets every bucket of its connection or the buckets whose names match a pattern."""

    ONE_BUCKET, EVERY_BUCKET, BUCKET_PATTERN = "bucket", "connection", "pattern"
    SCOPES = [
        (ONE_BUCKET, "One bucket"),
        (EVERY_BUCKET, "Every bucket"),
        (BUCKET_PATTERN, "Buckets matching a pattern"),
    ]

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    scope = models.CharField(max_length=12, choices=SCOPES, default=ONE_BUCKET)
    bucket_pattern = models.CharField(max_length=63, blank=True, help_text="A glob such as logs-*.")
    crontab = models.CharField(max_length=100, blank=True, help_text="minute hour day-of-month month day-of-week")
    timezone = models.CharField(max_length=63, default=settings.TIME_ZONE, help_text="The crontab's time zone.")
    interval_minutes = models.PositiveIntegerField(null=True, blank=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The end of the period whose firing already started: beat firings before then are duplicates (two beats
    # during a lock handover, a message delivered twice) and start nothing.
    fired_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ScheduleRun(models.Model):
    """One firing of a schedule: the job it started, or why it was skipped."""

    STARTED, SKIPPED, FAILED = "started", "skipped", "failed"
    OUTCOMES = [(STARTED, "Started"), (SKIPPED, "Skipped"), (FAILED, "Failed to start")]

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=8, choices=OUTCOMES)
    job = models.ForeignKey("Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sweep = models.ForeignKey("Sweep", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.schedule} at {self.at:%Y-%m-%d %H:%M}: {self.outcome}"


class Job(JobSpec):
    PENDING, RUNNING, PAUSED, CANCELLING = "pending", "running", "paused", "cancelling"
    CANCELLED, COMPLETED, COMPLETED_WITH_ERRORS, FAILED = "cancelled", "completed", "completed-with-errors", "failed"
    STATES = [
        (PENDING, "Pending"),
        (RUNNING, "Running"),
        (PAUSED, "Paused"),
        (CANCELLING, "Cancelling"),
        (CANCELLED, "Cancelled"),
        (COMPLETED, "Completed"),
        (COMPLETED_WITH_ERRORS, "Completed with errors"),
        (FAILED, "Failed"),
    ]
    ACTIVE_STATES = (PENDING, RUNNING, PAUSED, CANCELLING)
    FINISHED_STATES = (CANCELLED, COMPLETED, COMPLETED_WITH_ERRORS, FAILED)
    COMPLETED_STATES = (COMPLETED, COMPLETED_WITH_ERRORS)  # finished with a result to read: a plan, a scan
    # How people steer a job: action -> (the states it may start from, the state it leads to).
    TRANSITIONS = {
        "pause": ((PENDING, RUNNING), PAUSED),
        "resume": ((PAUSED,), RUNNING),
        "cancel": ((PENDING, RUNNING, PAUSED), CANCELLING),
    }

    dry_run = models.BooleanField(default=False)
    state = models.CharField(max_length=24, choices=STATES, default=PENDING)
    error = models.TextField(blank=True)
    # The target as resolved when the job started (the bucket default is read once, so the job is consistent).
    resolved_method = models.CharField(max_length=8, blank=True)
    resolved_algorithm = models.CharField(max_length=8, blank=True)
    resolved_key_id = models.CharField(max_length=128, blank=True)
    resolved_label = models.CharField(max_length=200, blank=True)
    default_key_id = models.CharField(max_length=128, blank=True, help_text="The id behind alias/acs/oss, if any.")
    page_size = models.PositiveIntegerField(default=100)
    copy_threshold = models.BigIntegerField(help_text="Objects above this size go through multipart copy.")
    listing_done = models.BooleanField(default=False)
    versioned = models.BooleanField(
        default=False,
        help_text="A scan of a bucket that has had versioning: it lists every version, and counts the noncurrent "
        "ones apart (JobPage.history).",
    )
    # Counted by a listing pass ahead of the work, so progress has a total long before the last page.
    total_objects = models.BigIntegerField(default=0)
    total_bytes = models.BigIntegerField(default=0)
    total_known = models.BooleanField(default=False)
    count_error = models.CharField(
        max_length=500, blank=True, help_text="Why the counting pass stopped: the job goes on without a total."
    )
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    retry_keys = models.JSONField(default=list, blank=True, help_text="A follow-up job works on these keys only.")
    verifies = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="verifications",
        help_text="The re-encryption this scan verifies.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    running_since = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    active_seconds = models.FloatField(default=0, help_text="Time spent running before `running_since`.")
    report_error = models.TextField(blank=True, help_text="Why a part or the manifest of the report was not written.")
    report_written_at = models.DateTimeField(
        null=True, blank=True, help_text="When the report's manifest was written: from then on the report is whole."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["connection", "bucket", "kind", "state"])]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} of {self.bucket}"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    def allows(self, action: str) -> bool:
        """Whether the job's state allows the steering `action` (a key of TRANSITIONS)."""
        starts_from, _ = self.TRANSITIONS[action]
        return self.state in starts_from

    @property
    def can_pause(self) -> bool:
        return self.allows("pause")

    @property
    def can_resume(self) -> bool:
        return self.allows("resume")

    @property
    def can_cancel(self) -> bool:
        return self.allows("cancel")

    def running_seconds(self) -> float:
        """Time spent running so far, pauses excluded."""
        if self.running_since is None:
            return self.active_seconds
        return self.active_seconds + (timezone.now() - self.running_since).total_seconds()


class JobPage(models.Model):
    """One listing page of a job: where it starts (checkpoint), who works on it, and what it did."""

    PENDING, RUNNING, DONE, CANCELLED = "pending", "running", "done", "cancelled"
    STATES = [(PENDING, "Pending"), (RUNNING, "Running"), (DONE, "Done"), (CANCELLED, "Cancelled")]

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField()
    prefix_index = models.PositiveIntegerField(default=0)
    start_token = models.TextField(blank=True)
    state = models.CharField(max_length=12, choices=STATES, default=PENDING)
    lease_until = models.DateTimeField(null=True, blank=True)
    listed_objects = models.PositiveIntegerField(default=0)
    listed_bytes = models.BigIntegerField(default=0)
    # outcome -> [objects, bytes]; state label -> [objects, bytes]
    outcomes = models.JSONField(default=dict)
    states = models.JSONField(default=dict)
    requests = models.PositiveIntegerField(default=0)
    kms_calls = models.PositiveIntegerField(default=0)
    head_seconds = models.FloatField(default=0)
    data_bytes = models.BigIntegerField(default=0, help_text="Object data the console itself moved (none for copies).")
    # A versioned scan's noncurrent versions: {"states": {label: [versions, bytes]}, "outcomes": {...}}.
    history = models.JSONField(default=dict, blank=True)
    # The page's part of the completion report once written: {"key", "rows", "bytes", "sha256"} (empty: none).
    report_part = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="one_page_per_number")]
        indexes = [models.Index(fields=["job", "state"])]

    def __str__(self):
        return f"page {self.number} of job {self.job_id}"


class ObjectOutcome(models.Model):
    """What happened to one object, kept for every failure, skip and non-matching object (successes are counted)."""

    REENCRYPTED, COMPLIANT, PLANNED, FILTERED = "reencrypted", "compliant", "planned", "filtered"
    SKIPPED, FAILED, NOT_MATCHING = "skipped", "failed", "not-matching"
    KINDS = [
        (REENCRYPTED, "Re-encrypted"),
        (COMPLIANT, "Already compliant"),
        (PLANNED, "Would be re-encrypted"),
        (FILTERED, "Outside the filter"),
        (SKIPPED, "Skipped"),
        (FAILED, "Failed"),
        (NOT_MATCHING, "Not matching the target"),
    ]
    KEPT = (SKIPPED, FAILED, NOT_MATCHING)

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="outcomes")
    key = models.CharField(max_length=1024)
    size = models.BigIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=KINDS)
    state = models.CharField(max_length=200, blank=True, help_text="The encryption the object had.")
    reason = models.TextField(blank=True)
    code = models.CharField(max_length=100, blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "outcome"])]
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="one_outcome_per_object")]

    def __str__(self):
        return f"{self.key}: {self.outcome}"


class Sweep(models.Model):
    """One job spec (a scan, usually) over many buckets: a job per bucket, started a few at a time.

    The spec is kept as jobs.services.jobs.Spec fields; each bucket's job is created through the job service
    when its turn comes, so every job is checked, audited and limited like one started by hand.
    """

    kind = models.CharField(max_length=16, choices=JobSpec.KINDS, default=JobSpec.SCAN)
    spec = models.JSONField(default=dict)
    max_running = models.PositiveIntegerField(default=4, help_text="Jobs of this sweep active at once.")
    description = models.CharField(max_length=200, blank=True, help_text="Which buckets, as asked.")
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="sweeps")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Sweep #{self.pk}"


class SweepItem(models.Model):
    """One bucket of a sweep: waiting for its turn, its job, or why its job could not start."""

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="items")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    bucket = models.CharField(max_length=63)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When its turn came: its job was started.")
    job = models.OneToOneField(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="sweep_item")
    error = models.TextField(blank=True, help_text="Why its job could not start.")

    class Meta:
        ordering = ["sweep", "connection__name", "bucket"]
        constraints = [
            models.UniqueConstraint(fields=["sweep", "connection", "bucket"], name="one_item_per_bucket_and_sweep")
        ]

    def __str__(self):
        return f"{self.bucket} in sweep {self.sweep_id}"

    @property
    def waiting(self) -> bool:
        return self.claimed_at is None
