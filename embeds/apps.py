from django.apps import AppConfig


class EmbedsConfig(AppConfig):
    name = "embeds"
    verbose_name = "Sigma embeds"

    def ready(self) -> None:
        # Registers the system checks: embeds.E0xx/W0xx and the security E1xx/W1xx.
        from embeds import checks  # noqa: F401
        from embeds.issuing.snapshots import connect_invalidation

        # Every write that can change what the issuing path caches moves the
        # cache generation forward (embeds.issuing.snapshots, docs/architecture.md).
        connect_invalidation()
