from django.conf import settings
from django.db import models
from django.utils import timezone


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


class ApiToken(models.Model):
    """An API token as its digest: the token itself is shown once when issued and stored nowhere.

    SHA-256 is enough here, where passwords would need a slow hash: a token is 256 random bits, so no guessing
    from a stolen digest can succeed however fast each guess is, and a fast hash lets every API request find its
    token with one indexed lookup.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=8, help_text="The token's first characters, to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token, hex.")
    label = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField()
    expires = models.DateTimeField()
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.prefix}… of {self.user}"

    @property
    def is_expired(self) -> bool:
        return self.expires <= timezone.now()


class PasswordChangeDue(models.Model):
    """The user's password was generated (at creation or by an Admin's reset) and shown to whoever made it: until
    the user chooses their own, every page leads to the password change and the API refuses their session.

    A row rather than a column on the user: Django's user model stays the stock one, and only the few users
    with a generated password have a row."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="password_change_due"
    )
    since = models.DateTimeField()

    class Meta:
        verbose_name = "password change due"
        verbose_name_plural = "password changes due"

    def __str__(self):
        return f"{self.user} since {self.since:%Y-%m-%d %H:%M}"
