"""embeds.selectors: counts per day and embed, top users, refusal codes, in a window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from embeds.models import AccessRecord
from embeds.selectors import DayCount, UserActivity, activity_summary

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def record(when: datetime, *, slug="sales", user="alice", rule="") -> AccessRecord:
    return AccessRecord.objects.create(
        created_at=when,
        outcome=AccessRecord.Outcome.REFUSED if rule else AccessRecord.Outcome.ISSUED,
        rule=rule,
        source=AccessRecord.Source.PAGE,
        username=user,
        embed_slug=slug,
    )


@pytest.mark.django_db
def test_activity_counts_per_day_and_embed_with_empty_days_kept():
    record(NOW)
    record(NOW - timedelta(hours=1))
    record(NOW - timedelta(days=1), rule="no_team", user="bob")
    record(NOW - timedelta(days=2), slug="revenue")
    record(NOW - timedelta(days=3))  # outside a 3-day window
    record(NOW + timedelta(days=1))  # after the window (clock skew)

    activity = activity_summary(days=3, now=NOW)

    assert (activity.first_day, activity.last_day) == (date(2026, 11, 23), date(2026, 11, 25))
    assert (activity.issued, activity.refused) == (3, 1)
    sales, revenue = activity.embeds
    assert sales.slug == "sales"
    assert sales.days == (
        DayCount(date(2026, 11, 23), 0, 0),
        DayCount(date(2026, 11, 24), 0, 1),
        DayCount(date(2026, 11, 25), 2, 0),
    )
    assert (sales.issued, sales.refused, sales.busiest_day) == (2, 1, 2)
    assert revenue.days[0] == DayCount(date(2026, 11, 23), 1, 0)
    assert activity.refusals == (("no_team", 1),)


@pytest.mark.django_db
def test_activity_ranks_users_and_refusal_codes():
    for _ in range(3):
        record(NOW, user="alice")
    record(NOW, user="bob", rule="no_team")
    record(NOW, user="bob", rule="no_team")
    record(NOW, user="carol", rule="rate_limited")

    activity = activity_summary(days=1, now=NOW, top_users=2)

    assert activity.users == (UserActivity("alice", 3, 0), UserActivity("bob", 0, 2))
    assert activity.refusals == (("no_team", 2), ("rate_limited", 1))


@pytest.mark.django_db
def test_activity_is_two_queries_whatever_the_data(django_assert_num_queries):
    for n in range(20):
        record(NOW - timedelta(days=n % 5), slug=f"embed-{n % 4}", user=f"u{n}")
    with django_assert_num_queries(2):
        activity_summary(days=30, now=NOW)
