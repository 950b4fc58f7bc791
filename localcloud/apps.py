from django.apps import AppConfig


class LocalcloudConfig(AppConfig):
    """The embedded OSS- and KMS-compatible service; the console only ever reaches it over HTTP."""

    name = "localcloud"
    verbose_name = "localcloud"
