from django.apps import AppConfig


class SigmaEmulatorConfig(AppConfig):
    name = "sigma_emulator"
    verbose_name = "Local Sigma emulator"
