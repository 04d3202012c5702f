"""embeds.encryption: the secret's field fails closed, and every door refuses a lost key.

A credential whose stored token was encrypted with a key that is no longer in
FIELD_ENCRYPTION_KEY still loads, lists and saves (so pages and checks can name it),
but its secret cannot be read: every path that would sign refuses with
``credential_broken``, and nothing shows the token or the secret.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from encrypted_model_fields import fields as library

from embeds import encryption, services
from embeds.exceptions import CredentialBroken
from embeds.issuing import snapshots
from embeds.models import AccessRecord, Credential
from tests.conftest import CANARY_SECRET

pytestmark = pytest.mark.django_db

FOREIGN_KEY = Fernet(Fernet.generate_key())  # a key FIELD_ENCRYPTION_KEY does not list


def store_token(credential: Credential, token: str) -> None:
    """Write a token into the secret column as is (no field, no signal)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE embeds_credential SET secret = %s WHERE id = %s", [token, credential.pk]
        )
    snapshots.invalidate()


@pytest.fixture
def lost_key_embed(embed_factory):
    """An embed whose credential's secret was encrypted with a key that is gone."""
    embed = embed_factory(slug="sales")
    token = FOREIGN_KEY.encrypt(CANARY_SECRET.encode()).decode()
    store_token(embed.credential, token)
    return embed, token


def assert_nothing_leaks(text: str, token: str) -> None:
    assert CANARY_SECRET not in text
    assert token not in text
    assert "gAAAA" not in text  # no Fernet token of any kind
    assert ":jwt=" not in text


# --- The field -----------------------------------------------------------------------


def test_secret_round_trips_and_is_stored_as_a_fernet_token(credential_factory):
    credential = credential_factory()
    assert Credential.objects.get(pk=credential.pk).secret == CANARY_SECRET
    stored = encryption.stored_ciphertexts()[credential.pk]
    assert stored.startswith("gAAAA") and CANARY_SECRET not in stored
    assert encryption.decrypt_token(stored) == CANARY_SECRET


def test_reading_a_secret_no_key_decrypts_raises_and_never_returns_ciphertext(lost_key_embed):
    embed, token = lost_key_embed
    credential = Credential.objects.get(pk=embed.credential_id)  # the row still loads
    with pytest.raises(encryption.SecretUndecryptable) as raised:
        credential.secret  # noqa: B018
    assert str(raised.value) == "The stored secret does not decrypt with FIELD_ENCRYPTION_KEY."
    with pytest.raises(CredentialBroken) as broken:
        credential.signing_secret()
    assert broken.value.detail == f"Credential {credential.name!r} did not decrypt."
    assert_nothing_leaks(repr(credential) + str(credential) + str(broken.value), token)
    # values() gives the stored token wrapped: its repr says what it is and no more.
    (stored,) = Credential.objects.filter(pk=credential.pk).values_list("secret", flat=True)
    assert isinstance(stored, encryption.StoredToken)
    assert repr(stored) == "<encrypted secret>"


def test_saving_a_row_that_does_not_decrypt_keeps_its_stored_token(lost_key_embed):
    embed, token = lost_key_embed
    credential = Credential.objects.get(pk=embed.credential_id)
    services.revoke_credential(credential=credential, reason="key lost")
    credential = Credential.objects.get(pk=embed.credential_id)
    credential.description = "edited on the change page"
    credential.save()
    assert encryption.stored_ciphertexts()[credential.pk] == token
    assert not Credential.objects.get(pk=credential.pk).is_active


def test_a_token_copied_from_another_credential_is_refused(credential_factory):
    first = credential_factory(name="First", client_id="first")
    second = credential_factory(name="Second", client_id="second", secret="x" * 40)
    store_token(second, encryption.stored_ciphertexts()[first.pk])
    with pytest.raises(CredentialBroken):
        Credential.objects.get(pk=second.pk).signing_secret()


def test_an_assigned_token_is_a_value_never_decrypted(credential_factory):
    field = Credential._meta.get_field("secret")
    token = encryption.encrypt_value(CANARY_SECRET)
    # The library's to_python "decrypts" any string it is given; ours does not.
    assert field.to_python(token) == token


def test_probe_finds_a_crypter_that_is_not_built_from_the_first_key(monkeypatch, settings):
    assert encryption.probe_crypter() is True
    monkeypatch.setattr(library, "CRYPTER", MultiFernet([FOREIGN_KEY]))
    assert encryption.probe_crypter() is False
    settings.FIELD_ENCRYPTION_KEY = []
    assert encryption.probe_crypter() is False


def test_reencrypt_token_moves_a_token_to_the_first_key(monkeypatch, settings):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    settings.FIELD_ENCRYPTION_KEY = [new.decode(), old.decode()]
    monkeypatch.setattr(library, "CRYPTER", MultiFernet([Fernet(new), Fernet(old)]))
    token = Fernet(old).encrypt(CANARY_SECRET.encode()).decode()
    assert encryption.key_status(token) is encryption.KeyStatus.OLD_KEY
    moved = encryption.reencrypt_token(token)
    assert encryption.key_status(moved) is encryption.KeyStatus.CURRENT
    assert Fernet(new).decrypt(moved.encode()).decode() == CANARY_SECRET
    with pytest.raises(encryption.SecretUndecryptable):
        encryption.reencrypt_token(FOREIGN_KEY.encrypt(b"x" * 40).decode())


# --- Every door refuses a lost key with credential_broken ------------------------------


def assert_refused_record(source: str) -> None:
    record = AccessRecord.objects.get()
    assert (record.outcome, record.rule, record.source) == (
        AccessRecord.Outcome.REFUSED,
        CredentialBroken.code,
        source,
    )


def test_page_refuses_a_lost_key(client, alice, lost_key_embed):
    embed, token = lost_key_embed
    client.force_login(alice)
    response = client.get(f"/embeds/{embed.slug}/")
    assert response.status_code == 503
    assert CredentialBroken.code in response.content.decode()
    assert_nothing_leaks(response.content.decode(), token)
    assert_refused_record(AccessRecord.Source.PAGE)


def test_refresh_refuses_a_lost_key(client, alice, lost_key_embed):
    embed, token = lost_key_embed
    client.force_login(alice)
    response = client.post(f"/embeds/{embed.slug}/url/", "{}", content_type="application/json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == CredentialBroken.code
    assert_nothing_leaks(response.content.decode(), token)
    assert_refused_record(AccessRecord.Source.REFRESH)


def test_preview_refuses_a_lost_key(admin_client, alice, lost_key_embed):
    embed, token = lost_key_embed
    response = admin_client.post(
        reverse("admin:embeds_embed_preview"), {"user": alice.pk, "embed": embed.pk}
    )
    html = response.content.decode()
    assert response.context["result"]["refusal"].code == CredentialBroken.code
    assert f'<code id="preview-rule">{CredentialBroken.code}</code>' in html
    assert_nothing_leaks(html, token)
    assert_refused_record(AccessRecord.Source.PREVIEW)


def test_sigma_embed_url_refuses_a_lost_key(alice, lost_key_embed):
    embed, token = lost_key_embed
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(
            "sigma_embed_url", "--user", "alice", "--embed", embed.slug, stdout=out, stderr=err
        )
    assert str(refused.value).startswith(f"Refused ({CredentialBroken.code}):")
    assert refused.value.returncode == 1
    assert_nothing_leaks(str(refused.value) + out.getvalue() + err.getvalue(), token)
    assert_refused_record(AccessRecord.Source.COMMAND)


@pytest.mark.urls("tests.embeds.tag_urls")
def test_template_tag_refuses_a_lost_key(client, alice, lost_key_embed):
    embed, token = lost_key_embed
    client.force_login(alice)
    html = client.get("/dashboard/", {"slug": embed.slug}).content.decode()
    assert f'data-refusal="{CredentialBroken.code}"' in html
    assert 'data-src="' not in html
    assert_nothing_leaks(html, token)
    assert_refused_record(AccessRecord.Source.TAG)


# --- And the pages and commands that name it say so, without a secret ----------------


def test_admin_change_page_of_a_lost_key_credential_opens(admin_client, lost_key_embed):
    embed, token = lost_key_embed
    response = admin_client.get(
        reverse("admin:embeds_credential_change", args=[embed.credential_id])
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert embed.credential.secret_fingerprint in html
    assert_nothing_leaks(html, token)


def test_sigma_check_names_a_lost_key_credential(lost_key_embed):
    embed, token = lost_key_embed
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("sigma_check", "--json", stdout=out)
    ids = {finding["id"] for finding in json.loads(out.getvalue())["findings"]}
    assert "embeds.E010" in ids and "embeds.E103" in ids
    assert embed.credential.name in out.getvalue()
    assert_nothing_leaks(out.getvalue(), token)


def test_readyz_fails_the_key_check_when_no_credential_decrypts(client, lost_key_embed, settings):
    embed, token = lost_key_embed
    # The outside world sees only ok/unavailable; each check's result needs the
    # operator's METRICS_TOKEN (N9).
    settings.METRICS_TOKEN = "operator-token-for-readyz"
    public = client.get("/readyz")
    assert public.status_code == 503
    assert "checks" not in public.json()
    response = client.get("/readyz", HTTP_AUTHORIZATION="Bearer operator-token-for-readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["encryption_key"] == "fail"
    for answer in (public, response):
        assert_nothing_leaks(answer.content.decode(), token)


def test_sigma_reencrypt_leaves_a_lost_key_credential_and_names_it(lost_key_embed):
    embed, token = lost_key_embed
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("sigma_reencrypt", stdout=out)
    assert failed.value.returncode == 1
    assert repr(embed.credential.name) in str(failed.value)
    assert encryption.stored_ciphertexts()[embed.credential_id] == token
    assert_nothing_leaks(out.getvalue() + str(failed.value), token)
