"""N5: a preview never yields a usable session for someone else's real Sigma account.

The attack: a staff user holding only ``embeds.preview_embed`` previews as a user
Sigma knows as a member (the host admin, mapped internal, whose email is the
credential owner's), copies the iframe ``src`` and opens it: Sigma signs in an
existing member as themselves, Admin rights included.
"""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from embeds.exceptions import IdentityConflict, PreviewOfMember
from embeds.models import AccessRecord, SigmaProfile
from tests.conftest import CANARY_SECRET

PREVIEW_URL = reverse("admin:embeds_embed_preview")
OWNER = "owner@example.com"  # credential_factory's owner: a Sigma Admin member


def _issued() -> int:
    return AccessRecord.objects.filter(outcome=AccessRecord.Outcome.ISSUED).count()


def test_previewer_cannot_choose_the_host_admin(client, previewer, admin_user, embed_factory):
    embed = embed_factory()
    SigmaProfile.objects.create(
        user=admin_user, sigma_email=OWNER, internal=SigmaProfile.Internal.INTERNAL
    )

    page = client.get(PREVIEW_URL).content.decode()
    response = client.post(PREVIEW_URL, {"user": admin_user.pk, "embed": embed.pk})

    assert f'<option value="{admin_user.pk}"' not in page
    html = response.content.decode()
    assert response.context["result"] is None
    assert "Select a valid choice" in html
    assert ":jwt=" not in html
    assert not AccessRecord.objects.exists()


def test_previewer_cannot_choose_another_staff_user(
    client, previewer, staff_factory, user_factory, embed_factory
):
    embed = embed_factory()
    other = staff_factory("other-staff")
    SigmaProfile.objects.create(user=other)
    plain = user_factory("plain", teams=["Sales"])

    choices = list(client.get(PREVIEW_URL).context["form"].fields["user"].queryset)
    response = client.post(PREVIEW_URL, {"user": other.pk, "embed": embed.pk})

    assert choices == [plain]
    assert response.context["result"] is None
    assert not AccessRecord.objects.exists()


@pytest.mark.parametrize(
    ("how", "refusal_class"),
    [
        ("internal mapping", PreviewOfMember),
        # Not mapped as that member: refused for everyone, previews included (N6).
        ("credential owner's email", IdentityConflict),
    ],
)
def test_preview_of_a_sigma_member_is_refused_and_recorded(
    client, previewer, user_factory, embed_factory, caplog, how, refusal_class
):
    embed = embed_factory()
    if how == "internal mapping":
        member = user_factory("member", teams=["Sales"], account_type=None)
        SigmaProfile.objects.filter(user=member).update(internal=SigmaProfile.Internal.INTERNAL)
    else:
        member = user_factory("member", teams=["Sales"], sigma_email=OWNER)
    caplog.set_level(logging.INFO)

    response = client.post(PREVIEW_URL, {"user": member.pk, "embed": embed.pk})

    html = response.content.decode()
    result = response.context["result"]
    rule = refusal_class.code
    assert isinstance(result["refusal"], refusal_class)
    assert f'<code id="preview-rule">{rule}</code>' in html
    assert refusal_class.message in html
    assert ":jwt=" not in html
    assert "preview-frame" not in html
    # Who previewed whom, refused, in the audit trail and the log.
    record = AccessRecord.objects.get()
    assert (record.outcome, record.rule, record.actor, record.user, record.is_preview) == (
        AccessRecord.Outcome.REFUSED,
        rule,
        previewer,
        member,
        True,
    )
    assert f"rule={rule} embed={embed.slug} user={member.pk}" in caplog.text
    assert f"actor={previewer.pk}" in caplog.text
    assert CANARY_SECRET not in html + caplog.text


def test_superuser_previews_of_members_are_refused_too(admin_client, user_factory, embed_factory):
    embed = embed_factory()
    member = user_factory("member", teams=["Sales"], account_type=None)
    SigmaProfile.objects.filter(user=member).update(internal=SigmaProfile.Internal.INTERNAL)

    response = admin_client.post(PREVIEW_URL, {"user": member.pk, "embed": embed.pk})

    assert response.context["result"]["refusal"].code == "preview_member"
    assert _issued() == 0


def test_preview_of_an_embed_user_still_signs(client, previewer, alice, embed_factory):
    embed = embed_factory()

    response = client.post(PREVIEW_URL, {"user": alice.pk, "embed": embed.pk})

    assert response.context["result"]["allowed"]
    record = AccessRecord.objects.get()
    assert (record.actor, record.user, record.is_preview) == (previewer, alice, True)
