"""Signing activity from the audit trail: per day and embed, top users, refusal codes.

Read by the admin activity page (``embeds.admin.activity``). Two grouped queries
over a time window, whatever the size of the trail: one by (day, embed, outcome,
rule), one by user. Both read only columns of the ``accessrecord_activity``
index (PostgreSQL: ``created_at`` with the grouped columns INCLUDEd), so the
database answers from the index alone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from embeds.models import AccessRecord

ISSUED = AccessRecord.Outcome.ISSUED
REFUSED = AccessRecord.Outcome.REFUSED


@dataclass(frozen=True)
class DayCount:
    day: date
    issued: int
    refused: int


@dataclass(frozen=True)
class EmbedActivity:
    """One embed's issued and refused URLs on every day of the window (zeros kept)."""

    slug: str
    days: tuple[DayCount, ...]
    issued: int
    refused: int

    @property
    def busiest_day(self) -> int:
        return max((d.issued + d.refused for d in self.days), default=0)


@dataclass(frozen=True)
class UserActivity:
    username: str
    issued: int
    refused: int


@dataclass(frozen=True)
class Activity:
    first_day: date
    last_day: date
    embeds: tuple[EmbedActivity, ...]  # busiest first
    users: tuple[UserActivity, ...]  # busiest first
    refusals: tuple[tuple[str, int], ...]  # (code, count), most frequent first
    issued: int = 0
    refused: int = 0
    days: tuple[date, ...] = field(default=())


def activity_summary(*, days: int, now: datetime, top_users: int = 10) -> Activity:
    """Activity over the ``days`` UTC calendar days ending with ``now``'s day.

    Records without an embed (refused before one was found) are grouped under the
    slug they named, or "" when none.
    """
    last_day = now.astimezone(UTC).date()
    first_day = last_day - timedelta(days=days - 1)
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    until = since + timedelta(days=days)
    window = AccessRecord.objects.filter(created_at__gte=since, created_at__lt=until).order_by()

    per_day: dict[str, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    refusals: dict[str, int] = defaultdict(int)
    rows = (
        window.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values_list("day", "embed_slug", "outcome", "rule")
        .annotate(n=Count("*"))
    )
    for day, slug, outcome, rule, n in rows:
        per_day[slug][day][0 if outcome == ISSUED else 1] += n
        if outcome == REFUSED:
            refusals[rule] += n

    calendar = tuple(first_day + timedelta(days=i) for i in range(days))
    embeds = []
    for slug, counts in per_day.items():
        series = tuple(DayCount(d, *counts.get(d, (0, 0))) for d in calendar)
        embeds.append(
            EmbedActivity(
                slug=slug,
                days=series,
                issued=sum(c.issued for c in series),
                refused=sum(c.refused for c in series),
            )
        )
    embeds.sort(key=lambda e: (-(e.issued + e.refused), e.slug))

    users = (
        window.values_list("username")
        .annotate(
            issued=Count("outcome", filter=Q(outcome=ISSUED)),
            refused=Count("outcome", filter=Q(outcome=REFUSED)),
            total=Count("*"),
        )
        .order_by("-total", "username")[:top_users]
    )
    return Activity(
        first_day=first_day,
        last_day=last_day,
        embeds=tuple(embeds),
        users=tuple(UserActivity(name, issued, refused) for name, issued, refused, _ in users),
        refusals=tuple(sorted(refusals.items(), key=lambda item: (-item[1], item[0]))),
        issued=sum(e.issued for e in embeds),
        refused=sum(e.refused for e in embeds),
        days=calendar,
    )
