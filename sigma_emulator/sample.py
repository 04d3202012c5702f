"""The sample organization: who is in it, and a workbook of sales data.

Idempotent: ``seed_organization`` can run again and leaves one of everything. The
ids match the host's demo embeds (``seed_demo``) and the emulator tests.
"""

from __future__ import annotations

from django.db import transaction

from .models import (
    AccountType,
    Connection,
    Control,
    DataModel,
    Element,
    Organization,
    Page,
    Team,
    UserAttribute,
    Workbook,
)
from .services import ensure_member

ORG_ADMIN = "admin@example.com"
WORKBOOK_URL_ID = "4bq2ZtkLmV8xWn3pRs6HyA"
WORKBOOK_NAME = "Sales Overview"
OVERVIEW_PAGE_ID = "GHs4vJQxig"
DETAILS_PAGE_ID = "3LYCS8UtIU"
SALES_TABLE_ID = "bAGJb_-0AS"
REVENUE_CHART_ID = "kx7Qe_2-Lm"
ORDERS_TABLE_ID = "Pq8Lm3Zt0w"
DATA_MODEL_URL_ID = "7dKf3LmQ9wZx2Rt5Vb8NcA"
CONNECTION_ID = "5e0b3f4c-2a7d-4e8b-9c1f-0d6a2b7e9f31"

ACCOUNT_TYPES = (
    ("Admin", "Full access, including Administration", True, False),
    ("Build", "Create and edit workbooks", False, False),
    ("View", "View and explore shared content", False, False),
)
TEAMS = (
    ("Sales", "Embed team: the sales dashboards"),
    ("Marketing", "Embed team: campaign reports"),
)
SALES_COLUMNS = ["Region", "Product", "Revenue"]
SALES_ROWS = [
    ["West", "Widgets", 1200],
    ["West", "Gadgets", 800],
    ["East", "Widgets", 950],
    ["East", "Gizmos", 400],
    ["Central", "Gadgets", 650],
    ["Central", "Widgets", 300],
    ["South", "Gizmos", 720],
]
ORDER_COLUMNS = ["Order", "Region", "Customer", "Amount"]
ORDER_ROWS = [
    ["SO-1001", "West", "Acme Corp", 420],
    ["SO-1002", "East", "Globex", 310],
    ["SO-1003", "West", "Initech", 150],
    ["SO-1004", "Central", "Umbrella", 275],
    ["SO-1005", "South", "Hooli", 640],
]

# element id, page id, position, name, kind, columns, rows, (chart label, chart value)
ELEMENTS = (
    (SALES_TABLE_ID, OVERVIEW_PAGE_ID, 0, "Sales by region", Element.Kind.TABLE,
     SALES_COLUMNS, SALES_ROWS, ("", "")),
    (REVENUE_CHART_ID, OVERVIEW_PAGE_ID, 1, "Revenue by region", Element.Kind.CHART,
     SALES_COLUMNS, SALES_ROWS, ("Product", "Revenue")),
    (ORDERS_TABLE_ID, DETAILS_PAGE_ID, 0, "Orders", Element.Kind.TABLE,
     ORDER_COLUMNS, ORDER_ROWS, ("", "")),
)  # fmt: skip


@transaction.atomic
def seed_organization(*, slug: str = "demo-org", name: str = "Demo organization") -> Workbook:
    """Create or refresh the sample organization; return its sales workbook."""
    organization = Organization.current()
    if organization is None:
        Organization.objects.create(slug=slug, name=name)
    elif organization.slug != slug:
        organization.slug, organization.name = slug, name
        organization.save(update_fields=["slug", "name"])
    for type_name, description, is_admin, is_custom in ACCOUNT_TYPES:
        AccountType.objects.update_or_create(
            name=type_name,
            defaults={"description": description, "is_admin": is_admin, "is_custom": is_custom},
        )
    admin = ensure_member(
        email=ORG_ADMIN, account_type="Admin", first_name="Ada", last_name="Admin"
    )
    ensure_member(
        email="analyst@example.com", account_type="Build", first_name="Ann", last_name="Analyst"
    )
    teams = {}
    for team_name, description in TEAMS:
        teams[team_name], _ = Team.objects.get_or_create(
            name=team_name, defaults={"description": description}
        )
    UserAttribute.objects.get_or_create(
        name="region", defaults={"description": "Row-level security: the sales region"}
    )
    connection, _ = Connection.objects.get_or_create(
        connection_id=CONNECTION_ID, defaults={"name": "Sample warehouse", "type": "snowflake"}
    )
    Connection.objects.get_or_create(name="Sigma Sample Database", defaults={"is_sample": True})
    data_model, _ = DataModel.objects.get_or_create(
        url_id=DATA_MODEL_URL_ID, defaults={"name": "Sales model", "owner": admin}
    )
    data_model.shared_with.add(teams["Sales"])
    workbook, _ = Workbook.objects.update_or_create(
        url_id=WORKBOOK_URL_ID,
        defaults={"name": WORKBOOK_NAME, "owner": admin, "connection": connection},
    )
    workbook.shared_with.add(teams["Sales"])
    overview, _ = Page.objects.update_or_create(
        page_id=OVERVIEW_PAGE_ID, defaults={"workbook": workbook, "name": "Overview", "position": 0}
    )
    details, _ = Page.objects.update_or_create(
        page_id=DETAILS_PAGE_ID, defaults={"workbook": workbook, "name": "Details", "position": 1}
    )
    pages = {OVERVIEW_PAGE_ID: overview, DETAILS_PAGE_ID: details}
    for element_id, page_id, position, name, kind, columns, rows, chart in ELEMENTS:
        Element.objects.update_or_create(
            element_id=element_id,
            defaults={
                "page": pages[page_id],
                "position": position,
                "name": name,
                "kind": kind,
                "columns": columns,
                "rows": rows,
                "chart_label": chart[0],
                "chart_value": chart[1],
                # Row-level security: each viewer sees their own region's rows.
                "rls_attribute": "region",
                "rls_column": "Region",
            },
        )
    Control.objects.get_or_create(
        workbook=workbook, control_id="Region", defaults={"column": "Region"}
    )
    return workbook
