"""SIGMA_IDENTITY_RESOLVER: every path asks the configured resolver for a user's identity."""

from __future__ import annotations

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from embeds import exceptions, issuing
from embeds.issuing.access import visible_embeds
from embeds.issuing.identity import SigmaIdentity, identity_for, identity_from_mappings
from embeds.models import AccessRecord, Team
from tests.conftest import CANARY_SECRET

CALLS: list[str] = []


def directory_resolver(user) -> SigmaIdentity:
    """A site's own rule: everyone is a Build user in team Sales, from a directory."""
    CALLS.append(user.get_username())
    if user.get_username() == "mallory":
        raise exceptions.UserBlocked("mallory is blocked by the directory.")
    sales = Team.objects.get(name="Sales")
    return SigmaIdentity(
        email=f"{user.get_username()}@directory.example.com",
        account_type="Build",
        teams=("Sales",),
        team_ids=frozenset({sales.pk}),
        user_attributes=(("region", "North"),),
    )


@pytest.fixture
def directory(settings):
    CALLS.clear()
    settings.SIGMA_IDENTITY_RESOLVER = "tests.embeds.issuing.test_identity.directory_resolver"
    return CALLS


@pytest.fixture
def plain_user(db):
    """A Django user with no Sigma mapping at all."""
    return get_user_model().objects.create_user("carol", "carol@example.com", "demo")


def test_default_resolver_is_the_mapping_resolver(alice):
    assert identity_for(alice) == identity_from_mappings(alice)
    assert identity_for(alice).teams == ("Sales",)


def test_default_resolver_refuses_a_user_without_mapping(plain_user):
    with pytest.raises(exceptions.NoAccountType):
        identity_for(plain_user)


def test_custom_resolver_signs_a_user_without_mapping(directory, plain_user, embed_factory):
    embed = embed_factory(teams=["Sales"])
    signed = issuing.issue_embed_url(user=plain_user, embed=embed, source=AccessRecord.Source.PAGE)
    token = signed.url.split(":jwt=")[1].split("&")[0]
    claims = jwt.decode(
        token,
        CANARY_SECRET,
        algorithms=["HS256"],
        audience="sigmacomputing",
        options={"verify_exp": False},
    )
    assert claims["sub"] == "carol@directory.example.com"
    assert claims["account_type"] == "Build"
    assert claims["teams"] == ["Sales"]
    assert claims["user_attributes"] == {"region": "North"}
    assert "carol" in directory


def test_custom_resolver_decides_what_the_home_page_lists(
    directory, plain_user, embed_factory, client
):
    shown = embed_factory(teams=["Sales"], title="Shown")
    embed_factory(teams=["Finance"], title="Hidden")
    assert list(visible_embeds(plain_user)) == [shown]
    client.force_login(plain_user)
    response = client.get(reverse("embeds:home"))
    assert b"Shown" in response.content
    assert b"Hidden" not in response.content


def test_custom_resolver_refusal_is_recorded(directory, embed_factory, db):
    mallory = get_user_model().objects.create_user("mallory", "m@example.com", "demo")
    embed = embed_factory(teams=["Sales"])
    with pytest.raises(exceptions.UserBlocked):
        issuing.issue_embed_url(user=mallory, embed=embed, source=AccessRecord.Source.PAGE)
    record = AccessRecord.objects.get()
    assert (record.outcome, record.rule) == (AccessRecord.Outcome.REFUSED, "user_blocked")
    assert list(visible_embeds(mallory)) == []


def test_unimportable_resolver_is_improperly_configured(settings, alice):
    settings.SIGMA_IDENTITY_RESOLVER = "tests.embeds.issuing.test_identity.no_such_resolver"
    with pytest.raises(ImproperlyConfigured, match="SIGMA_IDENTITY_RESOLVER"):
        identity_for(alice)


def test_resolver_may_not_be_identity_for_itself(settings, alice):
    settings.SIGMA_IDENTITY_RESOLVER = "embeds.issuing.identity.identity_for"
    with pytest.raises(ImproperlyConfigured, match="identity_from_mappings"):
        identity_for(alice)
