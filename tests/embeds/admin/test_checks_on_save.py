"""Saving a team, an embed or a user's mapping runs the remote checks of what was
saved and shows the findings as warnings; Sigma away is a notice, never a block."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from embeds.models import Embed, Team
from embeds.remote import usage as remote
from tests.sigma_org import EmulatorTransport

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_process_sigma(monkeypatch):
    original = remote.api_client
    monkeypatch.setattr(
        remote,
        "api_client",
        lambda credential=None, **options: original(
            credential, transport=EmulatorTransport(), **options
        ),
    )


def shown(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_saving_a_team_sigma_lacks_warns_with_r001(admin_client, sigma_org, in_process_sigma):
    response = admin_client.post(
        reverse("admin:embeds_team_add"), {"name": "Ghosts", "description": ""}, follow=True
    )

    assert Team.objects.filter(name="Ghosts").exists()
    warnings = [text for level, text in shown(response) if level == "warning"]
    assert len(warnings) == 1
    assert warnings[0].startswith("Sigma: embeds.R001 Team 'Ghosts' does not exist in Sigma")


def test_saving_a_team_sigma_has_warns_of_nothing(admin_client, sigma_org, in_process_sigma):
    response = admin_client.post(
        reverse("admin:embeds_team_add"), {"name": "Sales", "description": ""}, follow=True
    )

    assert [level for level, _ in shown(response)] == ["success"]


def test_saving_an_embed_shared_with_a_team_sigma_lacks_warns(
    admin_client, sigma_org, in_process_sigma, embed_factory
):
    embed = embed_factory(slug="ghostly", teams=["Ghosts"], credential=sigma_org)
    response = admin_client.get(reverse("admin:embeds_embed_change", args=[embed.pk]))
    form = response.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value not in (None, False) and not isinstance(value, list)
    }
    data.update(
        {
            "teams": [t.pk for t in embed.teams.all()],
            "credential": sigma_org.pk,
            "is_enabled": "on",
            "controls-TOTAL_FORMS": "0",
            "controls-INITIAL_FORMS": "0",
        }
    )
    response = admin_client.post(
        reverse("admin:embeds_embed_change", args=[embed.pk]), data, follow=True
    )

    warnings = [text for level, text in shown(response) if level == "warning"]
    assert any(text.startswith("Sigma: embeds.R001 Team 'Ghosts'") for text in warnings), shown(
        response
    )
    assert Embed.objects.filter(slug="ghostly").exists()


def test_sigma_unreachable_is_a_notice_and_the_team_is_saved(admin_client, sigma_org, settings):
    settings.SIGMA_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there

    response = admin_client.post(
        reverse("admin:embeds_team_add"), {"name": "Ghosts", "description": ""}, follow=True
    )

    assert Team.objects.filter(name="Ghosts").exists()
    levels = dict(shown(response))
    assert sorted(levels) == ["info", "success"]
    assert levels["info"].startswith("Not checked against Sigma: Sigma did not answer")


def test_without_a_rest_api_credential_nothing_is_asked(admin_client, monkeypatch):
    monkeypatch.setattr(remote, "api_client", lambda *a, **options: pytest.fail("asked Sigma"))

    response = admin_client.post(
        reverse("admin:embeds_team_add"), {"name": "Ghosts", "description": ""}, follow=True
    )

    assert [level for level, _ in shown(response)] == ["success"]


def test_check_against_sigma_on_the_embed_change_page(
    admin_client, sigma_org, in_process_sigma, embed_factory
):
    embed = embed_factory(slug="ghostly", teams=["Ghosts"], credential=sigma_org)
    change = admin_client.get(reverse("admin:embeds_embed_change", args=[embed.pk]))
    check_url = reverse("admin:embeds_embed_check", args=[embed.pk])
    assert (
        f'href="{check_url}" class="check-link">Check against Sigma</a>' in change.content.decode()
    )

    html = admin_client.get(check_url).content.decode()

    assert "embeds.R001" in html and "Ghosts" in html
    # Home › Sigma embeds › Embeds › the embed › Check against Sigma
    crumbs = html.split('<div class="breadcrumbs">', 1)[1].split("</div>", 1)[0]
    assert '">Sigma embeds</a>' in crumbs
    assert f'<a href="{reverse("admin:embeds_embed_changelist")}">Embeds</a>' in crumbs
    assert f'<a href="{reverse("admin:embeds_embed_change", args=[embed.pk])}">' in crumbs
    assert crumbs.rstrip().endswith("Check against Sigma")
