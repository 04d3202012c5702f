"""H3: emails the host itself recorded as Sigma members stay members when the record
is inactive.

Sigma signs in an existing member as themselves whatever the token says
(/work/shared/sigma-embed-spec.md §1.2, ``sub``), so a token for a member's email is
that member's session. A revoked credential's owner (the usual state after a
rotation) and a deactivated user mapped as internal (an ex-employee whose Sigma
membership lives on) are still members: neither the page nor a preview by a staff
user holding only ``embeds.preview_embed`` signs another user in with their email.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from embeds.models import AccessRecord, GroupMapping, SigmaProfile

PREVIEW_URL = reverse("admin:embeds_embed_preview")
REVOKED_OWNER = "old-admin@corp.example"

pytestmark = pytest.mark.django_db


def _signed() -> int:
    """Tokens signed (issued access records)."""
    return AccessRecord.objects.filter(outcome="issued").count()


def test_owner_of_a_revoked_credential_cannot_be_previewed(
    client, previewer, user_factory, embed_factory, credential_factory
):
    embed = embed_factory()
    credential_factory(owner_email=REVOKED_OWNER, is_active=False)
    target = user_factory("olivia", teams=["Sales"], email=REVOKED_OWNER)

    html = client.post(PREVIEW_URL, {"user": target.pk, "embed": embed.pk}).content.decode()

    assert ":jwt=" not in html
    assert _signed() == 0


def test_owner_of_a_revoked_credential_is_not_signed_on_the_page(
    client, user_factory, embed_factory, credential_factory
):
    embed_factory(slug="sales")
    credential_factory(owner_email=REVOKED_OWNER, is_active=False)
    target = user_factory("olivia", teams=["Sales"], email="Old-Admin@corp.example")
    client.force_login(target)

    html = client.get("/embeds/sales/").content.decode()

    assert ":jwt=" not in html
    assert _signed() == 0


@pytest.mark.parametrize("by_group", [False, True])
def test_email_of_a_deactivated_internal_member_cannot_be_taken(
    client, previewer, user_factory, embed_factory, by_group
):
    embed = embed_factory()
    dave = user_factory("dave", teams=["Sales"], account_type=None, email="dave@corp.example")
    if by_group:
        SigmaProfile.objects.filter(user=dave).update(internal=SigmaProfile.Internal.INHERIT)
        group = Group.objects.create(name="Sigma staff")
        GroupMapping.objects.create(group=group, internal=True)
        dave.groups.add(group)
    else:
        SigmaProfile.objects.filter(user=dave).update(internal=SigmaProfile.Internal.INTERNAL)
    dave.is_active = False
    dave.save()
    carol = user_factory("carol", teams=["Sales"], sigma_email="DAVE@corp.example")

    html = client.post(PREVIEW_URL, {"user": carol.pk, "embed": embed.pk}).content.decode()

    assert ":jwt=" not in html
    assert _signed() == 0


def test_email_of_a_deactivated_embed_user_is_free(client, previewer, user_factory, embed_factory):
    """Only members are kept: a deactivated *embed* user's email is Sigma's auto-created
    embed user, whose rights are whatever the token grants."""
    embed = embed_factory()
    get_user_model().objects.filter(pk=user_factory("dave", email="dave@corp.example").pk).update(
        is_active=False
    )
    carol = user_factory("carol", teams=["Sales"], sigma_email="dave@corp.example")

    html = client.post(PREVIEW_URL, {"user": carol.pk, "embed": embed.pk}).content.decode()

    assert ":jwt=" in html
    assert _signed() == 1


@pytest.mark.parametrize("staff", ["superuser", "staff"])
def test_email_of_an_unmapped_host_administrator_cannot_be_taken(
    client, previewer, user_factory, embed_factory, staff
):
    """The host's own administrators, mapped or not, are the likeliest Sigma members
    (the host admin is usually a Sigma Admin): a user given one of their emails, in
    another case, is neither previewed nor signed on the page."""
    embed = embed_factory(slug="sales")
    get_user_model().objects.create_user(
        "root",
        email="head-admin@corp.example",
        password="unused-0",
        is_staff=True,
        is_superuser=staff == "superuser",
    )
    mallory = user_factory("mallory", teams=["Sales"], email="HEAD-ADMIN@corp.example")

    html = client.post(PREVIEW_URL, {"user": mallory.pk, "embed": embed.pk}).content.decode()
    assert ":jwt=" not in html
    client.force_login(mallory)
    assert ":jwt=" not in client.get("/embeds/sales/").content.decode()
    assert _signed() == 0
