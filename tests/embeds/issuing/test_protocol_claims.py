"""Issue 13 end to end through issue_embed_url: internal users, names, connection
switching, OAuth passthrough and typed controls, checked by the emulator's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import jwt
import pytest
from django.contrib.auth.models import Group

from embeds import exceptions, issuing
from embeds.issuing.identity import identity_from_mappings
from embeds.models import AccessRecord, AccountType, EmbedControl, GroupMapping, SigmaProfile
from embeds.protocol import oauth
from sigma_emulator.oauth import decrypt_sdk_token
from sigma_emulator.verify import ControlReading, read_query, verify_token
from tests.conftest import CANARY_SECRET

pytestmark = [pytest.mark.spec("1.2"), pytest.mark.django_db]

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
CONNECTION = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
OTHER_CONNECTION = "2c5f39cb-3ab2-22e3-994a-1127e4ddb538"
OAUTH_CANARY = "oauth-CANARY-access-token-9d2f"


def issue(user, embed, **kwargs):
    kwargs.setdefault("source", AccessRecord.Source.PAGE)
    kwargs.setdefault("now", NOW)
    return issuing.issue_embed_url(user=user, embed=embed, **kwargs)


def token_of(url: str) -> str:
    return url.split(":jwt=")[1].split("&")[0]


def decode(url: str) -> dict:
    return jwt.decode(
        token_of(url),
        CANARY_SECRET,
        algorithms=["HS256"],
        audience="sigmacomputing",
        options={"verify_exp": False},
    )


def emulator_accepts(url: str, embed) -> dict:
    result = verify_token(
        token_of(url),
        lookup_secret=lambda kid: CANARY_SECRET if kid == embed.credential.client_id else None,
        now=int(NOW.timestamp()),
    )
    assert result.ok, (result.rule, result.message)
    return dict(result.claims)


def make_internal(user) -> None:
    SigmaProfile.objects.filter(user=user).update(internal=SigmaProfile.Internal.INTERNAL)


def join_group(user, name: str, **mapping) -> GroupMapping:
    group = Group.objects.create(name=name)
    user.groups.add(group)
    return GroupMapping.objects.create(group=group, **mapping)


# --- Internal users -------------------------------------------------------------------


def test_internal_user_token_has_no_account_type_teams_or_user_attributes(alice, embed_factory):
    make_internal(alice)
    embed = embed_factory()

    claims = emulator_accepts(issue(alice, embed).url, embed)

    assert "account_type" not in claims
    assert "teams" not in claims
    assert "user_attributes" not in claims
    assert claims["sub"] == "alice@example.com"


def test_group_mapping_can_make_its_members_internal(user_factory, embed_factory):
    erin = user_factory("erin", teams=["Sales"], account_type=None)
    join_group(erin, "Sigma staff", internal=True)

    claims = decode(issue(erin, embed_factory()).url)

    assert "account_type" not in claims and "teams" not in claims


def test_internal_user_needs_no_account_type_but_an_embed_user_does(user_factory, embed_factory):
    frank = user_factory("frank", teams=["Sales"], account_type=None)
    embed = embed_factory()

    with pytest.raises(exceptions.NoAccountType):
        issue(frank, embed)
    make_internal(frank)
    assert decode(issue(frank, embed).url)["sub"] == "frank@example.com"


def test_internal_user_still_needs_a_shared_team(user_factory, embed_factory):
    grace = user_factory("grace", teams=["Finance"])
    make_internal(grace)

    with pytest.raises(exceptions.NoTeam):
        issue(grace, embed_factory(teams=["Sales"]))


def test_owner_rule_still_applies_to_internal_users(alice, embed_factory, credential_factory):
    make_internal(alice)
    credential = credential_factory(owner_is_admin=False, owner_email="owner@example.com")

    with pytest.raises(exceptions.OwnerMismatch):
        issue(alice, embed_factory(credential=credential))


# --- Names ----------------------------------------------------------------------------


def test_names_come_from_the_host_user_when_set(user_factory, embed_factory):
    heidi = user_factory("heidi", teams=["Sales"], first_name="Heidi", last_name="Klum")
    embed = embed_factory()

    claims = emulator_accepts(issue(heidi, embed).url, embed)

    assert (claims["first_name"], claims["last_name"]) == ("Heidi", "Klum")


def test_names_are_left_out_when_unset(alice, embed_factory):
    claims = decode(issue(alice, embed_factory()).url)

    assert "first_name" not in claims and "last_name" not in claims


# --- Connection switching -------------------------------------------------------------


def test_eval_connection_id_most_specific_wins(alice, embed_factory):
    embed = embed_factory(eval_connection_id=CONNECTION)
    assert decode(issue(alice, embed).url)["eval_connection_id"] == CONNECTION

    join_group(alice, "Tenant B", eval_connection_id=OTHER_CONNECTION)
    assert decode(issue(alice, embed).url)["eval_connection_id"] == OTHER_CONNECTION

    SigmaProfile.objects.filter(user=alice).update(eval_connection_id=CONNECTION)
    assert decode(issue(alice, embed_factory()).url)["eval_connection_id"] == CONNECTION


def test_eval_connection_id_left_out_when_nobody_sets_it(alice, embed_factory):
    assert "eval_connection_id" not in decode(issue(alice, embed_factory()).url)


def test_groups_with_different_connections_are_refused(alice, embed_factory):
    join_group(alice, "Tenant A", eval_connection_id=CONNECTION)
    join_group(alice, "Tenant B", eval_connection_id=OTHER_CONNECTION)

    with pytest.raises(exceptions.AmbiguousConnection):
        issue(alice, embed_factory())
    assert AccessRecord.objects.get().rule == "ambiguous_connection"


def test_identity_reads_groups_once_and_not_at_all_when_the_user_settles_everything(
    alice, django_assert_num_queries
):
    SigmaProfile.objects.filter(user=alice).update(
        internal=SigmaProfile.Internal.INTERNAL, eval_connection_id=CONNECTION
    )
    # profile, teams, attributes: the user's own mapping answers every question.
    with django_assert_num_queries(3):
        identity = identity_from_mappings(alice)
    assert identity.internal and identity.eval_connection_id == CONNECTION


# --- OAuth passthrough ------------------------------------------------------------------


def org_token(user, embed):
    return OAUTH_CANARY


def per_connection(user, embed):
    return {CONNECTION: OAUTH_CANARY}


def broken_provider(user, embed):
    raise RuntimeError(f"refresh failed for {OAUTH_CANARY}")


@pytest.fixture
def provider(settings):
    oauth.key_cache.clear()

    def use(name: str) -> None:
        settings.SIGMA_OAUTH_TOKEN_PROVIDER = f"tests.embeds.issuing.test_protocol_claims.{name}"

    return use


def test_provider_string_becomes_an_encrypted_oauth_token(alice, embed_factory, provider):
    provider("org_token")
    embed = embed_factory()

    signed = issue(alice, embed)
    claims = emulator_accepts(signed.url, embed)

    assert OAUTH_CANARY not in signed.url
    assert decrypt_sdk_token(CANARY_SECRET, claims["oauth_token"]) == OAUTH_CANARY
    assert "connection_oauth_tokens" not in claims


def test_provider_dict_becomes_connection_oauth_tokens(alice, embed_factory, provider):
    provider("per_connection")
    embed = embed_factory()

    claims = emulator_accepts(issue(alice, embed).url, embed)

    assert list(claims["connection_oauth_tokens"]) == [CONNECTION]
    assert decrypt_sdk_token(CANARY_SECRET, claims["connection_oauth_tokens"][CONNECTION]) == (
        OAUTH_CANARY
    )


def test_page_views_reuse_the_derived_key(alice, embed_factory, provider):
    provider("org_token")
    embed = embed_factory()

    first, second = (decode(issue(alice, embed).url)["oauth_token"] for _ in range(2))

    assert first != second  # fresh IV each time
    assert oauth.key_cache.derivations == 1


def test_a_failing_provider_refuses_without_leaking_the_token(
    alice, embed_factory, provider, caplog
):
    provider("broken_provider")

    with pytest.raises(exceptions.OAuthUnavailable) as raised:
        issue(alice, embed_factory())

    assert OAUTH_CANARY not in str(raised.value)
    assert OAUTH_CANARY not in caplog.text
    assert "RuntimeError" in caplog.text
    assert AccessRecord.objects.get().rule == "oauth_unavailable"


def test_no_provider_means_no_oauth_claims(alice, embed_factory, settings):
    settings.SIGMA_OAUTH_TOKEN_PROVIDER = None

    claims = decode(issue(alice, embed_factory()).url)

    assert "oauth_token" not in claims and "connection_oauth_tokens" not in claims


# --- Typed controls -----------------------------------------------------------------------


def controls_of(url: str) -> dict[str, ControlReading]:
    return read_query(urlsplit(url).query)[1]


def test_text_and_list_defaults_reach_sigma_as_configured(alice, embed_factory):
    embed = embed_factory()
    EmbedControl.objects.create(embed=embed, control_id="Customer", default_value="Smith, John")
    EmbedControl.objects.create(
        embed=embed, control_id="Names", type="list", default_value="Smith\nJohn"
    )
    EmbedControl.objects.create(
        embed=embed, control_id="Period", type="date_range", default_value="min:2024-01-01,max:"
    )

    signed = issue(alice, embed)

    assert "&Customer=Smith%2C%20John" in signed.url
    assert "&Names=Smith,John" in signed.url
    assert controls_of(signed.url) == {
        "Customer": ControlReading("value", ("Smith, John",)),
        "Names": ControlReading("list", ("Smith", "John")),
        "Period": ControlReading("range", ends=(("min", "2024-01-01"), ("max", ""))),
    }


def test_a_stored_default_that_no_longer_fits_its_type_refuses(alice, embed_factory):
    embed = embed_factory()
    EmbedControl.objects.create(embed=embed, control_id="Amount", type="number", default_value="x")

    with pytest.raises(exceptions.EmbedMisconfigured):
        issue(alice, embed)


def test_group_account_type_still_applies_with_new_group_fields(user_factory, embed_factory):
    ivan = user_factory("ivan", teams=["Sales"], account_type=None)
    join_group(ivan, "Builders", account_type=AccountType.objects.get(name="Build"))

    assert decode(issue(ivan, embed_factory()).url)["account_type"] == "Build"
