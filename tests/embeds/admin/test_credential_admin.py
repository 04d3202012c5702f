"""Credential admin: write-only secret, replace secret, revoke / re-activate, delete guard."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from embeds.admin.common import MSG_REASON_REQUIRED
from embeds.admin.credentials import MSG_SECRETS_DIFFER
from embeds.models import (
    MSG_SECRET_CHARACTERS,
    MSG_SECRET_LENGTH,
    MSG_SECRET_WHITESPACE,
    SECRET_MAX_LENGTH,
    SECRET_MIN_LENGTH,
    Credential,
    secret_fingerprint,
    validate_embed_secret,
)
from tests.conftest import CANARY_SECRET

ADD_URL = reverse("admin:embeds_credential_add")
CHANGELIST_URL = reverse("admin:embeds_credential_changelist")
NEW_SECRET = "rotated-secret-9d8c7b6a5f4e3d2c1b0a"


def change_url(credential) -> str:
    return reverse("admin:embeds_credential_change", args=[credential.pk])


def stored_ciphertext(credential) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM embeds_credential WHERE id = %s", [credential.pk])
        return cursor.fetchone()[0]


def add_payload(**overrides) -> dict:
    data = {
        "name": "Production",
        "client_id": "prod-client-1",
        "embed_secret": CANARY_SECRET,
        "description": "",
        "owner_email": "owner@example.com",
        "owner_is_admin": "yes",
        "embed_privilege": "on",
    }
    data.update(overrides)
    return data


def test_credential_add_page_has_an_empty_password_input(admin_client):
    html = admin_client.get(ADD_URL).content.decode()

    assert '<input type="password" name="embed_secret"' in html
    assert 'autocomplete="new-password"' in html
    assert "Sigma's rule: credentials owned by a Sigma Admin may sign in any user." in html


def test_credential_add_asks_owner_is_admin_explicitly_and_the_privileges(admin_client):
    html = admin_client.get(ADD_URL).content.decode()
    assert 'type="radio" name="owner_is_admin" value="yes"' in html
    assert "checked" not in html.split('name="owner_is_admin"', 1)[1].split("</div>", 1)[0]
    assert 'name="embed_privilege"' in html and 'name="api_privilege"' in html

    missing = admin_client.post(ADD_URL, add_payload(owner_is_admin=""))
    assert missing.context["adminform"].form.errors["owner_is_admin"] == ["This field is required."]
    neither = admin_client.post(ADD_URL, add_payload(embed_privilege=""))
    assert neither.context["adminform"].form.non_field_errors() == [
        "Tick at least one privilege Sigma granted: Embedding or REST API."
    ]
    assert not Credential.objects.exists()

    admin_client.post(ADD_URL, add_payload(owner_is_admin="no", api_privilege="on"))
    credential = Credential.objects.get()
    assert (credential.owner_is_admin, credential.embed_privilege, credential.api_privilege) == (
        False,
        True,
        True,
    )


def test_credential_added_secret_appears_on_no_admin_page(admin_client):
    response = admin_client.post(ADD_URL, add_payload(), follow=True)

    credential = Credential.objects.get(client_id="prod-client-1")
    assert credential.signing_secret() == CANARY_SECRET
    assert credential.secret_rotated_at is not None
    ciphertext = stored_ciphertext(credential)
    assert ciphertext != CANARY_SECRET
    pages = [
        response,
        admin_client.get(change_url(credential)),
        admin_client.get(CHANGELIST_URL),
        admin_client.get(reverse("admin:embeds_credential_history", args=[credential.pk])),
        admin_client.get(reverse("admin:index")),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert CANARY_SECRET not in html
        assert ciphertext not in html
    change_html = pages[1].content.decode()
    assert secret_fingerprint(CANARY_SECRET) in change_html
    assert 'name="secret"' not in change_html
    entry = LogEntry.objects.get(object_id=str(credential.pk))
    assert entry.is_addition()
    assert entry.object_repr == "Production (prod-client-1)"
    assert CANARY_SECRET not in entry.change_message
    assert CANARY_SECRET not in entry.object_repr


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (f" {CANARY_SECRET}", MSG_SECRET_WHITESPACE),
        (f"{CANARY_SECRET}\n", MSG_SECRET_WHITESPACE),
        ("short-secret", MSG_SECRET_LENGTH % {"min": SECRET_MIN_LENGTH, "max": SECRET_MAX_LENGTH}),
        (f"{CANARY_SECRET}\x07bell", MSG_SECRET_CHARACTERS),
    ],
)
def test_credential_add_refuses_bad_secret_without_echoing_it(admin_client, secret, message):
    response = admin_client.post(ADD_URL, add_payload(embed_secret=secret))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["embed_secret"] == [message]
    html = response.content.decode()
    assert CANARY_SECRET not in html
    assert "short-secret" not in html
    assert not Credential.objects.exists()


def test_credential_add_page_never_renders_secret_back_after_another_field_error(admin_client):
    response = admin_client.post(ADD_URL, add_payload(client_id=""))

    assert response.context["adminform"].form.errors["client_id"] == ["This field is required."]
    assert CANARY_SECRET not in response.content.decode()


def test_credential_change_page_shows_fingerprint_dates_and_embeds(admin_client, embed_factory):
    embed = embed_factory(title="Quarterly revenue")
    credential = embed.credential

    html = admin_client.get(change_url(credential)).content.decode()

    assert secret_fingerprint(CANARY_SECRET) in html
    assert "Last used at" in html
    assert "Secret rotated at" in html
    assert "Quarterly revenue" in html
    assert "Replace secret…" in html
    assert "Revoke…" in html
    assert CANARY_SECRET not in html


def test_credential_changelist_refuses_lookups_on_the_secret(admin_client, credential_factory):
    credential_factory()

    for lookup in ("secret__startswith", "secret", "secret_fingerprint__startswith"):
        response = admin_client.get(CHANGELIST_URL, {lookup: "c"})
        assert response.status_code == 400, lookup


def test_credential_change_logs_field_names_not_values(admin_client, credential_factory):
    credential = credential_factory(name="Staging", owner_is_admin=True)
    response = admin_client.get(change_url(credential))
    from tests.embeds.admin.conftest import change_form_data

    data = change_form_data(response)
    data["owner_email"] = "new-owner@example.com"
    response = admin_client.post(change_url(credential), data)

    assert response.status_code == 302
    entry = LogEntry.objects.get(object_id=str(credential.pk))
    assert entry.get_change_message() == "Changed Owner email."
    credential.refresh_from_db()
    assert credential.signing_secret() == CANARY_SECRET


# --- Replace secret -------------------------------------------------------------------


def replace_url(credential) -> str:
    return reverse("admin:embeds_credential_replace_secret", args=[credential.pk])


def test_replace_secret_refuses_two_different_secrets(admin_client, credential_factory):
    credential = credential_factory()

    response = admin_client.post(
        replace_url(credential), {"secret1": NEW_SECRET, "secret2": NEW_SECRET + "x"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["secret2"] == [MSG_SECRETS_DIFFER]
    html = response.content.decode()
    assert NEW_SECRET not in html
    assert CANARY_SECRET not in html
    credential.refresh_from_db()
    assert credential.signing_secret() == CANARY_SECRET


def test_replace_secret_stores_new_secret_and_logs_without_it(admin_client, credential_factory):
    credential = credential_factory()

    response = admin_client.post(
        replace_url(credential), {"secret1": NEW_SECRET, "secret2": NEW_SECRET}, follow=True
    )

    credential.refresh_from_db()
    assert credential.signing_secret() == NEW_SECRET
    assert credential.secret_fingerprint == secret_fingerprint(NEW_SECRET)
    html = response.content.decode()
    assert f"The secret of {credential.name} was replaced." in html
    assert NEW_SECRET not in html
    entry = LogEntry.objects.get(object_id=str(credential.pk))
    assert entry.get_change_message() == "Replaced the embed secret."


def test_replace_secret_needs_the_rotate_permission(client, staff_factory, credential_factory):
    credential = credential_factory()
    client.force_login(
        staff_factory("editor", "embeds.view_credential", "embeds.change_credential")
    )

    assert client.get(replace_url(credential)).status_code == 403
    response = client.post(replace_url(credential), {"secret1": NEW_SECRET, "secret2": NEW_SECRET})
    assert response.status_code == 403
    credential.refresh_from_db()
    assert credential.signing_secret() == CANARY_SECRET
    assert "Replace secret…" not in client.get(change_url(credential)).content.decode()


# --- Revoke / re-activate -----------------------------------------------------------


def action(name: str, *objects, **extra) -> dict:
    return {"action": name, ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra}


def test_revoke_action_confirmation_lists_embeds_and_users_affected(
    admin_client, embed_factory, alice, user_factory
):
    user_factory("carol", teams=["Sales"])
    user_factory("dave", teams=["Marketing"])
    embed = embed_factory(title="Sales overview", teams=["Sales"])
    embed_factory(title="Campaigns", teams=["Marketing"], credential=embed.credential)

    response = admin_client.post(CHANGELIST_URL, action("revoke_selected", embed.credential))

    assert response.status_code == 200
    rows = response.context["rows"][0]["embeds"]
    assert [(r["embed"].title, r["users"]) for r in rows] == [
        ("Campaigns", 1),
        ("Sales overview", 2),
    ]
    html = response.content.decode()
    assert "Sales overview" in html and "Campaigns" in html
    # A leaked secret is revoked in Sigma too: this site's revoke cannot stop it.
    assert "also revoke these client credentials in Sigma (Administration" in html
    assert CANARY_SECRET not in html
    embed.credential.refresh_from_db()
    assert embed.credential.is_active


def test_revoke_action_requires_a_reason(admin_client, credential_factory):
    credential = credential_factory()

    response = admin_client.post(
        CHANGELIST_URL, action("revoke_selected", credential, post="yes", reason="   ")
    )

    assert response.context["form"].errors["reason"] == [MSG_REASON_REQUIRED]
    credential.refresh_from_db()
    assert credential.is_active


def test_revoke_action_records_who_when_why_and_refuses_next_request(
    admin_client, admin_user, client, alice, embed_factory
):
    embed = embed_factory()
    credential = embed.credential

    response = admin_client.post(
        CHANGELIST_URL,
        action("revoke_selected", credential, post="yes", reason="Secret leaked in a ticket"),
        follow=True,
    )

    assert (
        "1 credential was revoked; its embeds are refused from the next request."
        in response.content.decode()
    )
    credential.refresh_from_db()
    assert not credential.is_active
    assert credential.revoked_by == admin_user
    assert credential.revoked_reason == "Secret leaked in a ticket"
    assert credential.revoked_at is not None
    entry = LogEntry.objects.get(object_id=str(credential.pk))
    assert entry.get_change_message() == "Revoked. Reason: Secret leaked in a ticket"
    client.force_login(alice)
    assert client.get(embed.get_absolute_url()).status_code == 503


def test_activate_action_confirms_then_reactivates(admin_client, admin_user, credential_factory):
    from embeds import services

    credential = services.revoke_credential(
        credential=credential_factory(), actor=admin_user, reason="test"
    )

    confirm = admin_client.post(CHANGELIST_URL, action("activate_selected", credential))
    assert confirm.context["title"] == "Re-activate credentials"
    credential.refresh_from_db()
    assert not credential.is_active

    admin_client.post(CHANGELIST_URL, action("activate_selected", credential, post="yes"))

    credential.refresh_from_db()
    assert credential.is_active
    assert credential.revoked_reason == ""
    assert LogEntry.objects.filter(
        object_id=str(credential.pk), change_message="Re-activated."
    ).exists()


def test_revoke_page_from_change_page_revokes_one_credential(admin_client, credential_factory):
    credential = credential_factory()
    url = reverse("admin:embeds_credential_revoke", args=[credential.pk])

    assert admin_client.get(url).context["title"] == "Revoke credentials"
    response = admin_client.post(url, {"post": "yes", "reason": "Rotation finished"})

    assert response.status_code == 302
    assert response["Location"] == change_url(credential)
    credential.refresh_from_db()
    assert not credential.is_active


def test_revoke_needs_its_own_permission(client, staff_factory, credential_factory):
    credential = credential_factory()
    client.force_login(
        staff_factory("editor", "embeds.view_credential", "embeds.change_credential")
    )

    changelist = client.get(CHANGELIST_URL)
    assert "revoke_selected" not in changelist.content.decode()
    response = client.post(
        CHANGELIST_URL, action("revoke_selected", credential, post="yes", reason="x")
    )
    # Not an action this user has: the changelist comes back and nothing happens.
    assert response.status_code == 200
    assert (
        client.get(reverse("admin:embeds_credential_revoke", args=[credential.pk])).status_code
        == 403
    )
    credential.refresh_from_db()
    assert credential.is_active


# --- Delete protection --------------------------------------------------------------


def test_credential_used_by_embeds_cannot_be_deleted(admin_client, embed_factory):
    embed = embed_factory(title="Sales overview")
    url = reverse("admin:embeds_credential_delete", args=[embed.credential.pk])

    page = admin_client.get(url).content.decode()
    admin_client.post(url, {"post": "yes"})

    assert "would require deleting the following protected related objects" in page
    assert "Sales overview" in page
    assert Credential.objects.filter(pk=embed.credential.pk).exists()


def test_unused_credential_can_be_deleted(admin_client, credential_factory):
    credential = credential_factory()

    admin_client.post(
        reverse("admin:embeds_credential_delete", args=[credential.pk]), {"post": "yes"}
    )

    assert not Credential.objects.filter(pk=credential.pk).exists()


# --- Permission split ----------------------------------------------------------------


def test_staff_without_credential_permission_sees_no_credentials_or_fingerprints(
    client, staff_factory, embed_factory
):
    embed = embed_factory()
    client.force_login(staff_factory("editor", "embeds.view_embed", "embeds.change_embed"))

    assert client.get(CHANGELIST_URL).status_code == 403
    assert client.get(change_url(embed.credential)).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert CHANGELIST_URL not in index
    for url in (
        reverse("admin:embeds_embed_change", args=[embed.pk]),
        reverse("admin:embeds_embed_changelist"),
    ):
        html = client.get(url).content.decode()
        assert embed.credential.secret_fingerprint not in html
        assert CANARY_SECRET not in html


@pytest.mark.parametrize(
    ("secret", "accepted"),
    [
        ("s" * 31, False),  # PyJWT warns below 32 bytes for HS256
        ("s" * 32, True),
        ("é" * 16, True),  # 16 characters, 32 bytes of UTF-8: the key is bytes
        ("é" * 15 + "s", False),
    ],
)
def test_embed_secret_minimum_is_32_bytes_like_pyjwt_hs256(secret, accepted):
    if accepted:
        validate_embed_secret(secret)
    else:
        with pytest.raises(ValidationError) as caught:
            validate_embed_secret(secret)
        assert caught.value.code == "secret_length"
