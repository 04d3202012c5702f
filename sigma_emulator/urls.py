"""URLconf of the emulator origin (only ever used by ``EmulatorHandler``)."""

from django.urls import re_path

from . import views

app_name = "sigma_emulator"

urlpatterns = [
    # Every path goes to one view: it answers Sigma content paths and gives
    # anything else Sigma's ENOENT page, never Django's or the host's 404.
    re_path(r"^.*$", views.content, name="content"),
]
