from django.apps import AppConfig


class EncryptionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "encryption"
    verbose_name = "Encryption: keys and policies"
