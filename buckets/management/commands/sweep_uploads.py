from django.core.management.base import BaseCommand

from buckets.services.upload_sweep import sweep_uploads


class Command(BaseCommand):
    help = (
        "Delete staged client-side encryption uploads that no task will upload: finished, lost "
        "(unfinished after CSE_UPLOAD_MAX_AGE_SECONDS) or without a transfer. Beat runs the same sweep hourly."
    )

    def handle(self, *args, **options):
        outcome = sweep_uploads()
        self.stdout.write(
            f"removed {outcome.removed_files} staged file(s); {len(outcome.lost_transfers)} lost transfer(s) failed"
        )
