"""Key rotation: a new key first, sigma_reencrypt, then the old key removed."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet, MultiFernet
from encrypted_model_fields import fields

from embeds.encryption import KeyStatus, key_status, stored_ciphertexts
from embeds.models import Credential
from tests.conftest import CANARY_SECRET


@pytest.fixture
def use_keys(settings, monkeypatch):
    """Configure FIELD_ENCRYPTION_KEY as a fresh process would: the setting and the
    library's import-time CRYPTER both built from the same list, newest first."""

    def configure(*keys: str) -> None:
        settings.FIELD_ENCRYPTION_KEY = list(keys)
        monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(k) for k in keys]))

    return configure


@pytest.fixture
def old_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def new_key() -> str:
    return Fernet.generate_key().decode()


@pytest.mark.django_db
def test_rotation_with_two_keys_reencrypt_then_remove_the_old_key(
    run, use_keys, old_key, new_key, alice, embed_factory, credential_factory, caplog
):
    use_keys(old_key)
    embed_factory(slug="sales", credential=credential_factory(name="Prod"))
    credential_factory(name="Staging")

    # 1. The new key goes first; everything still reads through the old one.
    use_keys(new_key, old_key)
    assert {key_status(t) for t in stored_ciphertexts().values()} == {KeyStatus.OLD_KEY}
    check = run("sigma_check", "--json")
    assert [f["id"] for f in json.loads(check.stdout)["findings"]].count("embeds.W010") == 2

    # 2. Re-encrypt: every secret now reads with the new key alone.
    first = run("sigma_reencrypt")
    assert (first.returncode, first.stdout) == (
        0,
        "Re-encrypted 2 secret(s) with the first key; 0 already used it.\n",
    )
    for token in stored_ciphertexts().values():
        assert Fernet(new_key).decrypt(token.encode()).decode() == CANARY_SECRET

    # 3. Safe to run twice.
    second = run("sigma_reencrypt", "--json")
    assert json.loads(second.stdout) == {
        "reencrypted": [],
        "already_current": ["Prod", "Staging"],
        "unreadable": [],
    }

    # 4. The old key is removed: everything still decrypts and signs.
    use_keys(new_key)
    for credential in Credential.objects.all():
        assert credential.signing_secret() == CANARY_SECRET
    signed = run("sigma_embed_url", "--user", "alice", "--embed", "sales")
    assert signed.returncode == 0
    check = run("sigma_check", "--json")
    key_findings = {"embeds.E010", "embeds.E011", "embeds.W010", "embeds.E102", "embeds.E103"}
    assert not key_findings & {f["id"] for f in json.loads(check.stdout)["findings"]}
    for result in (first, second, signed, check):
        assert CANARY_SECRET not in result.everything
    assert "Re-encrypted 2 Sigma credential secret(s)" in caplog.text
    assert CANARY_SECRET not in caplog.text


@pytest.mark.django_db
def test_removing_the_old_key_before_reencrypting_is_reported(
    run, use_keys, old_key, new_key, credential_factory
):
    use_keys(old_key)
    credential_factory(name="Prod")
    use_keys(new_key)

    result = run("sigma_reencrypt")

    assert result.returncode == 1
    assert result.stdout == "Re-encrypted 0 secret(s) with the first key; 0 already used it.\n"
    assert result.error == (
        "1 secret(s) could not be decrypted with any key in FIELD_ENCRYPTION_KEY and were "
        "left as they are: 'Prod'. Add back the key that encrypted them, or enter them "
        "again with `sigma_credentials rotate`; do not remove old keys yet."
    )
    # Untouched: putting the old key back restores it.
    use_keys(new_key, old_key)
    assert Credential.objects.get(name="Prod").signing_secret() == CANARY_SECRET
    assert CANARY_SECRET not in result.everything


@pytest.mark.django_db
def test_reencrypt_refuses_when_the_library_and_the_setting_disagree(
    run, settings, monkeypatch, use_keys, old_key, new_key, credential_factory
):
    use_keys(old_key)
    credential = credential_factory(name="Prod")
    token_before = stored_ciphertexts()[credential.pk]
    # The setting lists a new key first, but the library still encrypts with the old.
    settings.FIELD_ENCRYPTION_KEY = [new_key, old_key]

    result = run("sigma_reencrypt")

    assert (result.returncode, result.error) == (
        1,
        "Credential 'Prod' did not read back with the first key of FIELD_ENCRYPTION_KEY "
        "after re-encryption; nothing was changed.",
    )
    assert stored_ciphertexts()[credential.pk] == token_before


@pytest.mark.django_db
def test_reencrypt_with_no_credentials(run):
    assert run("sigma_reencrypt").stdout == (
        "Re-encrypted 0 secret(s) with the first key; 0 already used it.\n"
    )
