from django.core.management.base import BaseCommand, CommandError

from localcloud.accesskeys import create_access_key, deactivate_access_key


class Command(BaseCommand):
    help = "Create or deactivate access keys that localcloud accepts."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a key pair; the secret is printed once")
        create.add_argument("--description", default="")
        deactivate = actions.add_parser("deactivate", help="stop accepting a key")
        deactivate.add_argument("access_key_id")

    def handle(self, *args, action, **options):
        if action == "create":
            access_key_id, secret = create_access_key(options["description"])
            self.stdout.write(f"AccessKeyId: {access_key_id}\nAccessKeySecret: {secret}")
        elif not deactivate_access_key(options["access_key_id"]):
            raise CommandError(f"No access key {options['access_key_id']!r}.")
