"""What an embed shows: the content a path names, who may see it, and which rows.

Reads only. Row-level security follows Sigma's rule (spec §1.2, §8): an element
filtered on a user attribute shows the rows matching the token's value; without
one, the attribute's default applies, and with no default nothing matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from .models import DataModel, Element, Member, Organization, Page, UserAttribute, Workbook
from .verify import Content

CHART_WIDTH = 480
BAR_HEIGHT = 22
BAR_GAP = 6
LABEL_WIDTH = 110


@dataclass(frozen=True)
class Resolved:
    """What a content path names in this organization.

    A workbook (all its pages, one page, or one element), a data model, or Ask
    Sigma (``kind`` "ask", open to every signed-in user).
    """

    kind: str
    name: str
    workbook: Workbook | None = None
    pages: list[Page] = field(default_factory=list)
    element: Element | None = None
    data_model: DataModel | None = None


def resolve(content: Content) -> Resolved | None:
    """The content at this path in this organization, or None (ENOENT)."""
    organization = Organization.current()
    if organization is None or organization.slug != content.org:
        return None
    # ``document`` is absent from older Content values: those are all workbooks.
    document = getattr(content, "document", "workbook")
    if document == "ask":
        return Resolved(kind="ask", name="Ask Sigma")
    if document == "data-model":
        model = DataModel.objects.filter(
            Q(url_id=content.workbook_id) | Q(data_model_id=content.workbook_id)
        ).first()
        return None if model is None else Resolved("data-model", model.name, data_model=model)
    if document != "workbook":
        return None
    # The browser and REST forms carry the workbookUrlId, the API syntax the workbookId.
    workbook = Workbook.objects.filter(
        Q(url_id=content.workbook_id) | Q(workbook_id=content.workbook_id), is_archived=False
    ).first()
    if workbook is None:
        return None
    pages = list(workbook.pages.all())
    if content.element_id:
        element = (
            Element.objects.select_related("page")
            .filter(element_id=content.element_id, page__workbook=workbook)
            .first()
        )
        if element is None:
            return None
        return Resolved("element", workbook.name, workbook, [element.page], element)
    if content.page_id:
        pages = [page for page in pages if page.page_id == content.page_id]
        if not pages:
            return None
    return Resolved("page" if content.page_id else "workbook", workbook.name, workbook, pages)


def can_view(resolved: Resolved, member: Member | None, claims: Mapping[str, Any]) -> bool:
    """Sigma's sharing rule (spec §7): the document is shared with one of the user's teams.

    Internal members use their own teams (and Admins and the owner see everything);
    embed users the teams their token names. Ask Sigma is open to everyone.
    """
    document = resolved.workbook or resolved.data_model
    if document is None:
        return True
    shared = set(document.shared_with.values_list("name", flat=True))
    if member is not None and member.kind == Member.Kind.INTERNAL:
        if member.is_admin or member.pk == document.owner_id:
            return True
        return bool(shared & set(member.teams.values_list("name", flat=True)))
    return bool(shared & set(claims.get("teams") or []))


def attribute_values(token_attributes: Mapping[str, str]) -> dict[str, str | None]:
    """Each defined attribute's value for this viewer: the token's, else the default."""
    values: dict[str, str | None] = {}
    for attribute in UserAttribute.objects.all():
        if attribute.name in token_attributes:
            values[attribute.name] = token_attributes[attribute.name]
        else:
            values[attribute.name] = attribute.default_value or None
    return values


def control_filters(workbook: Workbook, controls: Mapping[str, Any]) -> dict[str, set[str]]:
    """Column -> allowed values, from the URL control values the workbook has controls for.

    A value is the raw query value (``East,Central``) or a typed reading with a
    ``values`` list, as ``query.read_query`` gives.
    """
    filters: dict[str, set[str]] = {}
    for control in workbook.controls.all():
        raw = controls.get(control.control_id)
        if getattr(raw, "kind", None) == "range":
            # The emulator shows a range as it read it but filters no rows by it.
            continue
        items = getattr(raw, "values", None)
        if items is None:
            if raw is None or raw == ":null":
                continue
            items = str(raw).split(",")
        filters[control.column] = {"" if item == ":empty" else str(item) for item in items}
    return filters


@dataclass
class ElementView:
    """An element ready to render: its rows after security and controls, and its bars."""

    element: Element
    rows: list[list[Any]]
    bars: list[dict[str, Any]] = field(default_factory=list)
    chart_height: int = 0

    @property
    def is_chart(self) -> bool:
        return self.element.kind == Element.Kind.CHART


def visible_rows(
    element: Element,
    *,
    attributes: Mapping[str, str | None],
    filters: Mapping[str, set[str]],
) -> list[list[Any]]:
    """The element's rows this viewer may see, narrowed by the control values."""
    columns = list(element.columns)
    rows: Iterable[list[Any]] = element.rows
    if element.rls_attribute and element.rls_column in columns:
        index = columns.index(element.rls_column)
        value = attributes.get(element.rls_attribute)
        # No value and no default: Sigma shows no data rather than everything.
        rows = [row for row in rows if value is not None and str(row[index]) == value]
    for column, allowed in filters.items():
        if column in columns:
            index = columns.index(column)
            rows = [row for row in rows if str(row[index]) in allowed]
    return list(rows)


def chart_bars(element: Element, rows: list[list[Any]]) -> tuple[list[dict[str, Any]], int]:
    """Horizontal bars (SVG coordinates) summing the value column per label."""
    columns = list(element.columns)
    if element.chart_label not in columns or element.chart_value not in columns:
        return [], 0
    label_at, value_at = columns.index(element.chart_label), columns.index(element.chart_value)
    totals: dict[str, float] = {}
    for row in rows:
        totals[str(row[label_at])] = totals.get(str(row[label_at]), 0) + float(row[value_at])
    peak = max(totals.values(), default=0) or 1
    bars = []
    for position, (label, total) in enumerate(sorted(totals.items())):
        y = position * (BAR_HEIGHT + BAR_GAP)
        bars.append(
            {
                "label": label,
                "value": int(total) if total == int(total) else total,
                "y": y,
                "text_y": y + BAR_HEIGHT - 6,
                "width": max(int((CHART_WIDTH - LABEL_WIDTH - 60) * total / peak), 1),
                "value_x": LABEL_WIDTH + int((CHART_WIDTH - LABEL_WIDTH - 60) * total / peak) + 6,
            }
        )
    return bars, len(bars) * (BAR_HEIGHT + BAR_GAP)


def element_views(
    resolved: Resolved, *, token_attributes: Mapping[str, str], controls: Mapping[str, str]
) -> dict[int, list[ElementView]]:
    """Page pk -> its elements to render (one element only for an element embed)."""
    if resolved.workbook is None:
        return {}
    attributes = attribute_values(token_attributes)
    filters = control_filters(resolved.workbook, controls)
    by_page: dict[int, list[ElementView]] = {}
    for page in resolved.pages:
        elements = [resolved.element] if resolved.element else list(page.elements.all())
        views = []
        for element in elements:
            rows = visible_rows(element, attributes=attributes, filters=filters)
            view = ElementView(element=element, rows=rows)
            if view.is_chart:
                view.bars, view.chart_height = chart_bars(element, rows)
            views.append(view)
        by_page[page.pk] = views
    return by_page
