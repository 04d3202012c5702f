from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The host site's demo data (``seed_demo``): never part of the wheel."""

    name = "demo"
    verbose_name = "Demo data"
