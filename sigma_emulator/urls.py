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
    path("v2/auth/token", api.auth_token, name="api-token"),
    path("v2/teams", api.teams, name="api-teams"),
    path("v2/teams/<str:team_id>", api.team_detail, name="api-team"),
    path("v2/teams/<str:team_id>/members", api.team_members, name="api-team-members"),
    path("v2/accountTypes", api.account_types, name="api-account-types"),
    path("v2/user-attributes", api.user_attributes, name="api-user-attributes"),
    path("v2/members", api.members, name="api-members"),
    path("v2/members/<str:member_id>", api.member_detail, name="api-member"),
    path("v2/members/<str:member_id>/teams", api.member_teams, name="api-member-teams"),
    path("v2/workbooks", api.workbooks, name="api-workbooks"),
    path("v2/workbooks/<str:workbook_id>", api.workbook_detail, name="api-workbook"),
    path("v2/workbooks/<str:workbook_id>/pages", api.workbook_pages, name="api-pages"),
    path(
        "v2/workbooks/<str:workbook_id>/pages/<str:page_id>/elements",
        api.page_elements,
        name="api-elements",
    ),
    path("v2/workbooks/<str:workbook_id>/grants", api.workbook_grants, name="api-grants"),
    path("v2/dataModels", api.data_models, name="api-data-models"),
    path("v2/connections", api.connections, name="api-connections"),
    path("v2/connections/<str:connection_id>", api.connection_detail, name="api-connection"),
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
