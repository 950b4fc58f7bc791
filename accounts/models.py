from django.db import models


class SignInFailures(models.Model):
    """Failed sign-ins of one account name or one client address within the current window, and the lockout they
    led to. Names nobody holds are counted too, so a lockout tells nothing about which names exist."""

    ACCOUNT = "account"
    CLIENT = "client"
    KINDS = [(ACCOUNT, "account"), (CLIENT, "client address")]

    kind = models.CharField(max_length=7, choices=KINDS)
    key = models.CharField(max_length=150, help_text="The username as typed (case-folded) or the client's address.")
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="one_failure_count_per_account_or_client")]
        verbose_name_plural = "sign-in failures"

    def __str__(self):
        return f"{self.kind} {self.key}: {self.failures}"
