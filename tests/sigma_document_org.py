"""A Sigma organization that answers exactly as Sigma's OpenAPI document says.

Not the emulator: a scripted ``httpx.MockTransport`` handler whose every answer is
built with all the fields the document requires and checked against the document
(tests/sigma_openapi.py) before it leaves, so the client's tests see Sigma's
shapes, not the emulator's. It serves both pagination schemes (``limit``/``page``
→ ``nextPage``; ``pageSize``/``pageToken`` → ``nextPageToken``), always in pages
of at most ``page_size`` entries (Sigma may answer fewer than asked); the bare
array form of the ``oneOf`` list operations with ``bare_lists``; archived and
inactive entries; ``email`` and ``inodeId`` filters; ``skipPermissionCheck``;
version tags.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx

from embeds.remote.client import SigmaAPIClient
from tests.sigma_openapi import sigma_openapi

ORG_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
BASE = "https://api.sigma.example.test"
APP = "https://app.sigmacomputing.com/acme"
CLIENT_ID = "document-client"
SECRET = "document-SECRET-3e8a1c5f-never-shown"  # noqa: S105
AT = "2026-08-13T09:30:00.000Z"
OWNER_ID = "m-owner"


def _audit(by: str = OWNER_ID) -> dict[str, str]:
    return {"createdBy": by, "updatedBy": by, "createdAt": AT, "updatedAt": AT}


def team(team_id: str, name: str, *, archived: bool = False) -> dict[str, Any]:
    return {
        "teamId": team_id,
        "name": name,
        "description": None,
        "visibility": "public",
        "isArchived": archived,
        **_audit(),
    }


def account_type(type_id: str, name: str, *, custom: bool = False) -> dict[str, Any]:
    return {
        "accountTypeId": type_id,
        "accountTypeName": name,
        "description": "",
        "isCustom": custom,
    }


def attribute(attribute_id: str, name: str) -> dict[str, Any]:
    return {"userAttributeId": attribute_id, "name": name, "defaultValue": None, **_audit()}


def member(
    member_id: str,
    email: str,
    member_type: str,
    *,
    kind: str = "internal",
    archived: bool = False,
    inactive: bool = False,
) -> dict[str, Any]:
    return {
        "organizationId": ORG_ID,
        "memberId": member_id,
        "memberType": member_type,
        "firstName": email.split("@")[0].title(),
        "lastName": "",
        "email": email,
        "profileImgUrl": None,
        "homeFolderId": f"folder-{member_id}",
        "userKind": kind,
        "isArchived": archived,
        "isInactive": inactive,
        **_audit(),
    }


def workbook(
    workbook_id: str, url_id: str, name: str, *, archived: bool = False, tags: tuple = ()
) -> dict[str, Any]:
    tagged = [
        {
            "versionTagId": f"vt-{tag}",
            "name": tag,
            "sourceWorkbookVersion": 3,
            "taggedWorkbookId": f"tagged-{workbook_id}-{tag}",
            "workbookTaggedAt": AT,
        }
        for tag in tags
    ]
    return {
        **({"tags": tagged} if tagged else {}),
        "workbookId": workbook_id,
        "workbookUrlId": url_id,
        "name": name,
        "url": f"{APP}/workbook/{url_id}",  # the REST form: no name segment
        "path": "My Documents",
        "latestVersion": 3,
        "ownerId": OWNER_ID,
        "isArchived": archived,
        **_audit(),
    }


def data_model(model_id: str, url_id: str, name: str, *, archived: bool = False) -> dict:
    return {
        "dataModelId": model_id,
        "dataModelUrlId": url_id,
        "name": name,
        "url": f"{APP}/data-model/{url_id}",
        "path": "My Documents",
        "latestVersion": 1,
        "ownerId": OWNER_ID,
        "isArchived": archived,
        **_audit(),
    }


def grant(inode_id: str, team_id: str, permission: str = "view") -> dict[str, Any]:
    return {
        "grantId": f"g-{inode_id}-{team_id}",
        "inodeId": inode_id,
        "inodeType": "workbook",
        "organizationId": ORG_ID,
        "memberId": None,
        "teamId": team_id,
        "permission": permission,
        **_audit(),
    }


def connection(connection_id: str, name: str, *, use_oauth: bool = False) -> dict[str, Any]:
    return {
        "organizationId": ORG_ID,
        "connectionId": connection_id,
        "name": name,
        "type": "snowflake",
        "isSample": False,
        "isAuditLog": False,
        "useOauth": use_oauth,
        "lastActiveAt": AT,
        "isArchived": False,
        **_audit(),
    }


WORKBOOK_ID = "2f1e0d9c-8b7a-4655-9443-322110ffeedd"
WORKBOOK_URL_ID = "4bq2ZtkLmV8xWn3pRs6HyA"
DATA_MODEL_ID = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
DATA_MODEL_URL_ID = "7dKf3LmQ9wZx2Rt5Vb8NcA"
CONNECTION_ID = "11111111-2222-3333-4444-555555555555"


def _default_teams() -> list[dict]:
    return [
        team("t-sales", "Sales"),
        team("t-fin", "Finance"),
        team("t-old", "Old", archived=True),
    ]


@dataclasses.dataclass
class DocumentSigma:
    """The organization's rows (document-shaped) and how it answers."""

    page_size: int = 2
    bare_lists: bool = False  # answer listTeams/listMembers as a bare array
    teams: list[dict] = dataclasses.field(default_factory=_default_teams)
    account_types: list[dict] = dataclasses.field(
        default_factory=lambda: [
            account_type("a-admin", "Admin"),
            account_type("a-build", "Build"),
            account_type("a-view", "View"),
            account_type("a-creator", "Creator", custom=True),
        ]
    )
    attributes: list[dict] = dataclasses.field(
        default_factory=lambda: [attribute("u-region", "region")]
    )
    members: list[dict] = dataclasses.field(
        default_factory=lambda: [
            member(OWNER_ID, "owner@example.com", "Admin"),
            member("m-carol", "carol@example.com", "Build"),
            member("m-alice", "alice@example.com", "View", kind="embed"),
            member("m-gone", "gone@example.com", "View", kind="embed", archived=True),
            member("m-idle", "idle@example.com", "View", kind="embed", inactive=True),
        ]
    )
    workbooks: list[dict] = dataclasses.field(
        default_factory=lambda: [
            workbook(WORKBOOK_ID, WORKBOOK_URL_ID, "Sales", tags=("prod",)),
            workbook(
                "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d",
                "OldWb1234567890abcdef",
                "Old",
                archived=True,
            ),
        ]
    )
    hidden_workbooks: set[str] = dataclasses.field(default_factory=set)  # Admins only
    pages: dict = dataclasses.field(
        default_factory=lambda: {
            (WORKBOOK_ID, None): [{"pageId": "Pg1", "name": "Overview"}],
            (WORKBOOK_ID, "prod"): [{"pageId": "PgTagged", "name": "Overview"}],
        }
    )
    elements: dict = dataclasses.field(
        default_factory=lambda: {
            (WORKBOOK_ID, "Pg1", None): [{"elementId": "El1", "name": "Chart", "type": "viz"}],
            (WORKBOOK_ID, "PgTagged", "prod"): [{"elementId": "ElTagged", "name": "Chart"}],
        }
    )
    grants: list[dict] = dataclasses.field(default_factory=lambda: [grant(WORKBOOK_ID, "t-sales")])
    data_models: list[dict] = dataclasses.field(
        default_factory=lambda: [
            data_model(DATA_MODEL_ID, DATA_MODEL_URL_ID, "Sales model"),
            data_model(
                "5b4c3d2e-1f0a-4b9c-8d7e-6f5a4b3c2d1e",
                "GoneDm1234567890abcd",
                "Gone",
                archived=True,
            ),
        ]
    )
    connections: list[dict] = dataclasses.field(
        default_factory=lambda: [connection(CONNECTION_ID, "Warehouse")]
    )
    owner_id: str = OWNER_ID
    requests: list[httpx.Request] = dataclasses.field(default_factory=list)
    operation_ids: list[str] = dataclasses.field(default_factory=list)

    # --- The HTTP side ----------------------------------------------------------

    def client(self, **options: Any) -> SigmaAPIClient:
        return SigmaAPIClient(
            base_url=BASE,
            client_id=CLIENT_ID,
            client_secret=SECRET,
            transport=httpx.MockTransport(self),
            sleep=lambda _seconds: None,
            **options,
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        spec = sigma_openapi()
        operation = spec.check_request(request)
        self.operation_ids.append(operation.operation_id)
        handler: Callable[[httpx.Request, list[str]], Any] | None = getattr(
            self, "_" + operation.operation_id, None
        )
        if handler is None:
            return httpx.Response(404, json={"code": "not_found", "message": "Not found"})
        ids = [part for part in request.url.path.split("/") if part][1:]
        body = handler(request, ids)
        if isinstance(body, httpx.Response):
            return body
        spec.check_response(operation, body)  # the fake never drifts from the document
        return httpx.Response(200, json=body)

    # --- Pagination -------------------------------------------------------------

    def _page(self, request: httpx.Request, rows: list[dict], *, bare: bool = False) -> Any:
        if bare:
            return rows
        query = request.url.params
        limit = min(int(float(query.get("limit", 50))), self.page_size)
        start = int(query.get("page") or 0)
        more = start + limit < len(rows)
        return {
            "entries": rows[start : start + limit],
            "nextPage": str(start + limit) if more else None,
            "hasMore": more,
            "total": len(rows),
        }

    def _token_page(self, request: httpx.Request, rows: list[dict]) -> dict[str, Any]:
        query = request.url.params
        size = min(int(query.get("pageSize", 50)), self.page_size)
        start = int(query.get("pageToken") or 0)
        body: dict[str, Any] = {"entries": rows[start : start + size]}
        if start + size < len(rows):
            body["nextPageToken"] = str(start + size)
        return body

    # --- Operations (named by operationId) -----------------------------------------

    def _postToken(self, request: httpx.Request, ids: list[str]) -> Any:
        form = parse_qs(request.content.decode())
        if form.get("client_id") != [CLIENT_ID] or form.get("client_secret") != [SECRET]:
            return httpx.Response(401, json={"code": "unauthorized", "message": "no"})
        return {"access_token": "document-bearer", "token_type": "bearer", "expires_in": 3600}

    def _whoami(self, request: httpx.Request, ids: list[str]) -> Any:
        return {"userId": self.owner_id, "organizationId": ORG_ID}

    def _getMember(self, request: httpx.Request, ids: list[str]) -> Any:
        found = next((m for m in self.members if m["memberId"] == ids[-1]), None)
        return found or httpx.Response(404, json={"code": "not_found", "message": "no"})

    def _deleteMember(self, request: httpx.Request, ids: list[str]) -> Any:
        found = next((m for m in self.members if m["memberId"] == ids[-1]), None)
        if found is None:
            return httpx.Response(404, json={"code": "not_found", "message": "no"})
        found["isArchived"] = True
        return {}

    def _listTeams(self, request: httpx.Request, ids: list[str]) -> Any:
        return self._page(request, self.teams, bare=self.bare_lists)

    def _listAccountTypes(self, request: httpx.Request, ids: list[str]) -> Any:
        if not self._owner_is_admin():
            return httpx.Response(403, json={"code": "forbidden", "message": "Admins only"})
        return self._token_page(request, self.account_types)

    def _listUserAttributes(self, request: httpx.Request, ids: list[str]) -> Any:
        return self._page(request, self.attributes)

    def _listMembers(self, request: httpx.Request, ids: list[str]) -> Any:
        query = request.url.params
        rows = [
            m
            for m in self.members
            if (query.get("includeArchived") == "true" or not m["isArchived"])
            and (query.get("includeInactive") == "true" or not m["isInactive"])
        ]
        if "email" in query:
            rows = [m for m in rows if m["email"].casefold() == query["email"].casefold()]
        return self._page(request, rows, bare=self.bare_lists)

    def _listWorkbooks(self, request: httpx.Request, ids: list[str]) -> Any:
        everything = request.url.params.get("skipPermissionCheck") == "true"
        if everything and not self._owner_is_admin():
            return httpx.Response(403, json={"code": "forbidden", "message": "Admins only"})
        rows = [
            w for w in self.workbooks if everything or w["workbookId"] not in self.hidden_workbooks
        ]
        return self._page(request, rows)

    def _listWorkbookPages(self, request: httpx.Request, ids: list[str]) -> Any:
        key = (ids[1], request.url.params.get("tag"))
        if key not in self.pages:
            return httpx.Response(404, json={"code": "not_found", "message": "no"})
        return self._page(request, self.pages[key])

    def _listWorkbookPageElements(self, request: httpx.Request, ids: list[str]) -> Any:
        key = (ids[1], ids[3], request.url.params.get("tag"))
        return self._page(request, self.elements.get(key, []))

    def _listGrants(self, request: httpx.Request, ids: list[str]) -> Any:
        inode = request.url.params.get("inodeId")
        return self._page(request, [g for g in self.grants if inode in (None, g["inodeId"])])

    def _listDataModels(self, request: httpx.Request, ids: list[str]) -> Any:
        return self._page(request, self.data_models)

    def _listConnections(self, request: httpx.Request, ids: list[str]) -> Any:
        return self._page(request, self.connections)

    def _owner_is_admin(self) -> bool:
        owner = next((m for m in self.members if m["memberId"] == self.owner_id), None)
        return owner is not None and owner["memberType"] == "Admin"


def answer_json(response: httpx.Response) -> Any:
    return json.loads(response.content)
