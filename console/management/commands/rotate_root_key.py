from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cloud.errors import ServiceError
from console import root_keys


class Command(BaseCommand):
    help = (
        "Re-seal every stored secret under a new root key, given by --new-key-file or CONSOLE_NEW_ROOT_KEY (with "
        "neither, under CONSOLE_ROOT_KEY, finishing a switch-over from CONSOLE_PREVIOUS_ROOT_KEY). Run it with the "
        "current key as CONSOLE_ROOT_KEY; an interrupted run finishes when run again. docs/operations.md, "
        '"Rotating the root key".'
    )

    def add_arguments(self, parser):
        parser.add_argument("--new-key-file", metavar="PATH", help="a file holding the new key (base64 of 32 bytes)")

    def handle(self, *args, new_key_file=None, **options):
        try:
            new_key = root_keys.new_root_key(new_key_file)
            rotation = root_keys.rotate_root_key(new_key=new_key)
        except ServiceError as error:
            raise CommandError(error.message) from None
        for outcome, counts in rotation.as_dict().items():
            for label, count in counts.items():
                self.stdout.write(f"{label}: {count} {outcome.replace('_', ' ')}")
        for row in rotation.unreadable_rows():
            self.stderr.write(f"{row} opens under no known key: it was lost before this rotation; enter it again.")
        self.stdout.write("The check value is sealed under the new key; the rotation is audited (rootkey.rotate).")
        if new_key == settings.CONSOLE_ROOT_KEY:
            self.stdout.write("Next: remove CONSOLE_PREVIOUS_ROOT_KEY on every host and restart its processes.")
        else:
            self.stdout.write(
                "Next: set CONSOLE_ROOT_KEY to the new key on every host and restart its processes (web, workers, "
                "beat); until a host restarts, the secrets it reads do not open. Keep a backup of the new key."
            )
