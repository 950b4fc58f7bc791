from django.db import models


class RootKeyCheck(models.Model):
    """A known value sealed under CONSOLE_ROOT_KEY when the database was first migrated (console/root_keys.py): a
    process whose root key does not open it holds another key than the stored secrets are under, and refuses to
    start. One row at most."""

    ONLY = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=ONLY, editable=False)
    sealed_value = models.TextField()
    sealed_at = models.DateTimeField()
    sealed_on_host = models.CharField(max_length=255)

    def __str__(self):
        return f"root key check sealed on {self.sealed_on_host} at {self.sealed_at:%Y-%m-%d %H:%M:%S %Z}"
