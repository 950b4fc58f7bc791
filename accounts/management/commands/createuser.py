from django.core.management.base import BaseCommand, CommandError

from accounts import services
from cloud.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Create a console user with a role; prints a generated password when none is given, which the user must "
        "change at their first sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
        parser.add_argument(
            "--password", help="the password; generated and printed once when omitted (then changed at first sign-in)"
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--print-token", action="store_true", help="print an API token for the new user")

    def handle(self, *args, username, role, password, email, print_token, **options):
        try:
            created = services.create_user(actor=None, username=username, role=role, password=password, email=email)
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"created {role} {created.user.username!r}")
        if created.generated_password:
            self.stdout.write(f"password: {created.generated_password}")
        if print_token:
            issued = services.issue_api_token(actor=None, user=created.user, label="createuser --print-token")
            self.stdout.write(f"token: {issued.key}")
