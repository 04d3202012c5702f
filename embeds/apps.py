from django.apps import AppConfig


class EmbedsConfig(AppConfig):
    name = "embeds"
    verbose_name = "Sigma embeds"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
