"""The emulated organization's own admin pages: Administration and Developer Access.

Served on the emulator's origin only, like Sigma's Administration pages. There is
no sign-in (the emulator is a local development tool); the pages act as the
organization's Admin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from .forms import CredentialForm, TeamRenameForm
from .models import (
    AccountType,
    Connection,
    Credential,
    DataModel,
    Member,
    Organization,
    Team,
    UserAttribute,
    Workbook,
)
from .services import create_credential, rename_team, revoke_credential
from .verify import CODE_NOT_FOUND, MSG_INVALID_PATH
from .views import _error_page as render_error
from .views import emulator_view

logger = logging.getLogger(__name__)

# Forms post to the emulator itself; no host frames these pages (clickjacking of
# the revoke buttons, and the one-time secret). No signed URL is ever in their
# address, so "same-origin" (the Origin header Django's CSRF check compares).
admin_view = emulator_view(form_action="'self'", framed=False, referrer_policy="same-origin")


def organization_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """An admin page of the organization the path names (``org``): the view is called
    with that Organization; a path naming any other answers Sigma's not-found page."""

    @wraps(view)
    def page(request: HttpRequest, org: str, **kwargs: str) -> HttpResponse:
        organization = Organization.current()
        if organization is None or organization.slug != org:
            return render_error(
                request, code=CODE_NOT_FOUND, message=MSG_INVALID_PATH, status=HTTPStatus.NOT_FOUND
            )
        return view(request, organization, **kwargs)

    return admin_view(page)


def developer_access_url(organization: Organization) -> str:
    return f"/{organization.slug}/admin/developer-access"


@require_http_methods(["GET", "HEAD"])
@organization_page
def administration(request: HttpRequest, organization: Organization) -> HttpResponse:
    """Everything the organization holds, read-only except team names."""
    return render(
        request,
        "sigma_emulator/admin/administration.html",
        {
            "organization": organization,
            "members": Member.objects.select_related("account_type").prefetch_related("teams"),
            "teams": Team.objects.prefetch_related("members"),
            "account_types": AccountType.objects.all(),
            "user_attributes": UserAttribute.objects.all(),
            "connections": Connection.objects.all(),
            "workbooks": Workbook.objects.prefetch_related("pages__elements", "shared_with"),
            "data_models": DataModel.objects.all(),
        },
    )


@require_POST
@organization_page
def team_rename(request: HttpRequest, organization: Organization, team_id: str) -> HttpResponse:
    team = get_object_or_404(Team, team_id=team_id)
    form = TeamRenameForm(request.POST, team=team)
    if form.is_valid():
        rename_team(team=team, name=form.cleaned_data["name"])
        return HttpResponseRedirect(f"/{organization.slug}/admin/#teams")
    return render(
        request,
        "sigma_emulator/admin/team_rename.html",
        {"organization": organization, "team": team, "form": form},
        status=HTTPStatus.BAD_REQUEST,
    )


def _credentials_page(
    request: HttpRequest,
    organization: Organization,
    *,
    form: CredentialForm,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    revoked = request.GET.get("revoked", "")
    return render(
        request,
        "sigma_emulator/admin/developer_access.html",
        {
            "organization": organization,
            "credentials": Credential.objects.select_related("owner"),
            "form": form,
            "revoked": Credential.objects.filter(client_id=revoked, revoked_at__isnull=False)
            .values_list("client_id", flat=True)
            .first(),
        },
        status=status,
    )


@sensitive_variables("secret")
@require_http_methods(["GET", "HEAD", "POST"])
@organization_page
def developer_access(request: HttpRequest, organization: Organization) -> HttpResponse:
    """Sigma's Developer Access page: list, create (secret shown once) and revoke."""
    if request.method != "POST":
        return _credentials_page(request, organization, form=CredentialForm())
    form = CredentialForm(request.POST)
    if not form.is_valid():
        return _credentials_page(request, organization, form=form, status=HTTPStatus.BAD_REQUEST)
    credential, secret = create_credential(
        name=form.cleaned_data["name"],
        description=form.cleaned_data["description"],
        owner=form.cleaned_data["owner"],
        embed_privilege=form.cleaned_data["embed_privilege"],
        api_privilege=form.cleaned_data["api_privilege"],
    )
    # The one and only time the secret is shown, as on Sigma's page. The response
    # is never cached (emulator_view: no-store) and no later page renders it.
    return render(
        request,
        "sigma_emulator/admin/credential_created.html",
        {"organization": organization, "credential": credential, "secret": secret},
        status=HTTPStatus.CREATED,
    )


@require_POST
@organization_page
def credential_revoke(
    request: HttpRequest, organization: Organization, client_id: str
) -> HttpResponse:
    """Revoke: every token signed with these credentials is refused from now on."""
    credential = get_object_or_404(Credential, client_id=client_id)
    revoke_credential(credential=credential)
    return HttpResponseRedirect(
        f"{developer_access_url(organization)}?revoked={credential.client_id}"
    )
