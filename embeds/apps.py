from django.apps import AppConfig


class EmbedsConfig(AppConfig):
    name = "embeds"
    verbose_name = "Sigma embeds"

    def ready(self) -> None:
        # Registers the system checks: embeds.E0xx/W0xx and the security E1xx/W1xx.
        from embeds import checks  # noqa: F401
        from embeds.issuing.snapshots import connect_invalidation

        # The app's own writes invalidate the issuing path's cache in their services;
        # these signals cover the site's users and groups (embeds.issuing.snapshots).
        connect_invalidation()
