"""Token issuance per user is limited (SIGMA_RATE_LIMIT), on every path, in the cache."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from embeds import issuing
from embeds.exceptions import RateLimited
from embeds.issuing import ratelimit
from embeds.models import AccessRecord
from tests.conftest import CANARY_SECRET

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)  # 10 s into a 60 s window


@pytest.mark.parametrize(
    ("value", "expected"),
    [("60/60", ratelimit.Rate(60, 60)), (" 5/900 ", ratelimit.Rate(5, 900)), ("OFF", None)],
)
def test_parse_rate_reads_count_per_seconds(value, expected):
    assert ratelimit.parse_rate(value) == expected


@pytest.mark.parametrize("value", ["", "60", "0/60", "60/0", "-1/60", "a/b", "60/60/60", "1e3/60"])
def test_parse_rate_refuses_bad_value_naming_setting_only(value):
    with pytest.raises(ImproperlyConfigured) as caught:
        ratelimit.parse_rate(value, setting="SIGMA_RATE_LIMIT")
    assert str(caught.value) == (
        "Setting SIGMA_RATE_LIMIT is not a rate. Use count/seconds with both above 0, "
        "e.g. 60/60, or off."
    )


def test_hit_counts_within_window_and_restarts_in_next():
    rate = ratelimit.Rate(3, 60)
    t = NOW.timestamp()
    counts = [ratelimit.hit("t", "u1", rate, now=t).count for _ in range(4)]
    assert counts == [1, 2, 3, 4]
    state = ratelimit.hit("t", "u1", rate, now=t)
    assert state.exceeded and state.retry_after == 50
    assert ratelimit.hit("t", "u1", rate, now=t + 50).count == 1  # next window
    assert ratelimit.hit("t", "u2", rate, now=t).count == 1  # other identity


@pytest.mark.django_db
def test_issue_embed_url_refuses_past_limit_and_records_refusal(settings, alice, embed_factory):
    settings.SIGMA_RATE_LIMIT = "3/60"
    embed = embed_factory()
    for _ in range(3):
        issuing.issue_embed_url(user=alice, embed=embed, source=AccessRecord.Source.PAGE, now=NOW)
    with pytest.raises(RateLimited) as caught:
        issuing.issue_embed_url(user=alice, embed=embed, source=AccessRecord.Source.PAGE, now=NOW)
    assert caught.value.retry_after == 50
    assert caught.value.user_message == (
        "Too many pieces of content were opened in a short time. Wait a minute and try again."
    )
    refused = AccessRecord.objects.get(outcome=AccessRecord.Outcome.REFUSED)
    assert (refused.rule, refused.user, refused.embed, refused.jti) == (
        "rate_limited",
        alice,
        embed,
        "",
    )
    assert AccessRecord.objects.filter(outcome=AccessRecord.Outcome.ISSUED).count() == 3


@pytest.mark.django_db
def test_issue_rate_counts_per_user(settings, alice, user_factory, embed_factory):
    settings.SIGMA_RATE_LIMIT = "1/60"
    carol = user_factory("carol", teams=["Sales"])
    embed = embed_factory()
    issuing.issue_embed_url(user=alice, embed=embed, source=AccessRecord.Source.PAGE, now=NOW)
    issuing.issue_embed_url(user=carol, embed=embed, source=AccessRecord.Source.PAGE, now=NOW)
    with pytest.raises(RateLimited):
        issuing.issue_embed_url(user=alice, embed=embed, source=AccessRecord.Source.PAGE, now=NOW)


@pytest.mark.django_db
def test_issue_rate_counts_refused_attempts(settings, bob, embed_factory):
    settings.SIGMA_RATE_LIMIT = "2/60"
    embed = embed_factory()
    rules = []
    for _ in range(3):
        try:
            issuing.issue_embed_url(user=bob, embed=embed, source=AccessRecord.Source.PAGE, now=NOW)
        except Exception as exc:  # noqa: BLE001
            rules.append(exc.code)
    assert rules == ["no_team", "no_team", "rate_limited"]


@pytest.mark.django_db
def test_preview_counts_against_the_admin_not_the_user(settings, alice, admin_user, embed_factory):
    settings.SIGMA_RATE_LIMIT = "1/60"
    embed = embed_factory()
    issuing.issue_embed_url(
        user=alice, embed=embed, source=AccessRecord.Source.PREVIEW, actor=admin_user, now=NOW
    )
    # alice's own budget is untouched by the admin's preview ...
    issuing.issue_embed_url(user=alice, embed=embed, source=AccessRecord.Source.PAGE, now=NOW)
    # ... and the admin's is spent.
    with pytest.raises(RateLimited):
        issuing.issue_embed_url(
            user=alice, embed=embed, source=AccessRecord.Source.PREVIEW, actor=admin_user, now=NOW
        )


@pytest.mark.django_db
def test_rate_limit_off_never_refuses(settings, alice, embed_factory):
    settings.SIGMA_RATE_LIMIT = "off"
    embed = embed_factory()
    for _ in range(5):
        issuing.issue_embed_url(user=alice, embed=embed, source=AccessRecord.Source.PAGE, now=NOW)
    assert AccessRecord.objects.filter(outcome="issued").count() == 5


BURST = 100


@pytest.mark.django_db
def test_embed_page_burst_gets_friendly_429_with_retry_after(
    settings, client, alice, embed_factory
):
    """A burst of 100 page views at 60/60: exactly 60 signed, 40 friendly 429s."""
    settings.SIGMA_RATE_LIMIT = "60/60"
    embed = embed_factory()
    client.force_login(alice)
    statuses = []
    last = None
    for _ in range(BURST):
        last = client.get(embed.get_absolute_url())
        statuses.append(last.status_code)
    issued, limited = statuses.count(200), statuses.count(429)
    print(
        f"\nburst of {BURST} page views at SIGMA_RATE_LIMIT=60/60: {issued} signed, {limited} x 429"
    )
    # The window may roll over once during the burst; at most 2 x 60 then pass.
    assert issued + limited == BURST
    assert 60 <= issued <= 120
    assert statuses[:60] == [200] * 60
    assert last.status_code == 429 or issued > 60
    limited_response = next(
        r for r in [client.get(embed.get_absolute_url()) for _ in range(61)] if r.status_code == 429
    )
    html = limited_response.content.decode()
    assert 1 <= int(limited_response["Retry-After"]) <= 60
    assert "Too many pieces of content were opened in a short time." in html
    assert "Wait a minute and try again." in html
    assert ":jwt=" not in html
    assert CANARY_SECRET not in html
    assert AccessRecord.objects.filter(rule="rate_limited").count() >= limited


CHILD = """
import os, sys, django
django.setup()
from embeds.issuing import ratelimit
rate = ratelimit.Rate(50, 3600)
allowed = sum(not ratelimit.hit("proc-test", sys.argv[1], rate, now=float(sys.argv[2])).exceeded
              for _ in range(30))
print(allowed)
"""


@pytest.mark.skipif(
    not os.environ.get("CACHE_URL", "").startswith("redis"),
    reason="needs a shared cache: run with CACHE_URL=redis://... (CI's second pass does)",
)
def test_limit_holds_across_processes_with_shared_cache():
    """Four processes x 30 hits against one 50/3600 limit: exactly 50 get through."""
    ident = f"proc-{os.getpid()}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    procs = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", CHILD, ident, "1000000.0"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    allowed = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        allowed.append(int(out.strip()))
    print(f"\n4 processes x 30 hits at 50/3600 over Redis: {sum(allowed)} allowed {allowed}")
    assert sum(allowed) == 50
