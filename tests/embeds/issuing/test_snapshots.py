"""The cached reads of the issuing path (embeds.issuing.snapshots) are never stale.

Each test warms the caches with real requests (the second one is proven to come
from the cache: three statements at most), changes something the way an
administrator would (through ``embeds.services``, as the admin, the commands and
the config import do; the site's own users and groups directly, as Django's admin
does), and checks that the very next request is refused, or signs with the new
values. Some changes bypass every service (``QuerySet.update``) on purpose: the
kill switches are re-checked by the audit insert itself.
"""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from encrypted_model_fields import fields as encrypted_fields

from embeds import services
from embeds.issuing import snapshots
from embeds.issuing.identity import identity_from_mappings
from embeds.models import (
    AccessRecord,
    AccountType,
    Credential,
    Embed,
    GroupMapping,
    SigmaProfile,
    SigmaProfileAttribute,
    Team,
    secret_fingerprint,
)
from embeds.remote.usage import RegistryChange
from embeds.services import reencrypt_secrets
from tests.conftest import CANARY_SECRET

pytestmark = pytest.mark.django_db

NEW_SECRET = "a-brand-NEW-secret-9d8c7b6a5f4e3d2c1b0a"


@pytest.fixture(autouse=True)
def _sessions_out_of_the_database(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"


@pytest.fixture
def embed(embed_factory):
    return embed_factory(controls=[("Region", "West", True)])


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def page(client, embed):
    return client.get(f"/embeds/{embed.slug}/")


def refresh(client, embed):
    return client.post(f"/embeds/{embed.slug}/url/", data="{}", content_type="application/json")


def signed_url(response) -> str:
    if response["Content-Type"].startswith("application/json"):
        return json.loads(response.content)["url"]
    html = response.content.decode()
    return unescape(re.search(r'data-src="([^"]+)"', html).group(1))


def claims_of(url: str, secret: str = CANARY_SECRET) -> dict:
    token = parse_qs(urlsplit(url).query)[":jwt"][0]
    return jwt.decode(token, secret, algorithms=["HS256"], audience="sigmacomputing")


def refusal_code(response) -> str:
    if response["Content-Type"].startswith("application/json"):
        return json.loads(response.content)["error"]["code"]
    return re.search(r'data-refusal="([^"]+)"', response.content.decode()).group(1)


def warm(client, embed, request) -> None:
    """Two signed requests; the second is served from the caches."""
    assert request(client, embed).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert request(client, embed).status_code == 200
    assert len(queries) <= 3, [q["sql"][:60] for q in queries]


def group_with_sales(user) -> GroupMapping:
    group = Group.objects.create(name="sales-people")
    mapping = services.save_group_mapping(
        group=group, account_type=None, teams=[Team.objects.get(name="Sales")]
    )
    user.groups.add(group)
    profile(user, teams=[])
    return mapping


# Each change removes access; the next request must be refused with this code.
REMOVALS = {
    "user_leaves_team": (lambda a, e: profile(a, teams=[]), "no_team"),
    "team_taken_off_embed": (lambda a, e: embed_saved(e, teams=[]), "no_team"),
    "team_deleted": (
        lambda a, e: services.delete_registry_entries(entries=Team.objects.filter(name="Sales")),
        "no_team",
    ),
    "group_loses_team": (lambda a, e: group_with_sales_then(a, "team"), "no_team"),
    "user_leaves_group": (lambda a, e: group_with_sales_then(a, "leave"), "no_team"),
    "group_deleted": (lambda a, e: group_with_sales_then(a, "delete"), "no_team"),
    "user_blocked": (
        lambda a, e: services.block_user(user=a, reason="drill"),
        "user_blocked",
    ),
    "user_blocked_bypassing_signals": (
        lambda a, e: SigmaProfile.objects.filter(user=a).update(is_blocked=True),
        "user_blocked",
    ),
    "mapping_deleted": (lambda a, e: services.delete_sigma_profile(user=a), "no_account_type"),
    "email_removed": (lambda a, e: save(a, email=""), "no_email"),
    "embed_disabled": (
        lambda a, e: services.disable_embed(embed=e, reason="drill"),
        "embed_disabled",
    ),
    "embed_disabled_bypassing_signals": (
        lambda a, e: Embed.objects.filter(pk=e.pk).update(is_enabled=False),
        "embed_disabled",
    ),
    "credential_revoked": (
        lambda a, e: services.revoke_credential(credential=e.credential, reason="drill"),
        "credential_inactive",
    ),
    "credential_revoked_bypassing_signals": (
        lambda a, e: Credential.objects.filter(pk=e.credential_id).update(is_active=False),
        "credential_inactive",
    ),
    "credential_owner_no_longer_admin": (
        lambda a, e: credential_saved(e.credential, owner_is_admin=False),
        "owner_mismatch",
    ),
    "credential_loses_embed_privilege": (
        lambda a, e: credential_saved(e.credential, embed_privilege=False),
        "embed_misconfigured",
    ),
}


def save(obj, **fields):
    """A raw save: for the site's own rows (users), which no service of the app writes."""
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()


def profile(user, teams=None, **fields):
    """Change a user's Sigma mapping as the admin's user page does."""
    mapping = SigmaProfile.objects.get(user=user)
    for name, value in fields.items():
        setattr(mapping, name, value)
    services.save_sigma_profile(profile=mapping, teams=teams)


def embed_saved(embed, teams=None, **fields):
    """Change an embed as the admin's embed page does."""
    for name, value in fields.items():
        setattr(embed, name, value)
    services.save_embed(embed=embed, teams=teams)


def credential_saved(credential, **fields):
    for name, value in fields.items():
        setattr(credential, name, value)
    services.update_credential(credential=credential)


def group_with_sales_then(user, what: str) -> None:
    mapping = GroupMapping.objects.get(group__name="sales-people")
    if what == "team":
        services.save_group_mapping(group=mapping.group, account_type=None, teams=[])
    elif what == "leave":
        user.groups.clear()
    else:
        mapping.group.delete()


@pytest.mark.parametrize("request_kind", [page, refresh], ids=["page", "refresh"])
@pytest.mark.parametrize("removal", list(REMOVALS), ids=list(REMOVALS))
def test_next_request_is_refused_after_access_is_removed(
    alice, alice_client, embed, removal, request_kind
):
    if removal.startswith(("group_", "user_leaves_group")):
        group_with_sales(alice)
    warm(alice_client, embed, request_kind)
    change, code = REMOVALS[removal]
    change(alice, embed)
    response = request_kind(alice_client, embed)
    assert response.status_code in (403, 503)
    assert refusal_code(response) == code
    assert AccessRecord.objects.filter(outcome="issued").count() == 2


def test_deactivated_user_is_signed_out_on_the_next_request(alice, alice_client, embed):
    warm(alice_client, embed, page)
    save(alice, is_active=False)
    response = page(alice_client, embed)
    assert response.status_code == 302
    assert refresh(alice_client, embed).status_code == 401


def test_access_granted_again_works_on_the_next_request(alice, alice_client, embed):
    warm(alice_client, embed, page)
    save(alice.sigma_profile, is_blocked=True)
    assert page(alice_client, embed).status_code == 403
    save(alice.sigma_profile, is_blocked=False)
    assert page(alice_client, embed).status_code == 200


# Each change alters what is signed; the next URL must carry the new value.
def _set_attribute(alice, value):
    attribute = SigmaProfileAttribute.objects.get(profile__user=alice).attribute
    services.set_user_attributes(user=alice, values={attribute: value})


def _set_control_default(embed, value):
    control = embed.controls.get()
    control.default_value = value
    services.set_embed_controls(embed=embed, controls=[control])


def _renamed(entry, name):
    entry.name = name
    return entry


def _second_team(alice, embed):
    sales = Team.objects.get(name="Sales")
    finance = services.save_registry_entry(entry=Team(name="Finance"))
    profile(alice, teams=[sales, finance])
    embed_saved(embed, teams=[sales, finance])


CLAIM_CHANGES = {
    "attribute_value": (
        lambda a, e: _set_attribute(a, "East"),
        lambda claims, url: claims["user_attributes"] == {"region": "East"},
    ),
    "attribute_removed": (
        lambda a, e: services.set_user_attributes(user=a, values={}),
        lambda claims, url: "user_attributes" not in claims,
    ),
    "account_type": (
        lambda a, e: profile(a, account_type=AccountType.objects.get_or_create(name="Build")[0]),
        lambda claims, url: claims["account_type"] == "Build",
    ),
    "sigma_email": (
        lambda a, e: profile(a, sigma_email="alice.w@example.com"),
        lambda claims, url: claims["sub"] == "alice.w@example.com",
    ),
    "team_renamed": (
        lambda a, e: services.save_registry_entry(
            entry=_renamed(Team.objects.get(name="Sales"), "Sales EMEA")
        ),
        lambda claims, url: claims["teams"] == ["Sales EMEA"],
    ),
    "second_team": (
        _second_team,
        lambda claims, url: claims["teams"] == ["Finance", "Sales"],
    ),
    "control_default": (
        lambda a, e: _set_control_default(e, "North"),
        lambda claims, url: url.endswith("&Region=North"),
    ),
    "token_lifetime": (
        lambda a, e: embed_saved(e, token_ttl=600),
        lambda claims, url: claims["exp"] - claims["iat"] == 600,
    ),
    "interface_option": (
        lambda a, e: embed_saved(e, theme="Dark"),
        lambda claims, url: "&:theme=Dark" in url,
    ),
}


@pytest.mark.parametrize("request_kind", [page, refresh], ids=["page", "refresh"])
@pytest.mark.parametrize("change", list(CLAIM_CHANGES), ids=list(CLAIM_CHANGES))
def test_next_url_carries_what_was_changed(alice, alice_client, embed, change, request_kind):
    warm(alice_client, embed, request_kind)
    apply, holds = CLAIM_CHANGES[change]
    apply(alice, embed)
    url = signed_url(request_kind(alice_client, embed))
    assert holds(claims_of(url), url), claims_of(url)


def test_replaced_secret_signs_the_next_url(alice, alice_client, embed):
    warm(alice_client, embed, page)
    services.replace_credential_secret(credential=embed.credential, secret=NEW_SECRET)
    url = signed_url(page(alice_client, embed))
    assert claims_of(url, NEW_SECRET)["sub"] == "alice@example.com"
    with pytest.raises(jwt.InvalidSignatureError):
        claims_of(url, CANARY_SECRET)


def test_replaced_secret_bypassing_signals_is_caught_at_the_insert(alice, alice_client, embed):
    """A URL signed with the old secret is discarded; the next attempt reads afresh."""
    warm(alice_client, embed, page)
    ciphertext = Credential._meta.get_field("secret").get_db_prep_save(NEW_SECRET, connection)
    Credential.objects.filter(pk=embed.credential_id).update(
        secret_fingerprint=secret_fingerprint(NEW_SECRET)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE embeds_credential SET secret = %s WHERE id = %s",
            [ciphertext, embed.credential_id],
        )
    url = signed_url(page(alice_client, embed))
    assert claims_of(url, NEW_SECRET)["sub"] == "alice@example.com"
    assert AccessRecord.objects.filter(outcome="issued").count() == 3


def test_embed_switched_to_another_credential_signs_with_it(
    alice, alice_client, embed, credential_factory
):
    warm(alice_client, embed, page)
    other = credential_factory(secret=NEW_SECRET)
    save(embed, credential=other)
    url = signed_url(page(alice_client, embed))
    assert claims_of(url, NEW_SECRET)["iss"] == other.client_id
    issued = AccessRecord.objects.filter(outcome="issued").latest("id")
    assert (issued.credential_id, issued.client_id) == (other.pk, other.client_id)


def test_the_shared_cache_never_holds_the_secret(alice, alice_client, embed):
    warm(alice_client, embed, page)
    target = snapshots.embed_snapshot(slug=embed.slug)
    assert target.generation is not None  # really served from the cache
    assert CANARY_SECRET not in repr(target)
    assert CANARY_SECRET not in repr(vars(target.embed))
    assert CANARY_SECRET not in target.credential.ciphertext
    assert "ciphertext" not in repr(target.credential)


def test_a_custom_identity_resolver_is_asked_on_every_request(alice, alice_client, embed, settings):
    asked = []

    def resolver(user):
        asked.append(user.pk)
        return identity_from_mappings(user)

    settings.SIGMA_IDENTITY_RESOLVER = resolver
    for _ in range(3):
        assert page(alice_client, embed).status_code == 200
    assert asked == [alice.pk] * 3


def test_sign_in_does_not_empty_the_cache(alice, alice_client, embed, user_factory):
    carol = user_factory("carol", teams=["Sales"])
    warm(alice_client, embed, page)
    before = snapshots.current_generation()
    Client().force_login(carol)  # saves last_login only
    assert snapshots.current_generation() == before


def test_team_renamed_by_a_registry_sync_reaches_the_next_url(alice, alice_client, embed):
    """The sync renames with QuerySet.update (no signals); it invalidates itself."""
    warm(alice_client, embed, page)
    Team.objects.filter(name="Sales").update(sigma_id="team-1")
    services.sync_registries(
        changes=[
            RegistryChange(
                kind="team", action="rename", name="Sales EMEA", sigma_id="team-1", old_name="Sales"
            )
        ]
    )
    assert claims_of(signed_url(page(alice_client, embed)))["teams"] == ["Sales EMEA"]


def test_key_rotation_reaches_the_next_url(alice, client, embed_factory, settings, monkeypatch):
    """Re-encrypted under a new key, then the old key removed: the cached ciphertext
    is stale (the re-encryption is a QuerySet update) and must not break signing."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    def use_keys(*keys: str) -> None:
        settings.FIELD_ENCRYPTION_KEY = list(keys)
        monkeypatch.setattr(encrypted_fields, "CRYPTER", MultiFernet([Fernet(k) for k in keys]))

    use_keys(old)
    embed = embed_factory()
    client.force_login(alice)
    warm(client, embed, page)
    use_keys(new, old)
    assert reencrypt_secrets().reencrypted == [embed.credential.name]
    use_keys(new)
    assert claims_of(signed_url(page(client, embed)))["sub"] == "alice@example.com"
