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

import base64
import binascii
import json
import logging
from collections.abc import Callable, Iterable, Sequence
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
    issue_api_token,
    rename_team,
    take_api_fault,
)

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000  # Sigma's maximum page size


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


def _offset(token: str | None) -> int | None:
    if not token:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return value if value >= 0 else None


def _next_page(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def paginated(
    request: HttpRequest, rows: QuerySet | Sequence[Any], shape: Callable
) -> JsonResponse:
    """One page of ``rows`` shaped by ``shape``, with Sigma's ``nextPage`` token."""
    try:
        limit = int(request.GET.get("limit", DEFAULT_LIMIT))
    except ValueError:
        limit = -1
    if not 1 <= limit <= MAX_LIMIT:
        return error(HTTPStatus.BAD_REQUEST, "bad_request", f"limit must be 1 to {MAX_LIMIT}")
    offset = _offset(request.GET.get("page"))
    if offset is None:
        return error(HTTPStatus.BAD_REQUEST, "bad_request", "Invalid page token")
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    entries = [shape(row) for row in rows[offset : offset + limit]]
    more = offset + limit < total
    return JsonResponse(
        {
            "entries": entries,
            "hasMore": more,
            "total": total,
            "nextPage": _next_page(offset + limit) if more else None,
        }
    )


# --- Shapes -----------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _org() -> Organization:
    organization = Organization.current()
    return organization or Organization(slug="demo-org", name="Demo organization")


def _audit(row: Model, creator: str = "") -> dict[str, Any]:
    return {
        "createdBy": creator,
        "updatedBy": creator,
        "createdAt": _time(getattr(row, "created_at", None)),
        "updatedAt": _time(getattr(row, "updated_at", None)),
    }


def team_json(team: Team) -> dict[str, Any]:
    return {
        "teamId": team.team_id,
        "name": team.name,
        "description": team.description,
        "visibility": "public",
        "isArchived": team.is_archived,
        **_audit(team),
    }


def account_type_json(account_type: AccountType) -> dict[str, Any]:
    return {
        "accountTypeId": account_type.account_type_id,
        "accountTypeName": account_type.name,
        "description": account_type.description,
        "isCustom": account_type.is_custom,
    }


def attribute_json(attribute: UserAttribute) -> dict[str, Any]:
    default = attribute.default_value
    return {
        "userAttributeId": attribute.user_attribute_id,
        "name": attribute.name,
        "description": attribute.description,
        "defaultValue": {"val": default, "type": "string"} if default else None,
        **_audit(attribute),
    }


def member_json(member: Member) -> dict[str, Any]:
    return {
        "organizationId": _org().organization_id,
        "memberId": member.member_id,
        "memberType": member.account_type.name,
        "firstName": member.first_name,
        "lastName": member.last_name,
        "email": member.email,
        "profileImgUrl": None,
        "userKind": member.kind,
        "isArchived": member.is_archived,
        "isInactive": False,
        **_audit(member),
    }


def workbook_json(workbook: Workbook, origin: str) -> dict[str, Any]:
    return {
        "workbookId": workbook.workbook_id,
        "workbookUrlId": workbook.url_id,
        "name": workbook.name,
        "url": f"{origin}/{_org().slug}/workbook/{workbook.url_name}-{workbook.url_id}",
        "path": "Workspaces/Sales",
        "latestVersion": 1,
        "ownerId": workbook.owner.member_id,
        "isArchived": workbook.is_archived,
        **_audit(workbook, workbook.owner.member_id),
    }


def element_json(element: Element) -> dict[str, Any]:
    chart = element.kind == Element.Kind.CHART
    return {
        "elementId": element.element_id,
        "name": element.name,
        "type": "visualization" if chart else "table",
        "vizualizationType": "bar" if chart else None,  # Sigma's spelling
        "columns": list(element.columns),
    }


def data_model_json(model: DataModel, origin: str) -> dict[str, Any]:
    return {
        "dataModelId": model.data_model_id,
        "dataModelUrlId": model.url_id,
        "name": model.name,
        "url": f"{origin}/{_org().slug}/data-model/{model.url_name}-{model.url_id}",
        "path": "Workspaces/Sales",
        "latestVersion": 1,
        "ownerId": model.owner.member_id,
        "isArchived": False,
        **_audit(model, model.owner.member_id),
    }


def connection_json(connection: Connection) -> dict[str, Any]:
    return {
        "organizationId": _org().organization_id,
        "connectionId": connection.connection_id,
        "name": connection.name,
        "type": connection.type,
        "isSample": connection.is_sample,
        "isArchived": False,
        **_audit(connection),
    }


# --- Endpoints --------------------------------------------------------------------


@sensitive_post_parameters("client_secret")
@sensitive_variables("secret", "issued")
@api_view(authenticated=False)
def auth_token(request: HttpRequest) -> JsonResponse:
    """``POST /v2/auth/token``: OAuth client credentials (form-encoded)."""
    if request.method != "POST":
        return error(HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "Use POST")
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
        if request.method != "GET":
            return error(HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "Use GET")
        return paginated(request, rows(), shape)

    return view


teams = _list(team_json, lambda: Team.objects.all())
account_types = _list(account_type_json, lambda: AccountType.objects.all())
user_attributes = _list(attribute_json, lambda: UserAttribute.objects.all())
connections = _list(connection_json, lambda: Connection.objects.all())


@api_view()
def team_detail(request: HttpRequest, team_id: str) -> JsonResponse:
    """``GET`` or ``PATCH /v2/teams/{teamId}`` (``{"name": …, "description": …}``)."""
    team = get_object_or_404(Team, team_id=team_id)
    if request.method == "PATCH":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return error(HTTPStatus.BAD_REQUEST, "bad_request", "Body must be JSON")
        name = body.get("name") if isinstance(body, dict) else None
        if name is not None:
            if not isinstance(name, str) or not name.strip():
                return error(HTTPStatus.BAD_REQUEST, "bad_request", "name must be a string")
            if Team.objects.filter(name=name).exclude(pk=team.pk).exists():
                return error(HTTPStatus.CONFLICT, "conflict", "A team with this name exists")
            team = rename_team(team=team, name=name)
        if isinstance(body.get("description"), str):
            team.description = body["description"]
            team.save(update_fields=["description", "updated_at"])
    elif request.method != "GET":
        return error(HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "Use GET or PATCH")
    return JsonResponse(team_json(team))


@api_view()
def team_members(request: HttpRequest, team_id: str) -> JsonResponse:
    team = get_object_or_404(Team, team_id=team_id)
    return paginated(
        request,
        team.members.select_related("account_type"),
        lambda m: {"memberId": m.member_id, "email": m.email},
    )


@api_view()
def members(request: HttpRequest) -> JsonResponse:
    """``GET /v2/members`` (``search`` narrows by email or name)."""
    rows = Member.objects.select_related("account_type")
    if search := request.GET.get("search"):
        rows = rows.filter(email__icontains=search) | rows.filter(first_name__icontains=search)
    return paginated(request, rows.order_by("email"), member_json)


@api_view()
def member_detail(request: HttpRequest, member_id: str) -> JsonResponse:
    member = get_object_or_404(Member.objects.select_related("account_type"), member_id=member_id)
    return JsonResponse(member_json(member))


@api_view()
def member_teams(request: HttpRequest, member_id: str) -> JsonResponse:
    member = get_object_or_404(Member, member_id=member_id)
    return paginated(request, member.teams.all(), lambda t: {"teamId": t.team_id, "name": t.name})


@api_view()
def workbooks(request: HttpRequest) -> JsonResponse:
    origin = _origin(request)
    rows = Workbook.objects.select_related("owner")
    return paginated(request, rows, lambda w: workbook_json(w, origin))


@api_view()
def workbook_detail(request: HttpRequest, workbook_id: str) -> JsonResponse:
    workbook = get_object_or_404(Workbook.objects.select_related("owner"), workbook_id=workbook_id)
    return JsonResponse(workbook_json(workbook, _origin(request)))


@api_view()
def workbook_pages(request: HttpRequest, workbook_id: str) -> JsonResponse:
    workbook = get_object_or_404(Workbook, workbook_id=workbook_id)
    return paginated(request, workbook.pages.all(), lambda p: {"pageId": p.page_id, "name": p.name})


@api_view()
def page_elements(request: HttpRequest, workbook_id: str, page_id: str) -> JsonResponse:
    workbook = get_object_or_404(Workbook, workbook_id=workbook_id)
    page = get_object_or_404(workbook.pages, page_id=page_id)
    return paginated(request, page.elements.all(), element_json)


@api_view()
def workbook_grants(request: HttpRequest, workbook_id: str) -> JsonResponse:
    """Who the workbook is shared with: one grant per team, permission ``view``."""
    workbook = get_object_or_404(Workbook, workbook_id=workbook_id)
    return paginated(
        request,
        workbook.shared_with.all(),
        lambda team: {
            "grantId": f"{workbook.workbook_id}:{team.team_id}",
            "inodeId": workbook.workbook_id,
            "teamId": team.team_id,
            "memberId": None,
            "permission": "view",
        },
    )


@api_view()
def data_models(request: HttpRequest) -> JsonResponse:
    origin = _origin(request)
    rows = DataModel.objects.select_related("owner")
    return paginated(request, rows, lambda d: data_model_json(d, origin))


@api_view()
def connection_detail(request: HttpRequest, connection_id: str) -> JsonResponse:
    return JsonResponse(connection_json(get_object_or_404(Connection, connection_id=connection_id)))


@api_view(authenticated=False)
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    return error(HTTPStatus.NOT_FOUND, "not_found", "No such endpoint in the emulator")
