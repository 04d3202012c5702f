"""manage.py sigma_emulator_seed, and seed_demo registering its credentials in the emulator."""

from __future__ import annotations

from io import StringIO

import jwt
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from embeds.models import Credential as HostCredential
from sigma_emulator.directory import OrgDirectory
from sigma_emulator.management.commands.sigma_emulator_seed import (
    MSG_NO_SECRET,
    MSG_SECRET_NEEDS_ID,
)
from sigma_emulator.models import Credential, Member, Organization, Team, Workbook
from tests.conftest import CANARY_SECRET

pytestmark = pytest.mark.django_db


def seed(*args: str, stdin: str | None = None) -> str:
    out = StringIO()
    options = {"stdout": out, "stderr": StringIO()}
    if stdin is not None:
        options["stdin"] = StringIO(stdin)
    call_command("sigma_emulator_seed", *args, **options)
    return out.getvalue()


def test_seed_builds_the_sample_organization_and_is_idempotent():
    first = seed()
    second = seed()

    assert first == second
    assert first.startswith("Emulated organization demo-org: 2 members, teams Marketing, Sales;")
    assert str(Organization.current()) == "demo-org"
    workbook = Workbook.objects.get()
    assert workbook.url_id == "4bq2ZtkLmV8xWn3pRs6HyA"
    assert list(workbook.shared_with.values_list("name", flat=True)) == ["Sales"]
    assert [page.name for page in workbook.pages.all()] == ["Overview", "Details"]
    assert Team.objects.count() == 2
    assert not Credential.objects.exists()


def test_seed_registers_credentials_with_the_secret_from_stdin_only():
    out = seed("--client-id", "cid-1", "--secret-stdin", stdin=CANARY_SECRET + "\n")

    credential = Credential.objects.get(client_id="cid-1")
    assert credential.secret == CANARY_SECRET
    assert (credential.embed_privilege, credential.api_privilege) == (True, True)
    assert credential.owner.email == "admin@example.com" and credential.owner.is_admin
    assert "Credentials cid-1 registered (Embedding, REST API), owner admin@example.com." in out
    assert CANARY_SECRET not in out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("--secret-stdin",), "x", MSG_SECRET_NEEDS_ID),
        (("--client-id", "cid", "--secret-stdin"), "\n", MSG_NO_SECRET),
    ],
)
def test_seed_refuses_a_secret_it_cannot_use(args, stdin, message):
    with pytest.raises(CommandError) as caught:
        seed(*args, stdin=stdin)

    assert str(caught.value) == message
    assert caught.value.returncode == 2
    assert not Organization.objects.exists()


def test_seed_reset_deletes_the_organization_first():
    seed("--client-id", "cid-1", "--secret-stdin", stdin=CANARY_SECRET)
    Team.objects.create(name="Leftover")

    out = seed("--reset", "--org", "acme")

    assert out.startswith("Reset the emulated organization: deleted ")
    assert not Credential.objects.exists()
    assert not Team.objects.filter(name="Leftover").exists()
    assert str(Organization.current()) == "acme"
    assert Organization.objects.count() == 1


def test_seed_demo_registers_the_host_credentials_in_the_emulator(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setenv("SIGMA_DEMO_CLIENT_ID", "demo-fixed-id")
    monkeypatch.setenv("SIGMA_DEMO_SECRET", CANARY_SECRET)
    out = StringIO()

    call_command("seed_demo", stdout=out)

    host = HostCredential.objects.get()
    emulated = Credential.objects.get(client_id=host.client_id)
    assert (host.embed_privilege, host.api_privilege) == (True, True)
    assert emulated.secret == host.signing_secret() == CANARY_SECRET
    assert OrgDirectory().embed_secret("demo-fixed-id") == CANARY_SECRET
    assert str(Organization.current()) == "demo-org"
    assert Member.objects.get(email=host.owner_email).is_admin
    assert "Credentials demo-fixed-id registered" in out.getvalue()
    assert CANARY_SECRET not in out.getvalue()
    # A host token signed with the demo credential verifies against the emulator.
    token = jwt.encode({"sub": "x"}, host.signing_secret(), headers={"kid": host.client_id})
    assert jwt.decode(token, OrgDirectory().embed_secret(host.client_id), algorithms=["HS256"])


def test_seed_demo_follows_a_new_demo_secret(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setenv("SIGMA_DEMO_CLIENT_ID", "demo-fixed-id")
    monkeypatch.setenv("SIGMA_DEMO_SECRET", "first-secret-0123456789abcdef0123")
    call_command("seed_demo", stdout=StringIO())
    monkeypatch.setenv("SIGMA_DEMO_SECRET", CANARY_SECRET)

    call_command("seed_demo", stdout=StringIO())

    assert OrgDirectory().embed_secret("demo-fixed-id") == CANARY_SECRET
    assert Credential.objects.count() == 1
