"""WSGI application that serves the emulator on its own origin.

Same project, same settings, different URLconf: the host's URLs are unreachable
here, and the emulator's are unreachable from the host's handler.
"""

from __future__ import annotations

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponseBase

URLCONF = "sigma_emulator.urls"


class EmulatorHandler(WSGIHandler):
    """A WSGIHandler that resolves every request against ``sigma_emulator.urls``."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        # BaseHandler honours request.urlconf for resolving, reverse() and
        # CommonMiddleware's APPEND_SLASH check alike.
        request.urlconf = URLCONF
        return super().get_response(request)


def get_emulator_application() -> StaticFilesHandler:
    """The emulator handler, serving ``STATIC_URL`` from the staticfiles finders.

    The emulator is a development tool (it refuses to start unless
    SIGMA_EMULATOR_ENABLED), so static files are always served from the app
    directories, with or without DEBUG: WhiteNoise alone would serve them only after
    ``collectstatic`` when DEBUG is off, and emulator.js is what posts the events.
    """
    return StaticFilesHandler(EmulatorHandler())
