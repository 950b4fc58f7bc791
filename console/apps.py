from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


def use_write_ahead_log(sender, connection, **kwargs):
    """SQLite in WAL mode: readers (localcloud's HEADs, progress pages) no longer wait behind a writer."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")


def seal_root_key_check(sender, **kwargs):
    from console import root_keys

    root_keys.seal_check_value()


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Console"

    def ready(self):
        from console import checks  # noqa: F401 - registers the start checks

        connection_created.connect(use_write_ahead_log, dispatch_uid="console-sqlite-wal")
        # The first migrate seals the root key's check value; later ones find it there.
        post_migrate.connect(seal_root_key_check, sender=self, dispatch_uid="console-root-key-check")
