"""Embed admin: URL validation messages, parsed kind, filters, bulk actions, kill switch."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from embeds.admin.common import MSG_REASON_REQUIRED
from embeds.admin.embeds import HELP_HIDE_MENU, MSG_DISABLED_REASON, MSG_HIDE_MENU_WITHOUT_MENU
from embeds.admin.registry import MSG_NAME_WHITESPACE
from embeds.models import AccessRecord, Embed, Team
from embeds.protocol.validators import (
    MSG_BAD_PATH,
    MSG_HOST_NOT_ALLOWED,
    MSG_LEGACY_EMBED,
    MSG_NOT_HTTPS,
    MSG_QUERY,
)
from tests.conftest import CANARY_SECRET, WORKBOOK_URL

ADD_URL = reverse("admin:embeds_embed_add")
CHANGELIST_URL = reverse("admin:embeds_embed_changelist")
ELEMENT_URL = f"{WORKBOOK_URL}/element/kx7Qe_2-Lm"
PAGE_URL = f"{WORKBOOK_URL}/page/Pg4"


def embed_payload(credential, team, **overrides) -> dict:
    data = {
        "title": "Pipeline",
        "slug": "pipeline",
        "url": WORKBOOK_URL,
        "credential": credential.pk,
        "teams": [team.pk],
        "token_ttl": "3600",
        "is_enabled": "on",
        "disabled_reason": "",
        "theme": "",
        "menu_position": "",
        "language": "",
        "controls-TOTAL_FORMS": "0",
        "controls-INITIAL_FORMS": "0",
        "controls-MIN_NUM_FORMS": "0",
        "controls-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (WORKBOOK_URL.replace("https://", "http://"), MSG_NOT_HTTPS),
        (
            "https://evil.example.com/acme/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA",
            MSG_HOST_NOT_ALLOWED
            % {
                "origin": "https://evil.example.com",
                "allowed": "https://app.sigmacomputing.com, http://127.0.0.1:8001",
            },
        ),
        ("https://app.sigmacomputing.com/embed/1-2x3y4z", MSG_LEGACY_EMBED),
        (f"{WORKBOOK_URL}?:nodeId=abc", MSG_QUERY),
        ("https://app.sigmacomputing.com/acme/folder/Sales", MSG_BAD_PATH),
    ],
)
def test_embed_url_refused_with_message_naming_the_problem(
    admin_client, credential_factory, team_factory, url, message
):
    response = admin_client.post(
        ADD_URL, embed_payload(credential_factory(), team_factory("Sales"), url=url)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"] == [message]
    assert not Embed.objects.exists()
    assert CANARY_SECRET not in response.content.decode()


def test_embed_added_with_valid_url_and_logged(admin_client, credential_factory, team_factory):
    response = admin_client.post(
        ADD_URL, embed_payload(credential_factory(), team_factory("Sales"), url=ELEMENT_URL)
    )

    assert response.status_code == 302
    embed = Embed.objects.get(slug="pipeline")
    assert embed.url == ELEMENT_URL
    assert LogEntry.objects.get(object_id=str(embed.pk)).is_addition()


def test_disabling_embed_in_form_requires_a_reason(admin_client, credential_factory, team_factory):
    response = admin_client.post(
        ADD_URL,
        embed_payload(credential_factory(), team_factory("Sales"), is_enabled=""),
    )

    assert response.context["adminform"].form.errors["disabled_reason"] == [MSG_DISABLED_REASON]


@pytest.mark.parametrize(
    ("menu_position", "warned"),
    [("", True), ("none", True), ("top", False), ("bottom", False)],
)
def test_hide_menu_without_a_top_or_bottom_menu_is_saved_with_a_warning(
    admin_client, credential_factory, team_factory, menu_position, warned
):
    """Sigma ignores hide_menu unless menu_position is top or bottom (JWT "Embed URL
    parameters"); the combination is not refused, so the admin only warns."""
    payload = embed_payload(
        credential_factory(), team_factory("Sales"), menu_position=menu_position, hide_menu="on"
    )

    response = admin_client.post(ADD_URL, payload, follow=True)

    embed = Embed.objects.get(slug="pipeline")
    assert (embed.hide_menu, embed.menu_position) == (True, menu_position)
    shown = [str(message) for message in response.context["messages"]]
    assert (MSG_HIDE_MENU_WITHOUT_MENU in shown) is warned


def test_hide_menu_help_text_names_the_menu_positions_it_needs(admin_client):
    html = admin_client.get(ADD_URL).content.decode()

    assert HELP_HIDE_MENU in html


@pytest.mark.parametrize(
    ("url", "kind"), [(WORKBOOK_URL, "workbook"), (PAGE_URL, "page"), (ELEMENT_URL, "element")]
)
def test_embed_change_page_shows_kind_and_workbook_id(admin_client, embed_factory, url, kind):
    embed = embed_factory(url=url)

    response = admin_client.get(reverse("admin:embeds_embed_change", args=[embed.pk]))

    html = response.content.decode()
    assert f'<div class="readonly">{kind}</div>' in html
    assert '<div class="readonly">4bq2ZtkLmV8xWn3pRs6HyA</div>' in html
    assert 'name="theme"' in html and 'list="sigma-themes"' in html
    assert '<select name="menu_position"' in html
    assert CANARY_SECRET not in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "element"}, ["Element"]),
        ({"kind": "page"}, ["Page"]),
        ({"kind": "workbook"}, ["Workbook"]),
        ({"q": "elem-slug"}, ["Element"]),
        ({"q": "/page/"}, ["Page"]),
        ({"q": "wb-slug"}, ["Workbook"]),
    ],
)
def test_embed_changelist_filters_by_kind_and_searches(
    admin_client, embed_factory, params, expected
):
    embed_factory(title="Workbook", slug="wb-slug", url=WORKBOOK_URL)
    embed_factory(title="Page", slug="page-slug", url=PAGE_URL)
    embed_factory(title="Element", slug="elem-slug", url=ELEMENT_URL)

    response = admin_client.get(CHANGELIST_URL, params)

    assert [e.title for e in response.context["cl"].result_list] == expected


def test_embed_changelist_filters_by_credential_and_team(
    admin_client, embed_factory, credential_factory
):
    other = credential_factory(name="Other")
    embed_factory(title="Sales one", teams=["Sales"])
    embed_factory(title="Marketing one", teams=["Marketing"], credential=other)
    marketing = Team.objects.get(name="Marketing")

    by_credential = admin_client.get(CHANGELIST_URL, {"credential__id__exact": other.pk})
    by_team = admin_client.get(CHANGELIST_URL, {"teams__id__exact": marketing.pk})

    assert [e.title for e in by_credential.context["cl"].result_list] == ["Marketing one"]
    assert [e.title for e in by_team.context["cl"].result_list] == ["Marketing one"]


def action(name: str, *objects, **extra) -> dict:
    return {"action": name, ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra}


def test_switch_credential_action_confirms_then_moves_embeds(
    admin_client, embed_factory, credential_factory, alice
):
    old = credential_factory(name="Old")
    new = credential_factory(name="New")
    first = embed_factory(title="First", credential=old)
    second = embed_factory(title="Second", credential=old)

    confirm = admin_client.post(CHANGELIST_URL, action("switch_credential", first, second))
    assert [(r["embed"].title, r["users"]) for r in confirm.context["rows"]] == [
        ("First", 1),
        ("Second", 1),
    ]
    response = admin_client.post(
        CHANGELIST_URL,
        action("switch_credential", first, second, post="yes", credential=new.pk),
        follow=True,
    )

    assert "2 embeds now sign with New (client-" in response.content.decode()
    assert set(Embed.objects.values_list("credential__name", flat=True)) == {"New"}
    entry = LogEntry.objects.filter(object_id=str(first.pk)).get()
    assert entry.get_change_message() == (
        f"Signs with credential New ({new.client_id}) (was Old ({old.client_id}))."
    )


def test_switch_credential_offers_only_active_credentials(
    admin_client, admin_user, embed_factory, credential_factory
):
    from embeds import services

    revoked = services.revoke_credential(
        credential=credential_factory(name="Revoked"), actor=admin_user, reason="old"
    )
    embed = embed_factory()

    response = admin_client.post(
        CHANGELIST_URL, action("switch_credential", embed, post="yes", credential=revoked.pk)
    )

    assert response.context["form"].errors["credential"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    embed.refresh_from_db()
    assert embed.credential.name != "Revoked"


def test_disable_action_is_a_kill_switch_for_the_next_request(
    admin_client, client, embed_factory, alice
):
    embed = embed_factory()

    missing = admin_client.post(CHANGELIST_URL, action("disable_selected", embed, post="yes"))
    assert missing.context["form"].errors["reason"] == [MSG_REASON_REQUIRED]
    admin_client.post(
        CHANGELIST_URL, action("disable_selected", embed, post="yes", reason="Wrong numbers")
    )

    embed.refresh_from_db()
    assert not embed.is_enabled
    assert embed.disabled_reason == "Wrong numbers"
    client.force_login(alice)
    assert client.get(embed.get_absolute_url()).status_code == 503
    assert AccessRecord.objects.filter(rule="embed_disabled").count() == 1

    admin_client.post(CHANGELIST_URL, action("enable_selected", embed))
    embed.refresh_from_db()
    assert embed.is_enabled and embed.disabled_reason == ""
    assert client.get(embed.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("model", ["team", "accounttype", "userattribute"])
def test_registry_names_refuse_surrounding_spaces(admin_client, model):
    response = admin_client.post(
        reverse(f"admin:embeds_{model}_add"), {"name": "Sales ", "description": ""}
    )

    assert response.context["adminform"].form.errors["name"] == [
        MSG_NAME_WHITESPACE % {"name": "Sales "}
    ]


def test_user_attribute_registry_refuses_names_sigma_rejects(admin_client):
    from embeds.protocol.validators import MSG_ATTRIBUTE_NAME

    response = admin_client.post(
        reverse("admin:embeds_userattribute_add"), {"name": "1region", "description": ""}
    )

    assert response.context["adminform"].form.errors["name"] == [MSG_ATTRIBUTE_NAME]


def test_the_2025_2026_interface_options_are_saved_from_the_admin(
    admin_client, credential_factory, team_factory
):
    flags = ["hide_bookmarks", "hide_explore_toggle", "hide_element_interactions"]
    flags += ["hide_schedule", "hide_send", "hide_save_as"]
    response = admin_client.post(
        ADD_URL,
        embed_payload(
            credential_factory(),
            team_factory("Sales"),
            language="fr-ca",
            lng_variant="Custom Québécois",
            **dict.fromkeys(flags, "on"),
        ),
    )

    assert response.status_code == 302
    embed = Embed.objects.get(slug="pipeline")
    assert all(getattr(embed, flag) for flag in flags)
    assert embed.lng_variant == "Custom Québécois"


def test_a_translation_variant_needs_a_language(admin_client, credential_factory, team_factory):
    response = admin_client.post(
        ADD_URL,
        embed_payload(credential_factory(), team_factory("Sales"), lng_variant="Custom"),
    )

    assert response.context["adminform"].form.errors["lng_variant"] == [
        "A translation variant needs a language: set the language too."
    ]
    assert not Embed.objects.exists()


def test_the_admin_says_which_option_is_outside_sigmas_jwt_table(admin_client):
    html = admin_client.get(ADD_URL).content.decode()

    assert "except disable_mobile_view and hide_page_controls, which are outside" in html
    for removed in ("hide_title", "hide_reload_button", "hide_view_select"):
        assert f'name="{removed}"' not in html


def test_new_embed_form_starts_with_responsive_height(admin_client):
    response = admin_client.get(reverse("admin:embeds_embed_add"))
    assert response.context["adminform"].form.initial["responsive_height"] is True
    html = response.content.decode()
    assert re.search(r"<input type=\"checkbox\" name=\"responsive_height\"[^>]* checked>", html)
