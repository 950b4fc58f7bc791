import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from localcloud.accesskeys import create_access_key, deactivate_access_key, set_policy
from localcloud.ram import PolicyError


class Command(BaseCommand):
    help = "Create or deactivate access keys that localcloud accepts, or limit one with a RAM policy."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a key pair; the secret is printed once")
        create.add_argument("--description", default="")
        deactivate = actions.add_parser("deactivate", help="stop accepting a key")
        deactivate.add_argument("access_key_id")
        policy = actions.add_parser("policy", help="limit a key to a RAM policy document, or lift the limit")
        policy.add_argument("access_key_id")
        chosen = policy.add_mutually_exclusive_group(required=True)
        chosen.add_argument("--file", type=Path, help="a JSON policy document (- reads standard input)")
        chosen.add_argument("--clear", action="store_true", help="the key may do everything again")

    def handle(self, *args, action, **options):
        if action == "create":
            access_key_id, secret = create_access_key(options["description"])
            self.stdout.write(f"AccessKeyId: {access_key_id}\nAccessKeySecret: {secret}")
        elif action == "policy":
            self._set_policy(options["access_key_id"], options["file"], options["clear"])
        elif not deactivate_access_key(options["access_key_id"]):
            raise CommandError(f"No access key {options['access_key_id']!r}.")

    def _set_policy(self, access_key_id: str, path: Path | None, clear: bool) -> None:
        document = None if clear else self._read(path)
        try:
            found = set_policy(access_key_id, document)
        except PolicyError as error:
            raise CommandError(str(error)) from None
        if not found:
            raise CommandError(f"No access key {access_key_id!r}.")
        self.stdout.write(f"{access_key_id}: {'no policy, allowed everything' if clear else 'policy set'}.")

    def _read(self, path: Path) -> str:
        if str(path) == "-":
            return sys.stdin.read()
        try:
            return path.read_text()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
