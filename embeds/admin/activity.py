"""The admin activity page: signed URLs issued and refused per day and embed.

``/admin/embeds/accessrecord/activity/`` (linked from the access records list), for
anyone who may view access records. Charts are SVG drawn here, on the server: the
admin's Content Security Policy allows no inline script, and no chart needs one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern
from django.utils import timezone

from embeds.admin.common import AdminMixin, admin_pages
from embeds.selectors import Activity, EmbedActivity, activity_summary

WINDOWS = (7, 30, 90)  # days offered on the page
DEFAULT_WINDOW = 30
TOP_EMBEDS = 12  # charts drawn; the rest are summed in the table only
CHART_WIDTH, CHART_HEIGHT, BAR_GAP = 720, 80, 2  # bars share the width, at least 4 px

_ModelT = TypeVar("_ModelT", bound=Model)


@dataclass(frozen=True)
class Bar:
    x: int
    issued_y: float
    issued_height: float
    refused_y: float
    refused_height: float
    label: str


@dataclass(frozen=True)
class Chart:
    slug: str
    issued: int
    refused: int
    busiest_day: int
    width: int
    height: int
    bar_width: int
    bars: tuple[Bar, ...]


def chart_for(embed: EmbedActivity) -> Chart:
    """Stacked bars (issued below, refused above), scaled to the embed's busiest day."""
    scale = CHART_HEIGHT / embed.busiest_day if embed.busiest_day else 0.0
    slot = max(CHART_WIDTH // max(len(embed.days), 1), 4 + BAR_GAP)
    bars = []
    for position, day in enumerate(embed.days):
        issued_height = day.issued * scale
        refused_height = day.refused * scale
        bars.append(
            Bar(
                x=position * slot,
                issued_y=CHART_HEIGHT - issued_height,
                issued_height=issued_height,
                refused_y=CHART_HEIGHT - issued_height - refused_height,
                refused_height=refused_height,
                label=f"{day.day:%Y-%m-%d}: {day.issued} issued, {day.refused} refused",
            )
        )
    return Chart(
        slug=embed.slug,
        issued=embed.issued,
        refused=embed.refused,
        busiest_day=embed.busiest_day,
        width=len(bars) * slot,
        height=CHART_HEIGHT,
        bar_width=slot - BAR_GAP,
        bars=tuple(bars),
    )


def chosen_window(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", DEFAULT_WINDOW))
    except ValueError:
        return DEFAULT_WINDOW
    return days if days in WINDOWS else DEFAULT_WINDOW


class ActivityAdminMixin(AdminMixin[_ModelT]):
    """Adds the activity page to the AccessRecord admin."""

    def get_urls(self) -> list[URLPattern]:
        return [
            *admin_pages(self, ("activity/", self.activity_view, "embeds_accessrecord_activity")),
            *super().get_urls(),
        ]

    def activity_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        days = chosen_window(request)
        activity: Activity = activity_summary(days=days, now=timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "title": "Signing activity",
            "opts": self.model._meta,
            "activity": activity,
            "charts": [chart_for(embed) for embed in activity.embeds[:TOP_EMBEDS]],
            "more_embeds": activity.embeds[TOP_EMBEDS:],
            "days": days,
            "windows": WINDOWS,
        }
        return TemplateResponse(request, "admin/embeds/accessrecord/activity.html", context)
