from django.core.management.base import BaseCommand

from localcloud.kms.lifecycle import sweep


class Command(BaseCommand):
    help = (
        "Delete KMS keys past their deletion date, shred imported material past its expiry, rotate keys "
        "whose automatic rotation is due and drop expired import tokens. Safe to run at any time, e.g. from cron."
    )

    def handle(self, *args, **options):
        result = sweep()
        self.stdout.write(
            f"deleted keys: {result.deleted_keys}, expired materials: {result.expired_materials}, "
            f"rotated keys: {result.rotated_keys}, expired import tokens: {result.expired_tokens}"
        )
