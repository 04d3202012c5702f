#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def configuration_error(error: Exception) -> str:
    """One or two lines for a settings error, instead of Django's long traceback.

    The settings' own message names the variable and how to make a value. When the
    mode is unset and a development .env lies beside this file, the likely fix is
    the mode, not a new key: say that first.
    """
    lines = []
    if "HOSTSITE_ENV" not in os.environ and (Path(__file__).resolve().parent / ".env").exists():
        lines.append(
            "HOSTSITE_ENV is not set, so .env is not read (production mode). On a "
            "developer's machine run: HOSTSITE_ENV=development .venv/bin/python manage.py ..."
        )
    lines.append(f"Configuration error: {error}")
    return "\n".join(lines) + "\n"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostsite.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - imports the settings module
    except ImproperlyConfigured as error:
        sys.stderr.write(configuration_error(error))
        sys.exit(1)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
