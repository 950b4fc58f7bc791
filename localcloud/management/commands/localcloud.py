from django.conf import settings
from django.core.management.base import BaseCommand

from localcloud.maintenance import sweep_orphans
from localcloud.server import make_server


class Command(BaseCommand):
    help = "Serve localcloud, the embedded OSS-compatible service, until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.LOCALCLOUD_HOST)
        parser.add_argument("--port", type=int, default=settings.LOCALCLOUD_PORT)
        parser.add_argument("--threads", type=int, default=settings.LOCALCLOUD_THREADS)

    def handle(self, *args, host, port, threads, **options):
        settings.LOCALCLOUD_DATA_DIR.mkdir(parents=True, exist_ok=True)
        # Files left by a crash between a blob's rename and its row's commit.
        self.stdout.write(f"removed {sweep_orphans()} orphaned file(s) older than an hour")
        server = make_server(host, port, threads)
        self.stdout.write(f"localcloud on http://{host}:{port} (region {settings.LOCALCLOUD_REGION}), "
                          f"data in {settings.LOCALCLOUD_DATA_DIR}")  # fmt: skip
        self.stdout.flush()
        try:
            server.safe_start()
        finally:
            server.stop()
