"""The JSON shapes of the emulator's REST API, as Sigma's document names them.

camelCase ids as Sigma answers them (``teamId``, ``workbookUrlId``). Each shape
carries every field the document (``tests/data/sigma-rest-api.openapi.json``) marks
required for its schema (named in its docstring); optional fields the emulator has
no data for are left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Model

from .models import (
    AccountType,
    Connection,
    DataModel,
    Element,
    Member,
    Organization,
    Team,
    UserAttribute,
    Workbook,
)

# A date-time for rows without one (the document requires createdAt and friends).
EPOCH = "1970-01-01T00:00:00Z"


def _time(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else EPOCH


def current_org() -> Organization:
    organization = Organization.current()
    return organization or Organization(slug="demo-org", name="Demo organization")


def admin_id() -> str:
    """Who "created" the organization's rows: its first Admin (or nobody yet)."""
    admin = Member.objects.filter(account_type__is_admin=True).order_by("pk").first()
    return admin.member_id if admin else ""


def _audit(row: Model, creator: str | None = None) -> dict[str, Any]:
    creator = admin_id() if creator is None else creator
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
        "organizationId": current_org().organization_id,
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
        "url": f"{origin}/{current_org().slug}/workbook/{workbook.url_id}",
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
        "url": f"{origin}/{current_org().slug}/data-model/{model.url_id}",
        "path": "Workspaces/Sales",
        "latestVersion": 1,
        "ownerId": model.owner.member_id,
        "isArchived": False,
        **_audit(model, model.owner.member_id),
    }


def connection_json(connection: Connection) -> dict[str, Any]:
    """``V2ConnectionsGetResponses…EntriesItems`` (listConnections, getConnection)."""
    return {
        "organizationId": current_org().organization_id,
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
        "organizationId": current_org().organization_id,
        "teamId": team.team_id,
        "memberId": None,
        "permission": "view",
        **_audit(workbook, workbook.owner.member_id),
    }
