from django.core.management.base import BaseCommand

from localcloud.maintenance import expire_noncurrent_versions, sweep_orphans


class Command(BaseCommand):
    help = (
        "Carry out the lifecycle rules expiring noncurrent versions, then delete blob files that no object or part "
        "references, and abandoned temp files."
    )

    def add_arguments(self, parser):
        parser.add_argument("--grace-seconds", type=float, default=3600, help="leave younger files alone")

    def handle(self, *args, grace_seconds, **options):
        self.stdout.write(f"expired {expire_noncurrent_versions()} noncurrent version(s)")
        self.stdout.write(f"removed {sweep_orphans(grace_seconds)} orphaned file(s)")
