"""The 2025-2026 interface options and date forms, issued by the host and read by the
emulator (issue 20; docs/sigma-protocol.md "Interface options", "Typed control values")."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from embeds import issuing
from embeds.models import AccessRecord, EmbedControl
from embeds.protocol.constants import REMOVED_OPTIONS
from embeds.protocol.signing import redact_url
from sigma_emulator.verify import ControlReading, read_query
from sigma_emulator.views import interface

pytestmark = [pytest.mark.spec("2.2"), pytest.mark.django_db]

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
NEW_FLAGS = (
    "hide_bookmarks",
    "hide_explore_toggle",
    "hide_element_interactions",
    "hide_schedule",
    "hide_send",
    "hide_save_as",
)


def issue(user, embed):
    return issuing.issue_embed_url(user=user, embed=embed, source=AccessRecord.Source.PAGE, now=NOW)


def test_all_seven_new_options_and_an_open_relative_range_reach_sigma(alice, embed_factory):
    embed = embed_factory(language="fr-ca", lng_variant="Custom Québécois")
    for flag in NEW_FLAGS:
        setattr(embed, flag, True)
    embed.save()
    EmbedControl.objects.create(
        embed=embed, control_id="Period", type="date_range", default_value="min:prior-day-3,max:"
    )

    url = issue(alice, embed).url
    options, controls = read_query(urlsplit(url).query)

    query = redact_url(url).split("?", 1)[1]
    assert query.endswith(
        "&:lng=fr-ca&:lng_variant=Custom%20Qu%C3%A9b%C3%A9cois"
        "&:hide_bookmarks=true&:hide_explore_toggle=true&:hide_element_interactions=true"
        "&:hide_schedule=true&:hide_send=true&:hide_save_as=true&Period=min:prior-day-3,max:"
    )
    assert controls == {
        "Period": ControlReading("range", ends=(("min", "prior-day-3"), ("max", "")))
    }
    ui = interface(options)
    assert all(ui[flag] for flag in NEW_FLAGS)
    assert (ui["lng"], ui["lng_variant"]) == ("fr-ca", "Custom Québécois")
    assert ui["ignored"] == []


def test_a_variant_is_never_sent_without_its_language(alice, embed_factory):
    embed = embed_factory()
    embed.lng_variant = "Custom"  # saved around clean(), as an old row could be

    url = issue(alice, embed).url

    assert ":lng_variant" not in url


def test_removed_options_are_no_longer_fields(embed_factory):
    embed = embed_factory()

    assert not any(hasattr(embed, name) for name in REMOVED_OPTIONS)
