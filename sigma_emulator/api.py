"""A subset of Sigma's REST API v2, answered from the emulated organization.

JSON shapes follow Sigma's (camelCase ids such as ``teamId``, ``workbookUrlId``);
list endpoints page with ``limit`` and ``page`` and answer ``{"entries", "hasMore",
"total", "nextPage"}``. Authentication is OAuth client credentials at
``POST /v2/auth/token`` with credentials that carry the REST API privilege; the
bearer token expires after ``SIGMA_EMULATOR_API_TOKEN_TTL`` seconds (3600).

Test knobs, never in Sigma: ``services.inject_api_fault`` makes the next requests
answer 429 (or any status), ``services.expire_api_tokens`` expires every bearer.

The endpoints and their routes are here; the JSON shapes are in :mod:`.api_shapes`,
errors, the view decorator and paging in :mod:`.api_http`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from .api_http import api_view, bearer_credential, error, paginated, request_origin, token_paginated
from .api_shapes import (
    account_type_json,
    admin_id,
    attribute_json,
    connection_json,
    current_org,
    data_model_json,
    element_json,
    grant_json,
    member_json,
    team_json,
    workbook_json,
)
from .models import AccountType, Connection, DataModel, Member, Team, UserAttribute, Workbook
from .services import DEFAULT_API_TOKEN_TTL, deactivate_member, issue_api_token, rename_team

logger = logging.getLogger(__name__)


# --- Endpoints --------------------------------------------------------------------


@sensitive_post_parameters("client_secret")
@sensitive_variables("secret", "issued")
@api_view(authenticated=False)
def auth_token(request: HttpRequest) -> JsonResponse:
    """``POST /v2/auth/token`` (postToken): OAuth client credentials, form-encoded."""
    if request.POST.get("grant_type") != "client_credentials":
        return error(HTTPStatus.BAD_REQUEST, "unsupported_grant_type", "Use client_credentials")
    client_id = request.POST.get("client_id", "")
    secret = request.POST.get("client_secret", "")
    ttl = int(getattr(settings, "SIGMA_EMULATOR_API_TOKEN_TTL", DEFAULT_API_TOKEN_TTL))
    issued = issue_api_token(client_id=client_id, client_secret=secret, ttl=ttl)
    if issued is None:
        logger.info("Emulator API: token refused for client %r", client_id[:64])
        return error(HTTPStatus.UNAUTHORIZED, "invalid_client", "Invalid client credentials")
    token, expires_in = issued
    return JsonResponse({"access_token": token, "token_type": "bearer", "expires_in": expires_in})


def _list(shape: Callable[[Any], dict], rows: Callable[[], Iterable[Any]]) -> Callable:
    @api_view()
    def view(request: HttpRequest) -> JsonResponse:
        return paginated(request, rows(), shape)

    return view


teams = _list(team_json, lambda: Team.objects.all())
user_attributes = _list(attribute_json, lambda: UserAttribute.objects.all())
connections = _list(connection_json, lambda: Connection.objects.all())


@api_view()
def account_types(request: HttpRequest) -> JsonResponse:
    """``GET /v2/accountTypes`` (listAccountTypes): the token scheme."""
    return token_paginated(request, AccountType.objects.all(), account_type_json)


@api_view()
def whoami(request: HttpRequest) -> JsonResponse:
    """``GET /v2/whoami``: the member who owns the API credentials."""
    credential = bearer_credential(request)
    assert credential is not None  # noqa: S101 - api_view() refused anonymous calls
    return JsonResponse(
        {"userId": credential.owner.member_id, "organizationId": current_org().organization_id}
    )


@api_view()
def team_detail(request: HttpRequest, team_id: str) -> JsonResponse:
    """``GET /v2/teams/{teamId}`` (getTeam): the team with its members' ids."""
    team = get_object_or_404(Team, team_id=team_id)
    members = list(team.members.values_list("member_id", flat=True))
    return JsonResponse({**team_json(team), "members": members})


@api_view()
def team_update(request: HttpRequest, team_id: str) -> JsonResponse:
    """``PATCH /v2/teams/{teamId}`` (updateTeam): ``{"name": …, "description": …}``."""
    team = get_object_or_404(Team, team_id=team_id)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return error(HTTPStatus.BAD_REQUEST, "bad_request", "Body must be JSON")
    if not isinstance(body, dict):
        return error(HTTPStatus.BAD_REQUEST, "bad_request", "Body must be a JSON object")
    name = body.get("name")
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            return error(HTTPStatus.BAD_REQUEST, "bad_request", "name must be a string")
        if Team.objects.filter(name=name).exclude(pk=team.pk).exists():
            return error(HTTPStatus.CONFLICT, "conflict", "A team with this name exists")
        team = rename_team(team=team, name=name)
    if isinstance(body.get("description"), str):
        team.description = body["description"]
        team.save(update_fields=["description", "updated_at"])
    return JsonResponse(team_json(team))


@api_view()
def team_members(request: HttpRequest, team_id: str) -> JsonResponse:
    """``GET /v2/teams/{teamId}/members`` (getTeamMembers)."""
    team = get_object_or_404(Team, team_id=team_id)
    added_by = admin_id()
    return paginated(
        request,
        team.members.all(),
        lambda m: {"userId": m.member_id, "isTeamAdmin": False, "addedBy": added_by},
    )


def _flag(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "").lower() == "true"


@api_view()
def members(request: HttpRequest) -> JsonResponse:
    """``GET /v2/members`` (listMembers): ``email`` (exact, any case) or the deprecated
    ``search``; archived members only with ``includeArchived=true``."""
    rows = Member.objects.select_related("account_type")
    if not _flag(request, "includeArchived"):
        rows = rows.filter(is_archived=False)
    if email := request.GET.get("email"):
        rows = rows.filter(email__iexact=email)
    elif search := request.GET.get("search"):
        rows = rows.filter(email__icontains=search) | rows.filter(first_name__icontains=search)
    return paginated(request, rows.order_by("email"), member_json)


@api_view()
def member_detail(request: HttpRequest, member_id: str) -> JsonResponse:
    """``GET /v2/members/{memberId}`` (getMember)."""
    member = get_object_or_404(Member.objects.select_related("account_type"), member_id=member_id)
    return JsonResponse(member_json(member))


@api_view()
def member_deactivate(request: HttpRequest, member_id: str) -> JsonResponse:
    """``DELETE /v2/members/{memberId}`` (deleteMember, "Deactivate member"): Sigma
    marks the member archived; it answers an empty object."""
    member = get_object_or_404(Member, member_id=member_id)
    deactivate_member(member=member)
    return JsonResponse({})


@api_view()
def member_teams(request: HttpRequest, member_id: str) -> JsonResponse:
    """``GET /v2/members/{memberId}/teams`` (listMemberTeams)."""
    member = get_object_or_404(Member, member_id=member_id)
    return paginated(request, member.teams.all(), team_json)


@api_view()
def workbooks(request: HttpRequest) -> JsonResponse:
    """``GET /v2/workbooks`` (listWorkbooks); ``isArchived`` narrows to (un)archived."""
    origin = request_origin(request)
    rows = Workbook.objects.select_related("owner")
    if "isArchived" in request.GET:
        rows = rows.filter(is_archived=_flag(request, "isArchived"))
    return paginated(request, rows, lambda w: workbook_json(w, origin))


@api_view()
def workbook_detail(request: HttpRequest, workbook_id: str) -> JsonResponse:
    workbook = get_object_or_404(Workbook.objects.select_related("owner"), workbook_id=workbook_id)
    return JsonResponse(workbook_json(workbook, request_origin(request)))


@api_view()
def workbook_pages(request: HttpRequest, workbook_id: str) -> JsonResponse:
    """``GET /v2/workbooks/{workbookId}/pages`` (listWorkbookPages). The emulator has
    no version tags: a ``tag`` names no version of it, so 404."""
    workbook = get_object_or_404(Workbook, workbook_id=workbook_id)
    if request.GET.get("tag"):
        raise Http404
    return paginated(request, workbook.pages.all(), lambda p: {"pageId": p.page_id, "name": p.name})


@api_view()
def page_elements(request: HttpRequest, workbook_id: str, page_id: str) -> JsonResponse:
    """``GET /v2/workbooks/{workbookId}/pages/{pageId}/elements`` (listWorkbookPageElements)."""
    workbook = get_object_or_404(Workbook, workbook_id=workbook_id)
    page = get_object_or_404(workbook.pages, page_id=page_id)
    if request.GET.get("tag"):
        raise Http404
    return paginated(request, page.elements.all(), element_json)


@api_view()
def grants(request: HttpRequest) -> JsonResponse:
    """``GET /v2/grants`` (listGrants): who a document is shared with, by ``inodeId``
    (a workbookId) or ``teamId``; one ``view`` grant per team a workbook is shared
    with. No member has a direct grant here, so ``userId`` finds none."""
    rows = Workbook.shared_with.through.objects.select_related("workbook__owner", "team")
    if inode := request.GET.get("inodeId"):
        rows = rows.filter(workbook__workbook_id=inode)
    if team := request.GET.get("teamId"):
        rows = rows.filter(team__team_id=team)
    if request.GET.get("userId"):
        rows = rows.none()
    return paginated(request, rows.order_by("pk"), lambda row: grant_json(row.workbook, row.team))


@api_view()
def data_models(request: HttpRequest) -> JsonResponse:
    """``GET /v2/dataModels`` (listDataModels)."""
    origin = request_origin(request)
    rows = DataModel.objects.select_related("owner")
    return paginated(request, rows, lambda d: data_model_json(d, origin))


@api_view()
def data_model_detail(request: HttpRequest, data_model_id: str) -> JsonResponse:
    """``GET /v2/dataModels/{dataModelId}`` (getDataModel)."""
    model = get_object_or_404(
        DataModel.objects.select_related("owner"), data_model_id=data_model_id
    )
    return JsonResponse(data_model_json(model, request_origin(request)))


@api_view()
def connection_detail(request: HttpRequest, connection_id: str) -> JsonResponse:
    """``GET /v2/connections/{connectionId}`` (getConnection)."""
    return JsonResponse(connection_json(get_object_or_404(Connection, connection_id=connection_id)))


@api_view(authenticated=False)
def not_found(request: HttpRequest, *args: str, **kwargs: str) -> JsonResponse:
    return error(HTTPStatus.NOT_FOUND, "not_found", "Not found")


# --- Routes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One operation of Sigma's document that the emulator answers."""

    method: str
    path: str  # the document's path template, e.g. /v2/teams/{teamId}
    operation_id: str  # the document's operationId
    view: Callable[..., JsonResponse]


#: Every operation the emulator serves, by the document's method, path and
#: operationId (tests/emulator/test_api_contract.py checks each against it). A
#: method or path not listed here answers 404, as an unknown route does on Sigma.
OPERATIONS = (
    Operation("POST", "/v2/auth/token", "postToken", auth_token),
    Operation("GET", "/v2/whoami", "whoami", whoami),
    Operation("GET", "/v2/teams", "listTeams", teams),
    Operation("GET", "/v2/teams/{teamId}", "getTeam", team_detail),
    Operation("PATCH", "/v2/teams/{teamId}", "updateTeam", team_update),
    Operation("GET", "/v2/teams/{teamId}/members", "getTeamMembers", team_members),
    Operation("GET", "/v2/accountTypes", "listAccountTypes", account_types),
    Operation("GET", "/v2/user-attributes", "listUserAttributes", user_attributes),
    Operation("GET", "/v2/members", "listMembers", members),
    Operation("GET", "/v2/members/{memberId}", "getMember", member_detail),
    Operation("DELETE", "/v2/members/{memberId}", "deleteMember", member_deactivate),
    Operation("GET", "/v2/members/{memberId}/teams", "listMemberTeams", member_teams),
    Operation("GET", "/v2/workbooks", "listWorkbooks", workbooks),
    Operation("GET", "/v2/workbooks/{workbookId}", "getWorkbook", workbook_detail),
    Operation("GET", "/v2/workbooks/{workbookId}/pages", "listWorkbookPages", workbook_pages),
    Operation(
        "GET",
        "/v2/workbooks/{workbookId}/pages/{pageId}/elements",
        "listWorkbookPageElements",
        page_elements,
    ),
    Operation("GET", "/v2/grants", "listGrants", grants),
    Operation("GET", "/v2/dataModels", "listDataModels", data_models),
    Operation("GET", "/v2/dataModels/{dataModelId}", "getDataModel", data_model_detail),
    Operation("GET", "/v2/connections", "listConnections", connections),
    Operation("GET", "/v2/connections/{connectionId}", "getConnection", connection_detail),
)


def route(path: str) -> Callable[..., JsonResponse]:
    """One URL of the API: the operation for the request's method, else 404."""
    by_method = {op.method: op.view for op in OPERATIONS if op.path == path}

    def dispatch(request: HttpRequest, **ids: str) -> JsonResponse:
        view = by_method.get(request.method or "", not_found)
        return view(request, *ids.values())

    return csrf_exempt(dispatch)


def route_patterns() -> list[tuple[str, str, Callable[..., JsonResponse]]]:
    """(Django route, name, view) for every path of :data:`OPERATIONS`, in order."""
    seen: list[str] = []
    for op in OPERATIONS:
        if op.path not in seen:
            seen.append(op.path)
    return [
        (
            re.sub(r"\{(\w+)\}", r"<str:\1>", path.lstrip("/")),
            "api" + re.sub(r"\W+", "-", re.sub(r"\{\w+\}", "id", path)).rstrip("-"),
            route(path),
        )
        for path in seen
    ]
