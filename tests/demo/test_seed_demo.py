"""seed_demo: idempotent demo data, refused without DEBUG unless forced."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from demo.personas import DEMO_USERNAMES, PUBLISHED_PASSWORDS
from embeds.checks.security import check_demo_accounts
from embeds.issuing.identity import identity_for
from embeds.models import Credential, Embed


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG") as caught:
        call_command("seed_demo")
    assert caught.value.returncode == 2
    assert not Credential.objects.exists()


@pytest.mark.django_db
def test_seed_demo_creates_the_personas_and_is_idempotent(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    User = get_user_model()
    alice = User.objects.get(username="alice")
    identity = identity_for(alice)
    assert (identity.email, identity.account_type, identity.teams) == (
        "alice@example.com",
        "View",
        ("Sales",),
    )
    assert identity.attributes == {"region": "West"}
    assert identity_for(User.objects.get(username="bob")).teams == ()
    elena = identity_for(User.objects.get(username="elena"))
    assert (elena.teams, elena.attributes) == (("Sales",), {"region": "East"})
    assert User.objects.get(username="admin").is_superuser
    assert alice.check_password("demo")
    assert Credential.objects.count() == 1
    kinds = sorted(embed.content.kind for embed in Embed.objects.all())
    assert kinds == ["element", "workbook"]
    assert all(e.url.startswith(settings.SIGMA_EMULATOR_ORIGIN) for e in Embed.objects.all())


@pytest.mark.django_db
def test_seed_demo_takes_client_id_and_secret_from_the_environment(settings, monkeypatch, capsys):
    settings.DEBUG = True
    secret = "demo-secret-from-env-0123456789abcdef"
    monkeypatch.setenv("SIGMA_DEMO_CLIENT_ID", "demo-fixed-id")
    monkeypatch.setenv("SIGMA_DEMO_SECRET", secret)
    call_command("seed_demo")
    credential = Credential.objects.get()
    assert credential.client_id == "demo-fixed-id"
    assert credential.signing_secret() == secret
    out = capsys.readouterr().out
    assert "demo-fixed-id" in out and secret not in out


@pytest.mark.django_db
def test_seed_demo_refuses_when_the_emulator_origin_is_not_allowed(settings):
    settings.DEBUG = True
    settings.SIGMA_ALLOWED_ORIGINS = ["https://app.sigmacomputing.com"]
    with pytest.raises(CommandError, match="SIGMA_ALLOWED_ORIGINS"):
        call_command("seed_demo")
    assert not Credential.objects.exists()


@pytest.mark.django_db
def test_every_seeded_login_is_one_the_demo_accounts_check_knows(settings):
    """check --deploy (embeds.W104) must know every account seed_demo creates."""
    settings.DEBUG = True
    call_command("seed_demo")
    seeded = set(get_user_model().objects.values_list("username", flat=True))
    assert seeded == set(DEMO_USERNAMES)
    # The host hands the demo's logins to the app's check as data.
    assert settings.SIGMA_PUBLISHED_PASSWORDS == PUBLISHED_PASSWORDS
    assert set(PUBLISHED_PASSWORDS) == seeded
    settings.DEBUG = False
    (warning,) = check_demo_accounts()
    assert warning.id == "embeds.W104"
    assert warning.msg.endswith(": admin, alice, bob, elena.")
