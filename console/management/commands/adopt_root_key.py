from django.core.management.base import BaseCommand, CommandError

from console import root_keys


class Command(BaseCommand):
    help = (
        "Only when the key the stored secrets were sealed under is lost: make CONSOLE_ROOT_KEY the stored secrets' "
        "key, so that processes holding it start again. Secrets sealed under the lost key stay unreadable until "
        'entered again. docs/operations.md, "A lost root key".'
    )
    # It exists to run where the start check refuses the root key (console.E002).
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--secrets-are-lost",
            action="store_true",
            help="confirm that the old key is gone and the secrets sealed under it are to be entered again",
        )

    def handle(self, *args, secrets_are_lost=False, **options):
        if not secrets_are_lost:
            raise CommandError(
                "This gives up every stored secret the current CONSOLE_ROOT_KEY does not open. If the old key can "
                "still be found, give it to this host instead. Otherwise run again with --secrets-are-lost."
            )
        unreadable = root_keys.adopt_root_key()
        for label, count in unreadable.items():
            self.stdout.write(f"{label}: {count} unreadable, to be entered again")
        self.stdout.write(
            "CONSOLE_ROOT_KEY is now the stored secrets' key (audited as rootkey.adopt): give every host this key. "
            "Connections ask for their secret again; RSA master keys under the lost key cannot be used any more."
        )
