from django.core.management.base import BaseCommand

from buckets.services.upload_sweep import sweep_uploads


class Command(BaseCommand):
    help = (
        "Give up client-side encrypted uploads unfinished after CSE_UPLOAD_MAX_AGE_SECONDS and abort the multipart "
        "uploads of failed ones, so no part stays in the cloud. Beat runs the same sweep hourly."
    )

    def handle(self, *args, **options):
        outcome = sweep_uploads()
        self.stdout.write(
            f"{len(outcome.lost_transfers)} lost transfer(s) failed; {outcome.aborted_uploads} multipart upload(s) "
            f"aborted; {outcome.removed_files} leftover file(s) of var/uploads removed"
        )
