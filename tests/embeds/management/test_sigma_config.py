"""manage.py sigma_config export / import: declarative, validated, one transaction."""

from __future__ import annotations

import copy
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from embeds.config import MAX_BYTES, SECRET_ENV_PREFIX, export_config, secret_env_name
from embeds.models import (
    AccountType,
    Credential,
    Embed,
    GroupMapping,
    SigmaProfile,
    Team,
    UserAttribute,
)
from embeds.models.mappings import MSG_EMAIL_TAKEN
from embeds.protocol.controls import MSG_NUMBER
from embeds.protocol.validators import MSG_CONNECTION_ID
from tests.conftest import CANARY_SECRET, WORKBOOK_URL

NEW_SECRET = "imported-SECRET-5d2c-not-in-any-output-81"
CONNECTION = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


@pytest.fixture
def configured(alice, embed_factory, credential_factory, team_factory, user_factory):
    """A configuration touching every section of the file."""
    prod = credential_factory(name="Prod", client_id="prod-client", description="Production")
    old = credential_factory(name="Old key", client_id="old-client")
    Credential.objects.filter(pk=old.pk).update(is_active=False, revoked_reason="leaked")
    embed_factory(
        slug="sales",
        title="Sales",
        credential=prod,
        teams=("Sales", "Marketing"),
        theme="Dark",
        menu_position="top",
        hide_menu=True,
        token_ttl=900,
        eval_connection_id=CONNECTION,
        controls=[("Region", "West\nEast", True, "list"), ("Year", "", False)],
    )
    embed_factory(slug="old", title="Old", credential=old, teams=("Sales",), is_enabled=False)
    group = Group.objects.create(name="Marketers")
    mapping = GroupMapping.objects.create(
        group=group,
        account_type=AccountType.objects.get_or_create(name="Build")[0],
        internal=True,
        eval_connection_id=CONNECTION,
    )
    mapping.teams.set([team_factory("Marketing")])
    user_factory("bob", teams=[], attributes={})
    SigmaProfile.objects.filter(user__username="bob").update(
        is_blocked=True, blocked_reason="left the company"
    )


def write(tmp_path, data, name="sigma.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


def table_counts():
    return (
        Team.objects.count(),
        AccountType.objects.count(),
        UserAttribute.objects.count(),
        Credential.objects.count(),
        Embed.objects.count(),
        SigmaProfile.objects.count(),
        GroupMapping.objects.count(),
    )


# --- export -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_prints_the_configuration_without_secrets(run, configured):
    result = run("sigma_config", "export")

    data = json.loads(result.stdout)
    assert data["version"] == 1
    assert data["credentials"][1] == {
        "name": "Prod",
        "client_id": "prod-client",
        "secret_env": "SIGMA_SECRET_PROD",
        "description": "Production",
        "owner_email": "owner@example.com",
        "owner_is_admin": True,
        "active": True,
        "revoked_reason": "",
    }
    assert data["credentials"][0]["secret_env"] == "SIGMA_SECRET_OLD_KEY"
    sales = next(e for e in data["embeds"] if e["slug"] == "sales")
    assert (sales["credential"], sales["teams"], sales["theme"], sales["token_ttl"]) == (
        "Prod",
        ["Marketing", "Sales"],
        "Dark",
        900,
    )
    assert sales["eval_connection_id"] == CONNECTION
    assert sales["controls"] == [
        {
            "control_id": "Region",
            "type": "list",
            "default_value": "West\nEast",
            "allow_from_query": True,
        },
        {"control_id": "Year", "type": "text", "default_value": "", "allow_from_query": False},
    ]
    assert [u["username"] for u in data["users"]] == ["alice", "bob"]
    assert data["users"][0]["attributes"] == {"region": "West"}
    assert (data["users"][0]["internal"], data["users"][0]["eval_connection_id"]) == ("inherit", "")
    assert data["groups"] == [
        {
            "name": "Marketers",
            "account_type": "Build",
            "teams": ["Marketing"],
            "internal": True,
            "eval_connection_id": CONNECTION,
        }
    ]
    assert CANARY_SECRET not in result.everything


@pytest.mark.django_db
def test_export_to_a_file(run, configured, tmp_path):
    target = tmp_path / "out.json"

    result = run("sigma_config", "export", "--output", str(target))

    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == f"Wrote the Sigma configuration to {target}.\n"
    assert json.loads(target.read_text()) == export_config()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temp file left
    assert CANARY_SECRET not in target.read_text()


@pytest.mark.django_db
def test_export_to_a_missing_folder_fails(run, tmp_path):
    result = run("sigma_config", "export", "--output", str(tmp_path / "no" / "out.json"))

    assert (result.returncode, result.error) == (
        1,
        f"Cannot write {tmp_path / 'no' / 'out.json'}: the folder {tmp_path / 'no'} does "
        "not exist.",
    )


# --- round trip ----------------------------------------------------------------------------


# flush truncates tables, which PostgreSQL refuses inside the per-test transaction
# of a plain django_db test ("pending trigger events"): run this one unwrapped.
@pytest.mark.django_db(transaction=True)
def test_round_trip_export_flush_import_gives_the_same_configuration(
    run, configured, tmp_path, monkeypatch, caplog
):
    path = tmp_path / "sigma.json"
    run("sigma_config", "export", "--output", str(path))
    before = export_config()

    call_command("flush", interactive=False, verbosity=0)
    assert not Credential.objects.exists()
    # Host accounts are not part of the Sigma configuration: they must exist first.
    User = get_user_model()
    for username in ("alice", "bob"):
        User.objects.create_user(username, f"{username}@example.com")
    Group.objects.create(name="Marketers")
    monkeypatch.setenv("SIGMA_SECRET_PROD", CANARY_SECRET)
    monkeypatch.setenv("SIGMA_SECRET_OLD_KEY", CANARY_SECRET)

    # The file restores an internal group: the operator asks for it by name (NEW-4).
    assert "--allow-internal" in run("sigma_config", "import", str(path)).everything
    result = run("sigma_config", "import", str(path), "--allow-internal")

    assert result.returncode == 0
    assert export_config() == before
    assert Credential.objects.get(name="Prod").signing_secret() == CANARY_SECRET
    old = Credential.objects.get(name="Old key")
    assert (old.is_active, old.revoked_reason) == (False, "leaked")
    assert result.stdout.splitlines()[-1] == "12 created, 0 changed, 0 unchanged."
    assert CANARY_SECRET not in result.everything
    assert CANARY_SECRET not in caplog.text

    # Idempotent: a second import changes nothing.
    again = run("sigma_config", "import", str(path), "--json")
    report = json.loads(again.stdout)
    assert (report["created"], report["changed"], len(report["unchanged"])) == ([], [], 12)
    assert export_config() == before


@pytest.mark.django_db
def test_import_reports_created_changed_and_unchanged(run, configured, tmp_path):
    data = export_config()
    data["teams"].append({"name": "Finance", "description": "new"})
    next(e for e in data["embeds"] if e["slug"] == "sales")["title"] = "Sales (renamed)"

    result = run("sigma_config", "import", write(tmp_path, data))

    lines = result.stdout.splitlines()
    assert "created   team 'Finance'" in lines
    assert "changed   embed 'sales'" in lines
    assert "unchanged embed 'old'" in lines
    assert lines[-1] == "1 created, 1 changed, 11 unchanged."
    assert Embed.objects.get(slug="sales").title == "Sales (renamed)"


@pytest.mark.django_db
def test_dry_run_reports_and_writes_nothing(run, configured, tmp_path, monkeypatch):
    data = export_config()
    data["teams"].append({"name": "Finance", "description": ""})
    data["credentials"].append(
        {"name": "New", "client_id": "new-client", "secret_env": "SIGMA_SECRET_NEW"}
    )
    data["embeds"][0]["teams"] = ["Finance"]
    monkeypatch.setenv("SIGMA_SECRET_NEW", NEW_SECRET)
    before = export_config()

    result = run("sigma_config", "import", write(tmp_path, data), "--dry-run")

    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == (
        "2 created, 1 changed, 11 unchanged (dry run: nothing was written)."
    )
    assert export_config() == before
    assert NEW_SECRET not in result.everything


@pytest.mark.django_db
def test_secret_from_the_environment_replaces_an_existing_one(
    run, configured, tmp_path, monkeypatch
):
    monkeypatch.setenv("SIGMA_SECRET_PROD", NEW_SECRET)

    result = run("sigma_config", "import", write(tmp_path, export_config()))

    assert "changed   credential 'Prod'" in result.stdout.splitlines()
    assert "note      credential 'Prod': secret replaced from $SIGMA_SECRET_PROD" in (
        result.stdout.splitlines()
    )
    assert Credential.objects.get(name="Prod").signing_secret() == NEW_SECRET
    assert NEW_SECRET not in result.everything and CANARY_SECRET not in result.everything


@pytest.mark.django_db
def test_import_never_reactivates_revoked_credentials(run, configured, tmp_path):
    data = export_config()
    data["credentials"][0]["active"] = True  # "Old key", revoked here

    result = run("sigma_config", "import", write(tmp_path, data))

    assert result.returncode == 0
    assert (
        "note      credential 'Old key' stays revoked although the file says active; "
        "re-activate it with `manage.py sigma_credentials activate`"
    ) in result.stdout.splitlines()
    assert not Credential.objects.get(name="Old key").is_active


@pytest.mark.django_db
def test_import_revokes_when_the_file_says_so(run, configured, tmp_path):
    data = export_config()
    data["credentials"][1].update(active=False, revoked_reason="rotated out")

    run("sigma_config", "import", write(tmp_path, data))

    prod = Credential.objects.get(name="Prod")
    assert (prod.is_active, prod.revoked_reason) == (False, "rotated out")


# --- bad input: one line, non-zero exit, nothing written -----------------------------------

BASE = {
    "version": 1,
    "teams": [{"name": "Finance"}],
    "credentials": [{"name": "New", "client_id": "new-client", "secret_env": "SIGMA_SECRET_NEW"}],
    "embeds": [
        {
            "slug": "finance",
            "title": "Finance",
            "url": WORKBOOK_URL,
            "credential": "New",
            "teams": ["Finance"],
        }
    ],
    "users": [{"username": "alice", "account_type": "View", "teams": ["Finance"]}],
}


def variant(change):
    data = copy.deepcopy(BASE)
    change(data)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ('{"version": 1, "teams": [', "not valid JSON (line 1, column 26: Expecting value)"),
        ("[]", "expected a JSON object at the top level"),
        (variant(lambda d: d.update(version=2)), "version: must be 1"),
        (variant(lambda d: d.update(tems=[])), "unknown section 'tems'"),
        (variant(lambda d: d["teams"][0].update(colour="red")), "teams[0]: unknown key 'colour'"),
        (
            variant(lambda d: d["credentials"][0].update(secret=CANARY_SECRET)),
            "credentials[0].secret: secrets never go in the file; name an environment "
            "variable in secret_env",
        ),
        (
            variant(lambda d: d["embeds"][0].update(token_ttl="1h")),
            "embeds[0].token_ttl: expected an integer",
        ),
        (
            variant(lambda d: d["embeds"][0].update(token_ttl=2_592_001)),
            "embeds[0].token_ttl: Ensure this value is less than or equal to 2592000.",
        ),
        (
            variant(lambda d: d["embeds"][0].update(url="http://evil.example/x")),
            "embeds[0].url: Use an https:// URL; Sigma content is only served over https.",
        ),
        (
            variant(lambda d: d["embeds"][0].update(credential="Nope")),
            "embeds[0].credential: unknown credential 'Nope' (add it to credentials or "
            "create it first)",
        ),
        (
            variant(lambda d: d["embeds"][0].update(eval_connection_id="warehouse-2")),
            "embeds[0].eval_connection_id: " + MSG_CONNECTION_ID,
        ),
        (
            variant(
                lambda d: d["embeds"][0].update(
                    controls=[{"control_id": "Amount", "type": "number", "default_value": "x"}]
                )
            ),
            "embeds[0].controls[0].default_value: " + MSG_NUMBER,
        ),
        (
            variant(
                lambda d: d["embeds"][0].update(
                    controls=[{"control_id": "Amount", "type": "colour"}]
                )
            ),
            "embeds[0].controls[0].type: Value 'colour' is not a valid choice.",
        ),
        (
            variant(
                lambda d: d["embeds"][0].update(
                    controls=[
                        {
                            "control_id": "From",
                            "type": "date_range",
                            "default_value": "min:2024-01-01",
                        }
                    ]
                )
            ),
            "embeds[0].controls[0].default_value: Sigma reads a range only with both keys: "
            "write min:2024-01-01,max: instead of min:2024-01-01.",
        ),
        (
            variant(lambda d: d["embeds"][0].update(hide_title=True)),
            "embeds[0]: 'hide_title' is no longer an option: Sigma's list of parameters for "
            "JWT-signed URLs does not include it and says unlisted parameters are not "
            "supported, so Sigma ignored it. Delete the key; to take a feature away from "
            "users, use their account type's permissions in Sigma",
        ),
        (
            variant(lambda d: d["embeds"][0].update(lng_variant="Custom")),
            "embeds[0].lng_variant: A translation variant needs a language: set the language too.",
        ),
        (
            variant(lambda d: d["users"][0].update(eval_connection_id="nope")),
            "users[0].eval_connection_id: " + MSG_CONNECTION_ID,
        ),
        (
            variant(lambda d: d["users"][0].update(username="eve")),
            "users[0].username: no user 'eve'; users must exist first",
        ),
        (
            variant(lambda d: d["users"][0].update(teams=["Nope"])),
            "users[0].teams: unknown team 'Nope' (add it to teams or create it first)",
        ),
        (
            variant(lambda d: d.update(groups=[{"name": "Nobody"}])),
            "groups[0].name: no group 'Nobody'; groups must exist first",
        ),
        (
            variant(lambda d: d["teams"].append({"name": "Finance"})),
            "teams[1].name: 'Finance' is listed twice",
        ),
        (
            variant(
                lambda d: d["credentials"].append(
                    {"name": "Twin", "client_id": "new-client", "secret_env": "SIGMA_SECRET_NEW"}
                )
            ),
            "credentials[1].client_id: also used by credential 'New'",
        ),
        (
            variant(lambda d: d["credentials"][0].update(secret_env="SIGMA_SECRET_UNSET")),
            "credentials[0].secret_env: $SIGMA_SECRET_UNSET is not set or empty; a new "
            "credential's secret must come from it",
        ),
        (
            variant(lambda d: d["credentials"][0].update(secret_env="SIGMA_SECRET_SHORT")),
            "credentials[0].secret_env: $SIGMA_SECRET_SHORT: An embed secret is at least "
            "32 bytes (HS256's minimum, RFC 7518 section 3.2) and at most 512 characters. "
            "Paste the whole secret Sigma showed.",
        ),
        (
            variant(lambda d: d["credentials"][0].update(secret_env="lower case")),
            "credentials[0].secret_env: not an environment variable name (A-Z, 0-9, _)",
        ),
    ],
)
def test_bad_file_is_a_one_line_error_and_writes_nothing(
    run, alice, tmp_path, monkeypatch, document, problem
):
    monkeypatch.setenv("SIGMA_SECRET_NEW", NEW_SECRET)
    monkeypatch.setenv("SIGMA_SECRET_SHORT", "short")
    monkeypatch.delenv("SIGMA_SECRET_UNSET", raising=False)
    path = write(tmp_path, document)
    before = table_counts()

    result = run("sigma_config", "import", path)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.error == f"{path} is not valid, nothing was written: {problem}"
    assert "\n" not in result.error
    assert table_counts() == before
    assert not Team.objects.filter(name="Finance").exists()
    assert CANARY_SECRET not in result.everything
    assert NEW_SECRET not in result.everything


@pytest.mark.django_db
def test_the_base_document_itself_imports(run, alice, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGMA_SECRET_NEW", NEW_SECRET)

    result = run("sigma_config", "import", write(tmp_path, BASE))

    # alice already had a Sigma mapping: it is changed, not created.
    assert result.stdout.splitlines()[-1] == "3 created, 1 changed, 0 unchanged."
    assert "changed   user 'alice'" in result.stdout.splitlines()
    assert Embed.objects.get(slug="finance").credential.signing_secret() == NEW_SECRET
    assert list(SigmaProfile.objects.get(user=alice).teams.values_list("name", flat=True)) == [
        "Finance"
    ]


@pytest.mark.django_db
def test_every_shape_problem_is_listed_on_the_one_line(run, alice, tmp_path):
    data = variant(lambda d: d["teams"][0].update(colour="red", description=3))

    result = run("sigma_config", "import", write(tmp_path, data))

    assert result.error.endswith(
        "nothing was written: teams[0]: unknown key 'colour'; teams[0].description: "
        "expected a string"
    )


@pytest.mark.django_db
def test_every_reference_problem_is_listed_on_the_one_line(run, alice, tmp_path, monkeypatch):
    monkeypatch.delenv("SIGMA_SECRET_NEW", raising=False)
    data = variant(lambda d: d["users"].append({"username": "eve"}))

    result = run("sigma_config", "import", write(tmp_path, data))

    assert result.error.endswith(
        "nothing was written: credentials[0].secret_env: $SIGMA_SECRET_NEW is not set or "
        "empty; a new credential's secret must come from it; users[1].username: no user "
        "'eve'; users must exist first"
    )
    assert not Team.objects.filter(name="Finance").exists()


@pytest.mark.django_db
def test_missing_file_is_an_error(run, tmp_path):
    result = run("sigma_config", "import", str(tmp_path / "none.json"))

    assert (result.returncode, result.error) == (
        1,
        f"Cannot read {tmp_path / 'none.json'}: No such file or directory.",
    )


# --- limits of what import reads (issue #10) ------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("variable", ["SECRET_KEY", "DATABASE_PASSWORD", "SIGMA_SECRETKEY"])
def test_secret_env_outside_the_sigma_secret_family_is_refused_unread(
    run, alice, tmp_path, monkeypatch, variable
):
    monkeypatch.setenv(variable, CANARY_SECRET)
    data = variant(lambda d: d["credentials"][0].update(secret_env=variable))
    path = write(tmp_path, data)
    before = table_counts()

    result = run("sigma_config", "import", path)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.error == (
        f"{path} is not valid, nothing was written: credentials[0].secret_env: must start "
        "with SIGMA_SECRET_: only those environment variables may hold an embed secret"
    )
    assert table_counts() == before
    assert CANARY_SECRET not in result.everything


def nested(depth: int) -> str:
    """A team description that is ``depth`` lists deep."""
    return (
        '{"version": 1, "teams": [{"name": "Deep", "description": '
        + ("[" * depth + "]" * depth)
        + "}]}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [9, 1_000, 200_000])
def test_deeply_nested_file_is_refused_with_a_message_and_writes_nothing(run, tmp_path, depth):
    path = write(tmp_path, nested(depth))
    before = table_counts()

    result = run("sigma_config", "import", path)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.error == (
        f"{path} is not valid, nothing was written: lists and objects are nested more "
        "than 10 deep; the format needs at most 5"
    )
    assert table_counts() == before


@pytest.mark.django_db
def test_nesting_at_the_limit_is_a_shape_problem_not_a_depth_one(run, tmp_path):
    # teams (2) + the team (3) + 7 lists = 10 levels: allowed, then refused by type.
    result = run("sigma_config", "import", write(tmp_path, nested(7)))

    assert result.error.endswith("nothing was written: teams[0].description: expected a string")


@pytest.mark.django_db
def test_oversized_file_is_refused_without_reading_it_all(run, tmp_path):
    path = tmp_path / "big.json"
    with path.open("w") as handle:
        handle.write('{"version": 1}')
        handle.write(" " * MAX_BYTES)
    before = table_counts()

    result = run("sigma_config", "import", str(path))

    assert (result.returncode, result.stdout) == (1, "")
    assert result.error == (
        f"{path} is not valid, nothing was written: the file is larger than "
        f"{MAX_BYTES} bytes; sigma_config reads at most that"
    )
    assert table_counts() == before


def test_export_names_only_variables_import_accepts():
    assert secret_env_name("Prod: EU / 2") == "SIGMA_SECRET_PROD_EU_2"
    assert secret_env_name("***").startswith(SECRET_ENV_PREFIX)


@pytest.mark.django_db
def test_import_refuses_a_sigma_email_another_active_user_has(
    run, alice, user_factory, tmp_path, monkeypatch
):
    monkeypatch.setenv("SIGMA_SECRET_NEW", NEW_SECRET)
    user_factory("bob", sigma_email="shared@example.com")
    document = variant(lambda d: d["users"][0].update(sigma_email="Shared@example.com"))
    path = write(tmp_path, document)
    before = table_counts()

    result = run("sigma_config", "import", path)

    assert result.returncode == 1
    assert result.error == (
        f"{path} is not valid, nothing was written: users[0].sigma_email: "
        + MSG_EMAIL_TAKEN % {"email": "Shared@example.com", "users": "bob"}
    )
    assert table_counts() == before


@pytest.mark.django_db
def test_export_writes_names_as_written_not_escaped(run, tmp_path):
    Team.objects.create(name="Zoë's Sales 東京")
    target = tmp_path / "out.json"

    run("sigma_config", "export", "--output", str(target))

    text = target.read_text(encoding="utf-8")
    assert '"Zoë\'s Sales 東京"' in text
    assert "\\u" not in text
