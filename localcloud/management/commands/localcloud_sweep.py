from django.core.management.base import BaseCommand

from localcloud.maintenance import sweep_orphans


class Command(BaseCommand):
    help = "Delete blob files that no object or part references, and abandoned temp files."

    def add_arguments(self, parser):
        parser.add_argument("--grace-seconds", type=float, default=3600, help="leave younger files alone")

    def handle(self, *args, grace_seconds, **options):
        self.stdout.write(f"removed {sweep_orphans(grace_seconds)} orphaned file(s)")
