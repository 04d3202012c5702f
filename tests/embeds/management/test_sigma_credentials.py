"""manage.py sigma_credentials: create, list, revoke, activate, rotate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from embeds.encryption import stored_ciphertexts
from embeds.management.commandline import (
    MSG_NOTHING_ON_STDIN,
    MSG_TYPED_VALUES_DIFFER,
    MSG_UNRECOGNIZED,
)
from embeds.models import Credential, secret_fingerprint
from tests.conftest import CANARY_SECRET
from tests.embeds.management.conftest import FakeStdin, FakeTTY

NEW_SECRET = "rotated-SECRET-1c9e77aa-also-never-printed"


def create_args(name="Prod", client_id="prod-client"):
    return ("sigma_credentials", "create", "--name", name, "--client-id", client_id)


# --- create ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("piped", [CANARY_SECRET, CANARY_SECRET + "\n", CANARY_SECRET + "\r\n"])
def test_create_reads_secret_from_stdin_and_prints_only_fingerprint(run, piped, caplog):
    result = run(
        *create_args(),
        "--owner-email",
        "ops@example.com",
        "--owner-admin",
        "--description",
        "Production",
        stdin=piped,
    )

    credential = Credential.objects.get(name="Prod")
    assert result.returncode == 0
    assert result.stdout == (
        f"Created credential 'Prod' (client ID prod-client, fingerprint "
        f"{secret_fingerprint(CANARY_SECRET)}).\n"
    )
    assert credential.signing_secret() == CANARY_SECRET
    assert (credential.owner_email, credential.owner_is_admin, credential.description) == (
        "ops@example.com",
        True,
        "Production",
    )
    assert CANARY_SECRET not in result.everything
    assert "Created Sigma credential Prod (prod-client)" in caplog.text
    assert CANARY_SECRET not in caplog.text


@pytest.mark.django_db
def test_create_prompts_without_echo_on_a_terminal(run, monkeypatch):
    prompts = []

    def fake_getpass(prompt):
        prompts.append(prompt)
        return CANARY_SECRET

    monkeypatch.setattr("embeds.management.commandline.getpass.getpass", fake_getpass)
    result = run(*create_args(), stdin=FakeTTY())

    assert result.returncode == 0
    assert prompts == ["Embed secret: ", "Embed secret (again): "]
    assert Credential.objects.get(name="Prod").signing_secret() == CANARY_SECRET
    assert CANARY_SECRET not in result.everything


@pytest.mark.django_db
def test_create_refuses_when_the_two_typed_secrets_differ(run, monkeypatch):
    answers = iter([CANARY_SECRET, NEW_SECRET])
    monkeypatch.setattr(
        "embeds.management.commandline.getpass.getpass", lambda prompt: next(answers)
    )

    result = run(*create_args(), stdin=FakeTTY())

    assert (result.returncode, result.error) == (1, MSG_TYPED_VALUES_DIFFER)
    assert not Credential.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("piped", "message"),
    [
        ("", MSG_NOTHING_ON_STDIN),
        ("\n", MSG_NOTHING_ON_STDIN),
        (
            "short-secret",
            # 32 bytes since issue #10 (PyJWT's HS256 minimum); was 16 characters.
            "Credential not created: An embed secret is at least 32 bytes (HS256's "
            "minimum, RFC 7518 section 3.2) and at most 512 characters. Paste the whole "
            "secret Sigma showed.",
        ),
        (
            " " + CANARY_SECRET,
            "Credential not created: The embed secret starts or ends with whitespace. Paste "
            "it exactly as Sigma showed it; nothing is trimmed for you.",
        ),
        (
            CANARY_SECRET + "\x07",
            "Credential not created: The embed secret contains control characters.",
        ),
    ],
)
def test_create_refuses_a_bad_secret_and_writes_nothing(run, piped, message):
    result = run(*create_args(), stdin=piped)

    assert (result.returncode, result.error) == (1, message)
    assert result.stdout == ""
    assert not Credential.objects.exists()
    assert CANARY_SECRET not in result.everything


@pytest.mark.django_db
def test_create_refuses_a_bad_owner_email(run):
    result = run(*create_args(), "--owner-email", "not an email", stdin=CANARY_SECRET)

    assert (result.returncode, result.error) == (
        1,
        "Credential not created: owner_email: Enter a valid email address.",
    )
    assert not Credential.objects.exists()


@pytest.mark.django_db
def test_create_refuses_a_duplicate_name_before_reading_the_secret(run, credential_factory):
    credential_factory(name="Prod")
    stdin = FakeStdin(NEW_SECRET)

    result = run(*create_args(client_id="other"), stdin=stdin)

    assert (result.returncode, result.error) == (
        1,
        "A credential named 'Prod' already exists; choose another --name.",
    )
    assert stdin.tell() == 0  # the secret was never read
    assert Credential.objects.count() == 1


@pytest.mark.django_db
def test_create_refuses_a_duplicate_client_id(run, credential_factory):
    credential_factory(name="Old", client_id="prod-client")

    result = run(*create_args(), stdin=NEW_SECRET)

    assert (result.returncode, result.error) == (
        1,
        "The client ID 'prod-client' already belongs to credential 'Old'; each client ID "
        "is stored once.",
    )
    assert list(Credential.objects.values_list("name", flat=True)) == ["Old"]


@pytest.mark.django_db
def test_secret_argument_does_not_exist_and_is_not_echoed(run):
    result = run(*create_args(), "--secret", CANARY_SECRET, stdin=NEW_SECRET)

    assert (result.returncode, result.error) == (1, f"Error: {MSG_UNRECOGNIZED}")
    assert CANARY_SECRET not in result.everything
    assert not Credential.objects.exists()


def test_secret_argument_on_the_real_command_line_exits_2_without_echo():
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    completed = subprocess.run(  # noqa: S603  (fixed argv, no shell)
        [
            sys.executable,
            "manage.py",
            "sigma_credentials",
            "create",
            "--name",
            "x",
            "--client-id",
            "y",
            f"--secret={CANARY_SECRET}",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 2
    assert MSG_UNRECOGNIZED in completed.stderr
    assert CANARY_SECRET not in completed.stdout + completed.stderr


# --- list ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_prints_one_line_per_credential_without_the_secret(
    run, embed_factory, credential_factory
):
    prod = credential_factory(name="Prod", client_id="prod-client")
    embed_factory(credential=prod)
    credential_factory(
        name="Old",
        client_id="old-client",
        owner_email="",
        owner_is_admin=False,
        is_active=False,
        revoked_reason="leaked",
    )

    result = run("sigma_credentials", "list")

    fp = secret_fingerprint(CANARY_SECRET)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"Old  client ID old-client  fingerprint {fp}  REVOKED (leaked)  owner no owner  embeds 0",
        f"Prod  client ID prod-client  fingerprint {fp}  active  owner owner@example.com, "
        "Sigma Admin  embeds 1",
    ]
    assert CANARY_SECRET not in result.everything


@pytest.mark.django_db
def test_list_json_prints_only_json_without_the_secret(run, credential_factory):
    credential_factory(name="Prod", client_id="prod-client")

    result = run("sigma_credentials", "list", "--json")

    rows = json.loads(result.stdout)
    assert [
        (r["name"], r["client_id"], r["fingerprint"], r["active"], r["embeds"]) for r in rows
    ] == [("Prod", "prod-client", secret_fingerprint(CANARY_SECRET), True, 0)]
    assert set(rows[0]) == {
        "name",
        "client_id",
        "fingerprint",
        "active",
        "owner_email",
        "owner_is_admin",
        "embed_privilege",
        "api_privilege",
        "embeds",
        "secret_rotated_at",
        "last_used_at",
        "revoked_at",
        "revoked_reason",
    }
    assert CANARY_SECRET not in result.everything


@pytest.mark.django_db
def test_list_says_when_there_are_none(run):
    assert run("sigma_credentials", "list").stdout == (
        "No credentials. Create one with `sigma_credentials create`.\n"
    )
    assert json.loads(run("sigma_credentials", "list", "--json").stdout) == []


# --- revoke / activate ---------------------------------------------------------------


@pytest.mark.django_db
def test_revoke_without_yes_shows_affected_embeds_and_changes_nothing(run, embed_factory):
    embed = embed_factory(slug="sales")

    result = run("sigma_credentials", "revoke", embed.credential.name, "--reason", "leaked")

    assert (result.returncode, result.error) == (
        1,
        f"Revoking {embed.credential.name!r} switches off 1 embed(s): sales. Nothing "
        "changed; run again with --yes to revoke.",
    )
    embed.credential.refresh_from_db()
    assert embed.credential.is_active


@pytest.mark.django_db
def test_revoke_with_yes_records_reason_and_actor(run, embed_factory, admin_user):
    embed = embed_factory(slug="sales")
    name = embed.credential.name

    result = run(
        "sigma_credentials",
        "revoke",
        name,
        "--reason",
        "leaked in a ticket",
        "--yes",
        "--actor",
        "admin",
    )

    credential = Credential.objects.get(name=name)
    assert result.returncode == 0
    assert result.stdout == f"Revoked credential {name!r}; embeds now refused: sales.\n"
    assert (credential.is_active, credential.revoked_reason, credential.revoked_by) == (
        False,
        "leaked in a ticket",
        admin_user,
    )
    assert credential.revoked_at is not None
    again = run("sigma_credentials", "revoke", name, "--reason", "other", "--yes")
    assert (again.returncode, again.stdout) == (
        0,
        f"Credential {name!r} is already revoked; nothing changed.\n",
    )
    credential.refresh_from_db()
    assert credential.revoked_reason == "leaked in a ticket"


@pytest.mark.django_db
def test_revoke_refuses_an_empty_reason(run, credential_factory):
    credential = credential_factory(name="Prod")

    result = run("sigma_credentials", "revoke", "Prod", "--reason", "  ", "--yes")

    assert (result.returncode, result.error) == (
        1,
        "--reason is empty; say why the credentials are revoked.",
    )
    credential.refresh_from_db()
    assert credential.is_active


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [
        ("revoke", "Nope", "--reason", "x", "--yes"),
        ("activate", "Nope"),
        ("rotate", "Nope"),
    ],
)
def test_unknown_credential_names_the_known_ones(run, credential_factory, args):
    credential_factory(name="Prod")

    result = run("sigma_credentials", *args, stdin=NEW_SECRET)

    assert (result.returncode, result.error) == (
        1,
        "No credential is named 'Nope'. Known credentials: 'Prod' (see `manage.py "
        "sigma_credentials list`).",
    )


@pytest.mark.django_db
def test_unknown_actor_is_refused(run, credential_factory):
    credential_factory(name="Prod")

    result = run("sigma_credentials", "revoke", "Prod", "--reason", "x", "--yes", "--actor", "eve")

    assert (result.returncode, result.error) == (
        1,
        "No user has the username 'eve'. Pass an existing host username.",
    )
    assert Credential.objects.get(name="Prod").is_active


@pytest.mark.django_db
def test_activate_restores_a_revoked_credential(run, credential_factory):
    credential_factory(name="Prod", is_active=False, revoked_reason="drill")

    result = run("sigma_credentials", "activate", "Prod")

    credential = Credential.objects.get(name="Prod")
    assert (result.returncode, result.stdout) == (0, "Re-activated credential 'Prod'.\n")
    assert (credential.is_active, credential.revoked_reason, credential.revoked_at) == (
        True,
        "",
        None,
    )
    again = run("sigma_credentials", "activate", "Prod")
    assert again.stdout == "Credential 'Prod' is already active; nothing changed.\n"


# --- rotate --------------------------------------------------------------------------


@pytest.mark.django_db
def test_rotate_replaces_the_secret_and_keeps_no_trace_of_the_old_one(
    run, credential_factory, caplog
):
    credential = credential_factory(name="Prod")

    result = run("sigma_credentials", "rotate", "Prod", stdin=NEW_SECRET + "\n")

    credential.refresh_from_db()
    assert result.returncode == 0
    assert result.stdout == (
        f"Replaced the secret of 'Prod' (fingerprint {secret_fingerprint(CANARY_SECRET)} -> "
        f"{secret_fingerprint(NEW_SECRET)}); the old secret is no longer stored.\n"
    )
    assert credential.signing_secret() == NEW_SECRET
    assert credential.secret_fingerprint == secret_fingerprint(NEW_SECRET)
    assert credential.secret_rotated_at is not None
    token = stored_ciphertexts()[credential.pk]
    from encrypted_model_fields.fields import decrypt_str

    assert decrypt_str(token) == NEW_SECRET
    assert CANARY_SECRET not in result.everything
    assert NEW_SECRET not in result.everything
    assert "Replaced the secret of Sigma credential Prod" in caplog.text
    assert CANARY_SECRET not in caplog.text and NEW_SECRET not in caplog.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("piped", "message"),
    [
        ("", MSG_NOTHING_ON_STDIN),
        (
            "too-short",
            "Secret not replaced: An embed secret is at least 32 bytes (HS256's minimum, "
            "RFC 7518 section 3.2) and at most 512 characters. Paste the whole secret "
            "Sigma showed.",
        ),
    ],
)
def test_rotate_refuses_a_bad_secret_and_keeps_the_old_one(run, credential_factory, piped, message):
    credential = credential_factory(name="Prod")

    result = run("sigma_credentials", "rotate", "Prod", stdin=piped)

    credential.refresh_from_db()
    assert (result.returncode, result.error) == (1, message)
    assert credential.signing_secret() == CANARY_SECRET


@pytest.mark.django_db
def test_no_action_is_an_error(run):
    result = run("sigma_credentials")

    assert result.returncode == 1
    assert "the following arguments are required: ACTION" in result.error


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("flags", "embed", "api", "suffix"),
    [
        ((), True, False, ""),
        (("--api",), True, True, "  privileges embed+api"),
        (("--api-only",), False, True, "  privileges api"),
    ],
)
def test_create_records_the_privileges_sigma_granted(run, flags, embed, api, suffix):
    run(
        "sigma_credentials",
        "create",
        "--name",
        "Api",
        "--client-id",
        "api-client",
        *flags,
        stdin=CANARY_SECRET,
    )

    credential = Credential.objects.get(name="Api")
    assert (credential.embed_privilege, credential.api_privilege) == (embed, api)
    listed = run("sigma_credentials", "list").stdout.splitlines()
    assert listed[0].endswith("embeds 0" + suffix)
