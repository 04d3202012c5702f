"""Rules every signing path shares (embeds.issuing.access): deactivated users, preview tokens."""

from __future__ import annotations

from io import StringIO

import jwt
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from embeds import issuing
from embeds.exceptions import UserInactive
from embeds.issuing.access import token_lifetime
from embeds.models import AccessRecord
from tests.conftest import CANARY_SECRET

PREVIEW_URL = reverse("admin:embeds_embed_preview")


@pytest.fixture
def deactivated_alice(alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    return alice


def preview_claims(client, user, embed) -> dict:
    response = client.post(PREVIEW_URL, {"user": user.pk, "embed": embed.pk})
    assert response.status_code == 200
    url = response.context["result"]["signed"].url
    token = url.split(":jwt=")[1].split("&")[0]
    return jwt.decode(token, CANARY_SECRET, algorithms=["HS256"], audience="sigmacomputing")


@pytest.mark.parametrize("source", [choice for choice, _ in AccessRecord.Source.choices])
@pytest.mark.django_db
def test_every_signing_path_refuses_a_deactivated_user_with_one_code(
    deactivated_alice, admin_user, embed_factory, source
):
    embed = embed_factory()
    actor = admin_user if source == AccessRecord.Source.PREVIEW else None
    with pytest.raises(UserInactive) as refused:
        issuing.issue_embed_url(user=deactivated_alice, embed=embed, source=source, actor=actor)
    assert refused.value.code == "user_inactive"
    record = AccessRecord.objects.get()
    assert (record.outcome, record.rule, record.source) == (
        AccessRecord.Outcome.REFUSED,
        "user_inactive",
        source,
    )


@pytest.mark.django_db
def test_preview_of_a_deactivated_user_is_refused_with_the_rule(
    admin_client, deactivated_alice, embed_factory
):
    embed = embed_factory()
    response = admin_client.post(PREVIEW_URL, {"user": deactivated_alice.pk, "embed": embed.pk})
    html = response.content.decode()
    assert response.context["result"]["allowed"] is False
    assert response.context["result"]["refusal"].code == "user_inactive"
    assert UserInactive.message in html
    assert ":jwt=" not in html


@pytest.mark.django_db
def test_sigma_embed_url_refuses_a_deactivated_user(deactivated_alice, embed_factory):
    embed = embed_factory()
    out = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("sigma_embed_url", "--user", "alice", "--embed", embed.slug, stdout=out)
    assert str(refused.value).startswith(f"Refused (user_inactive): {UserInactive.message}")
    assert out.getvalue() == ""


@pytest.mark.django_db
def test_reactivated_user_signs_again(deactivated_alice, embed_factory):
    deactivated_alice.is_active = True
    deactivated_alice.save(update_fields=["is_active"])
    signed = issuing.issue_embed_url(
        user=deactivated_alice, embed=embed_factory(), source=AccessRecord.Source.PAGE
    )
    assert signed.claims["sub"] == "alice@example.com"


@pytest.mark.django_db
def test_preview_tokens_live_five_minutes_by_default(admin_client, alice, embed_factory):
    embed = embed_factory(token_ttl=86_400)
    claims = preview_claims(admin_client, alice, embed)
    assert claims["exp"] - claims["iat"] == 300
    record = AccessRecord.objects.get(jti=claims["jti"])
    assert record.is_preview and record.actor.username == "admin" and record.user == alice
    assert record.expires_at.timestamp() == claims["exp"]


@pytest.mark.django_db
def test_preview_ttl_follows_the_setting_and_a_shorter_embed_ttl(
    settings, admin_client, alice, embed_factory
):
    settings.SIGMA_PREVIEW_TOKEN_TTL = 120
    claims = preview_claims(admin_client, alice, embed_factory(token_ttl=3600))
    assert claims["exp"] - claims["iat"] == 120
    claims = preview_claims(admin_client, alice, embed_factory(token_ttl=60))
    assert claims["exp"] - claims["iat"] == 60


@pytest.mark.django_db
def test_only_previews_are_shortened(alice, embed_factory):
    embed = embed_factory(token_ttl=3600)
    for source in (AccessRecord.Source.PAGE, AccessRecord.Source.REFRESH):
        signed = issuing.issue_embed_url(user=alice, embed=embed, source=source)
        assert signed.claims["exp"] - signed.claims["iat"] == 3600
    assert token_lifetime(embed=embed, source=AccessRecord.Source.COMMAND, ttl=900) == 900
    # A caller's own ttl cannot lift a preview above the cap.
    assert token_lifetime(embed=embed, source=AccessRecord.Source.PREVIEW, ttl=86_400) == 300


@pytest.mark.django_db
def test_previews_are_rate_limited_against_the_staff_user(
    settings, admin_client, admin_user, alice, bob, embed_factory, pinned_rate_clock
):
    settings.SIGMA_RATE_LIMIT = "2/60"
    embed = embed_factory()
    preview_claims(admin_client, alice, embed)
    preview_claims(admin_client, alice, embed)
    limited = admin_client.post(PREVIEW_URL, {"user": alice.pk, "embed": embed.pk})
    assert limited.context["result"]["refusal"].code == "rate_limited"
    # Previewing someone else does not reset the staff user's budget...
    other = admin_client.post(PREVIEW_URL, {"user": bob.pk, "embed": embed.pk})
    assert other.context["result"]["refusal"].code == "rate_limited"
    # ...and alice's own budget is untouched.
    issuing.issue_embed_url(user=alice, embed=embed, source=AccessRecord.Source.PAGE)
