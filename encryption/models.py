from django.db import models


class Key(models.Model):
    """KMS keys live in KMS, not here: this table-less model only carries the roles' permissions on them."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_key", "Can see KMS keys"), ("manage_key", "Can create, change and import KMS keys")]

    def __str__(self):
        return "KMS key"
