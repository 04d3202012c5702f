"""URLconf of the emulator origin (only ever used by ``EmulatorHandler``).

The REST API under ``/v2/``, the organization's admin pages under
``/{org}/admin/``, and every other path to the content view, which answers Sigma
content paths and gives anything else Sigma's ENOENT page, never Django's or the
host's 404.
"""

from django.urls import path, re_path

from . import admin_views, api, views

app_name = "sigma_emulator"

ORG = "<slug:org>"

urlpatterns = [
    *(path(route, view, name=name) for route, name, view in api.route_patterns()),
    re_path(r"^v2/(?P<path>.*)$", api.not_found, name="api-not-found"),
    path(f"{ORG}/admin/", admin_views.administration, name="administration"),
    path(f"{ORG}/admin/developer-access", admin_views.developer_access, name="developer-access"),
    path(
        f"{ORG}/admin/developer-access/<str:client_id>/revoke",
        admin_views.credential_revoke,
        name="credential-revoke",
    ),
    path(f"{ORG}/admin/teams/<str:team_id>/rename", admin_views.team_rename, name="team-rename"),
    re_path(r"^.*$", views.content, name="content"),
]
