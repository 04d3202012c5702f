"""A subset of Sigma's REST API v2, answered from the emulated organization.

JSON shapes follow Sigma's (camelCase ids such as ``teamId``, ``workbookUrlId``);
list endpoints page with ``limit`` and ``page`` and answer ``{"entries", "hasMore",
"total", "nextPage"}``. Authentication is OAuth client credentials at
``POST /v2/auth/token`` with credentials that carry the REST API privilege; the
bearer token expires after ``SIGMA_EMULATOR_API_TOKEN_TTL`` seconds (3600).

Test knobs, never in Sigma: ``services.inject_api_fault`` makes the next requests
answer 429 (or any status), ``services.expire_api_tokens`` expires every bearer.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from .models import (
    AccountType,
    Connection,
    Credential,
    DataModel,
    Element,
    Member,
    Organization,
    Team,
    UserAttribute,
    Workbook,
)
from .services import (
    DEFAULT_API_TOKEN_TTL,
    api_token_credential,
    deactivate_member,
    issue_api_token,
    rename_team,
    take_api_fault,
)

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000  # Sigma's maximum page size
# A date-time for rows without one (the document requires createdAt and friends).
EPOCH = "1970-01-01T00:00:00Z"


def error(status: int, code: str, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"code": code, "message": message}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def api_view(*, authenticated: bool = True) -> Callable[..., Callable[..., JsonResponse]]:
    """Off unless enabled; no CSRF (bearer tokens, not cookies); test faults; bearer check."""

    def decorate(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            if not getattr(settings, "SIGMA_EMULATOR_ENABLED", False):
                return error(HTTPStatus.NOT_FOUND, "not_found", "Not found")
            fault = take_api_fault()
            if fault is not None:
                response = error(fault.status, "too_many_requests", "Rate limit exceeded")
                if fault.retry_after is not None:
                    response["Retry-After"] = str(fault.retry_after)
            elif authenticated and _bearer_credential(request) is None:
                response = error(
                    HTTPStatus.UNAUTHORIZED, "unauthorized", "Missing or expired access token"
                )
            else:
                try:
                    response = view(request, *args, **kwargs)
                except Http404:
                    response = error(HTTPStatus.NOT_FOUND, "not_found", "Not found")
            response["Cache-Control"] = "no-store"
            return response

        return csrf_exempt(wrapper)

    return decorate


@sensitive_variables("token")
def _bearer_credential(request: HttpRequest) -> Credential | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return api_token_credential(token.strip())


# --- Pagination -------------------------------------------------------------------
#
# Sigma's document has two schemes (tests/data/sigma-rest-api.openapi.json): most
# list operations take ``page``/``limit`` and answer ``nextPage`` (null on the last
# page, with ``hasMore`` and ``total``); some (``listAccountTypes``) take
# ``pageToken``/``pageSize`` and answer ``nextPageToken`` (absent on the last page).
# The token is the next offset as a decimal string, as in the document's example
# (``"nextPage": "50"``); clients must treat it as opaque.


def _offset(token: str | None) -> int | None:
    if not token:
        return 0
    return int(token) if token.isdigit() else None


def _page_window(
    request: HttpRequest, *, size_name: str, token_name: str
) -> tuple[int, int] | JsonResponse:
    try:
        limit = int(request.GET.get(size_name, DEFAULT_LIMIT))
    except ValueError:
        limit = -1
    if not 1 <= limit <= MAX_LIMIT:
        return error(HTTPStatus.BAD_REQUEST, "bad_request", f"{size_name} must be 1 to {MAX_LIMIT}")
    offset = _offset(request.GET.get(token_name))
    if offset is None:
        return error(HTTPStatus.BAD_REQUEST, "bad_request", f"Invalid {token_name}")
    return offset, limit


def paginated(
    request: HttpRequest, rows: QuerySet | Sequence[Any], shape: Callable
) -> JsonResponse:
    """One page of ``rows`` shaped by ``shape``: ``page``/``limit`` → ``nextPage``."""
    window = _page_window(request, size_name="limit", token_name="page")  # noqa: S106 - a parameter name
    if isinstance(window, JsonResponse):
        return window
    offset, limit = window
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    entries = [shape(row) for row in rows[offset : offset + limit]]
    more = offset + limit < total
    return JsonResponse(
        {
            "entries": entries,
            "hasMore": more,
            "total": total,
            "nextPage": str(offset + limit) if more else None,
        }
    )


def token_paginated(
    request: HttpRequest, rows: QuerySet | Sequence[Any], shape: Callable
) -> JsonResponse:
    """One page of ``rows``: ``pageToken``/``pageSize`` → ``nextPageToken``."""
    window = _page_window(request, size_name="pageSize", token_name="pageToken")  # noqa: S106
    if isinstance(window, JsonResponse):
        return window
    offset, limit = window
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    body: dict[str, Any] = {"entries": [shape(row) for row in rows[offset : offset + limit]]}
    if offset + limit < total:
        body["nextPageToken"] = str(offset + limit)
    return JsonResponse(body)


# --- Shapes -----------------------------------------------------------------------
#
# Each shape carries every field the document marks required for its schema (named
# in the comment); optional fields the emulator has no data for are left out.


def _time(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else EPOCH


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _org() -> Organization:
    organization = Organization.current()
    return organization or Organization(slug="demo-org", name="Demo organization")


def _admin_id() -> str:
    """Who "created" the organization's rows: its first Admin (or nobody yet)."""
    admin = Member.objects.filter(account_type__is_admin=True).order_by("pk").first()
    return admin.member_id if admin else ""


def _audit(row: Model, creator: str | None = None) -> dict[str, Any]:
    creator = _admin_id() if creator is None else creator
    return {
        "createdBy": creator,
        "updatedBy": creator,
        "createdAt": _time(getattr(row, "created_at", None)),
        "updatedAt": _time(getattr(row, "updated_at", None)),
    }


def team_json(team: Team) -> dict[str, Any]:
    """``V2TeamsGetResponses…EntriesItems`` (listTeams, listMemberTeams, updateTeam)."""
    return {
        "teamId": team.team_id,
        "name": team.name,
        "description": team.description or None,
        "visibility": "public",
        "isArchived": team.is_archived,
        **_audit(team),
    }


def account_type_json(account_type: AccountType) -> dict[str, Any]:
    """``V2AccountTypesGetResponses…EntriesItems`` (listAccountTypes)."""
    return {
        "accountTypeId": account_type.account_type_id,
        "accountTypeName": account_type.name,
        "description": account_type.description,
        "isCustom": account_type.is_custom,
    }


def attribute_json(attribute: UserAttribute) -> dict[str, Any]:
    """``V2UserAttributesGetResponses…EntriesItems`` (listUserAttributes)."""
    default = attribute.default_value
    return {
        "userAttributeId": attribute.user_attribute_id,
        "name": attribute.name,
        "description": attribute.description or None,
        "defaultValue": {"val": default, "type": "string"} if default else None,
        **_audit(attribute),
    }


def member_json(member: Member) -> dict[str, Any]:
    """``members_getMember_Response_200`` (listMembers entries, getMember)."""
    return {
        "organizationId": _org().organization_id,
        "memberId": member.member_id,
        "memberType": member.account_type.name,
        "firstName": member.first_name,
        "lastName": member.last_name,
        "email": member.email,
        "profileImgUrl": None,
        "homeFolderId": member.member_id,  # the emulator has no folders: a stable id
        "userKind": member.kind,
        "isArchived": member.is_archived,
        "isInactive": False,
        **_audit(member),
    }


def workbook_json(workbook: Workbook, origin: str) -> dict[str, Any]:
    """``V2WorkbooksGetResponses…EntriesItems`` (listWorkbooks, getWorkbook).

    ``url`` is the REST form Sigma answers: ``{origin}/{org}/workbook/{workbookUrlId}``,
    without the name segment the browser shows.
    """
    return {
        "workbookId": workbook.workbook_id,
        "workbookUrlId": workbook.url_id,
        "name": workbook.name,
        "url": f"{origin}/{_org().slug}/workbook/{workbook.url_id}",
        "path": "Workspaces/Sales",
        "latestVersion": 1,
        "ownerId": workbook.owner.member_id,
        "isArchived": workbook.is_archived,
        **_audit(workbook, workbook.owner.member_id),
    }


def element_json(element: Element) -> dict[str, Any]:
    """``…PagesPageIdElementsGetResponses…EntriesItems`` (listWorkbookPageElements)."""
    shape: dict[str, Any] = {
        "elementId": element.element_id,
        "name": element.name,
        "type": "visualization" if element.kind == Element.Kind.CHART else "table",
        "columns": list(element.columns),
    }
    if element.kind == Element.Kind.CHART:
        shape["vizualizationType"] = "bar"  # Sigma's spelling; a string when present
    return shape


def data_model_json(model: DataModel, origin: str) -> dict[str, Any]:
    """``V2DataModelsGetResponses…EntriesItems`` (listDataModels, getDataModel)."""
    return {
        "dataModelId": model.data_model_id,
        "dataModelUrlId": model.url_id,
        "name": model.name,
        "url": f"{origin}/{_org().slug}/data-model/{model.url_id}",
        "path": "Workspaces/Sales",
        "latestVersion": 1,
        "ownerId": model.owner.member_id,
        "isArchived": False,
        **_audit(model, model.owner.member_id),
    }


def connection_json(connection: Connection) -> dict[str, Any]:
    """``V2ConnectionsGetResponses…EntriesItems`` (listConnections, getConnection)."""
    return {
        "organizationId": _org().organization_id,
        "connectionId": connection.connection_id,
        "name": connection.name,
        "type": connection.type,
        "isSample": connection.is_sample,
        "isAuditLog": False,
        "useOauth": False,
        "lastActiveAt": _time(connection.updated_at),
        "isArchived": False,
        **_audit(connection),
    }


def grant_json(workbook: Workbook, team: Team) -> dict[str, Any]:
    """``V2GrantsGetResponses…EntriesItems`` (listGrants): a team's view grant."""
    return {
        "grantId": f"{workbook.workbook_id}:{team.team_id}",
        "inodeId": workbook.workbook_id,
        "inodeType": "workbook",
        "organizationId": _org().organization_id,
        "teamId": team.team_id,
        "memberId": None,
        "permission": "view",
        **_audit(workbook, workbook.owner.member_id),
    }


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
    credential = _bearer_credential(request)
    assert credential is not None  # noqa: S101 - api_view() refused anonymous calls
    return JsonResponse(
        {"userId": credential.owner.member_id, "organizationId": _org().organization_id}
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
    added_by = _admin_id()
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
    origin = _origin(request)
    rows = Workbook.objects.select_related("owner")
    if "isArchived" in request.GET:
        rows = rows.filter(is_archived=_flag(request, "isArchived"))
    return paginated(request, rows, lambda w: workbook_json(w, origin))


@api_view()
def workbook_detail(request: HttpRequest, workbook_id: str) -> JsonResponse:
    workbook = get_object_or_404(Workbook.objects.select_related("owner"), workbook_id=workbook_id)
    return JsonResponse(workbook_json(workbook, _origin(request)))


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
    origin = _origin(request)
    rows = DataModel.objects.select_related("owner")
    return paginated(request, rows, lambda d: data_model_json(d, origin))


@api_view()
def data_model_detail(request: HttpRequest, data_model_id: str) -> JsonResponse:
    """``GET /v2/dataModels/{dataModelId}`` (getDataModel)."""
    model = get_object_or_404(
        DataModel.objects.select_related("owner"), data_model_id=data_model_id
    )
    return JsonResponse(data_model_json(model, _origin(request)))


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
