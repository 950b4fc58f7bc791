import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from audit.channel import COMMAND, entered_through
from cloud.errors import ServiceError
from console import demo


class Command(BaseCommand):
    help = (
        "Prepare a console to run: migrate, collect static files, create the admin account and the demo connection "
        "to localcloud with its demo data. Idempotent."
    )

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write("database migrated, static files collected")
        self._ensure_admin()
        self._ensure_demo()

    def _ensure_admin(self):
        username = settings.CONSOLE_ADMIN_USER
        password = os.environ.get("CONSOLE_ADMIN_PASSWORD") or None
        try:
            created = services.ensure_admin(username=username, password=password)
        except ServiceError as error:
            raise CommandError(f"CONSOLE_ADMIN_USER or CONSOLE_ADMIN_PASSWORD refused: {error.message}") from None
        password_file = settings.VAR_DIR / "admin-password"
        if created and created.generated_password:
            descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(created.generated_password + "\n")
            self.stdout.write(f"admin account {username!r} created; its password is in {password_file}")
        elif created:
            self.stdout.write(f"admin account {username!r} created with CONSOLE_ADMIN_PASSWORD")
        elif password:
            self.stdout.write(f"admin account {username!r} exists; password set from CONSOLE_ADMIN_PASSWORD")
        else:
            self.stdout.write(f"admin account {username!r} exists")

    def _ensure_demo(self):
        # The demo is a convenience: whatever goes wrong there, the console itself must still start.
        try:
            with entered_through(COMMAND):
                demo.ensure_demo_connection(say=self.stdout.write)
        except ServiceError as error:
            self.stderr.write(f"demo data not created: {error.message}; the next bootstrap tries again")
        except Exception as error:  # noqa: BLE001 - reported, and `make up` goes on to start the console
            self.stderr.write(
                f"demo data not created ({type(error).__name__}: {error}); the next bootstrap tries again"
            )
