import json

from django.conf import settings
from django.db import models

from audit import channel, descriptions


class AppendOnly(Exception):
    """Audit events are written once and never changed or deleted by the console."""


class AuditEvent(models.Model):
    """One change, written once. No page or endpoint edits or deletes events; the model refuses it too.

    Users and connections may be deleted later: their names stay on the event (SET_NULL keeps the row).
    """

    SUCCESS, FAILURE = "success", "failure"
    OUTCOMES = [(SUCCESS, "Success"), (FAILURE, "Failure")]

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150, blank=True, help_text="Kept when the user is gone.")
    channel = models.CharField(max_length=10, choices=channel.CHOICES)
    action = models.CharField(max_length=64, db_index=True)
    connection = models.ForeignKey("buckets.Connection", null=True, blank=True, on_delete=models.SET_NULL)
    connection_name = models.CharField(max_length=100, blank=True)
    bucket = models.CharField(max_length=63, blank=True, db_index=True)
    object_key = models.CharField(max_length=1024, blank=True)
    target = models.CharField(max_length=255, blank=True, help_text="What else was changed: a user, a key, a job.")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True, help_text="The OSS/KMS request id of the change.")
    outcome = models.CharField(max_length=10, choices=OUTCOMES, default=SUCCESS)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name or '-'} {self.action} {self.outcome}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit events cannot be deleted")

    @property
    def action_label(self) -> str:
        return descriptions.action_label(self.action)

    @property
    def change(self) -> str:
        """The change in one line (audit.descriptions)."""
        return descriptions.change_line(self)

    @property
    def before_text(self) -> str:
        return _as_text(self.before)

    @property
    def after_text(self) -> str:
        return _as_text(self.after)


def _as_text(value) -> str:
    return "—" if value is None else json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False)
