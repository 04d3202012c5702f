"""N1: "internal" is decided per person.

The attack: one group marked internal overrode a member's own non-internal mapping
(``internal = own or any(group)``): the token then carried no ``account_type``,
``teams`` or ``user_attributes``, so Sigma provisioned a non-member at the
*highest* account type without row-level-security attributes, and no check noticed.
"""

from __future__ import annotations

import json
from io import StringIO

import jwt
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from embeds.models import GroupMapping, SigmaProfile
from tests.conftest import CANARY_SECRET
from tests.sigma_org import hold_emulator_credentials

pytestmark = pytest.mark.django_db


def join_internal_group(user) -> None:
    group = Group.objects.create(name="Sigma staff")
    GroupMapping.objects.create(group=group, internal=True)
    user.groups.add(group)


def signed_claims(client, user, slug: str = "sales") -> dict:
    client.force_login(user)
    response = client.get(f"/embeds/{slug}/")
    assert response.status_code == 200, response.content.decode()[:300]
    token = response.context["signed_url"].split(":jwt=")[1].split("&")[0]
    return jwt.decode(token, CANARY_SECRET, algorithms=["HS256"], audience="sigmacomputing")


def test_an_internal_group_cannot_override_a_person_declared_an_embed_user(
    client, alice, embed_factory
):
    embed_factory(slug="sales")
    SigmaProfile.objects.filter(user=alice).update(internal=SigmaProfile.Internal.EMBED)
    join_internal_group(alice)

    claims = signed_claims(client, alice)

    assert claims["account_type"] == "View"
    assert claims["teams"] == ["Sales"]
    assert claims["user_attributes"] == {"region": "West"}


def test_a_person_who_inherits_is_internal_through_the_group_and_sigma_check_says_so(
    client, run, alice, embed_factory
):
    embed_factory(slug="sales")
    join_internal_group(alice)  # alice's own mapping says "inherit" (the default)

    claims = signed_claims(client, alice)
    result = run("sigma_check")

    assert "account_type" not in claims and "teams" not in claims
    assert (
        "embeds.W030" in result.everything
        and "User alice is an internal Sigma member only through a group" in result.everything
    )


def test_sigma_check_is_quiet_once_decided_per_person(run, alice, embed_factory):
    embed_factory(slug="sales")
    join_internal_group(alice)
    SigmaProfile.objects.filter(user=alice).update(internal=SigmaProfile.Internal.INTERNAL)

    assert "embeds.W030" not in run("sigma_check").everything


@pytest.mark.django_db(transaction=True)
def test_sigma_check_remote_reports_an_internal_user_sigma_does_not_know(
    emulator_server, settings, embed_factory, user_factory
):
    settings.SIGMA_API_BASE_URL = emulator_server.url
    host = hold_emulator_credentials()
    embed_factory(slug="sales", teams=("Sales",), credential=host)
    ghost = user_factory("ghost", teams=["Sales"], account_type=None)
    member = user_factory("analyst", teams=["Sales"], account_type=None)
    SigmaProfile.objects.filter(user__in=[ghost, member]).update(
        internal=SigmaProfile.Internal.INTERNAL
    )

    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("sigma_check", "--remote", "--json", stdout=out)

    assert failed.value.returncode == 1
    remote = [f for f in json.loads(out.getvalue())["findings"] if f["id"].startswith("embeds.R")]
    assert [(f["id"], f["level"]) for f in remote] == [("embeds.R010", "error")]
    assert "Host user 'ghost' is signed in as an internal Sigma member" in remote[0]["message"]
    assert "ghost@example.com is not an internal member" in remote[0]["message"]
