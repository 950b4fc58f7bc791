from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import sync_role_groups

    sync_role_groups(Group, Permission)


class AccountsConfig(AppConfig):
    """Users and roles."""

    name = "accounts"
    verbose_name = "Users and roles"

    def ready(self):
        # post_migrate is sent per app after that app's permissions exist, so the last one leaves every
        # role group holding the permissions of all apps, including those added by later migrations.
        post_migrate.connect(_sync_roles, dispatch_uid="accounts.sync_roles")
