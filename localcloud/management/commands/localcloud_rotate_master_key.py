from django.core.management.base import BaseCommand

from localcloud.blobs import rotate_master_key


class Command(BaseCommand):
    help = "Add a new SSE-OSS master-key version; new objects use it, existing objects stay readable."

    def handle(self, *args, **options):
        self.stdout.write(f"SSE-OSS master key is now at version {rotate_master_key()}")
