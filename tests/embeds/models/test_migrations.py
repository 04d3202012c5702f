"""The Sigma mappings moved from ``accounts`` to ``embeds`` without touching their rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_MOVE = [("accounts", "0001_initial"), ("embeds", "0002_default_account_types")]
MAPPING_TABLES = {
    "accounts_sigmaprofile",
    "accounts_sigmaprofile_teams",
    "accounts_sigmaprofileattribute",
    "accounts_groupmapping",
    "accounts_groupmapping_teams",
}


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def leaf_nodes():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_mapping_rows_survive_the_move_to_embeds():
    old = migrate(BEFORE_MOVE)
    User = old.get_model("auth", "User")
    Group = old.get_model("auth", "Group")
    Team = old.get_model("embeds", "Team")
    AccountType = old.get_model("embeds", "AccountType")
    UserAttribute = old.get_model("embeds", "UserAttribute")
    ContentType = old.get_model("contenttypes", "ContentType")
    Permission = old.get_model("auth", "Permission")
    OldProfile = old.get_model("accounts", "SigmaProfile")
    OldAttribute = old.get_model("accounts", "SigmaProfileAttribute")
    OldGroupMapping = old.get_model("accounts", "GroupMapping")

    sales = Team.objects.create(name="Sales")
    finance = Team.objects.create(name="Finance")
    build = AccountType.objects.get_or_create(name="Build")[0]
    region = UserAttribute.objects.create(name="region")
    alice = User.objects.create(username="alice", email="alice@example.com")
    profile = OldProfile.objects.create(
        user=alice,
        sigma_email="alice.s@example.com",
        account_type=build,
        is_blocked=True,
        blocked_reason="left the company",
    )
    profile.teams.set([sales])
    OldAttribute.objects.create(profile=profile, attribute=region, value="West")
    analysts = Group.objects.create(name="Analysts")
    mapping = OldGroupMapping.objects.create(group=analysts, account_type=build)
    mapping.teams.set([finance])
    # A permission granted on the old model must still mean the same model afterwards.
    old_type = ContentType.objects.get_or_create(app_label="accounts", model="sigmaprofile")[0]
    permission = Permission.objects.get_or_create(
        content_type=old_type, codename="change_sigmaprofile", defaults={"name": "Can change"}
    )[0]

    new = migrate(leaf_nodes())
    Profile = new.get_model("embeds", "SigmaProfile")
    Attribute = new.get_model("embeds", "SigmaProfileAttribute")
    GroupMapping = new.get_model("embeds", "GroupMapping")
    assert not any(m._meta.app_label == "accounts" for m in new.get_models())

    moved = Profile.objects.get(user__username="alice")
    assert moved.pk == profile.pk
    assert (moved.sigma_email, moved.account_type.name) == ("alice.s@example.com", "Build")
    assert (moved.is_blocked, moved.blocked_reason) == (True, "left the company")
    assert [t.name for t in moved.teams.all()] == ["Sales"]
    assert [(a.attribute.name, a.value) for a in Attribute.objects.filter(profile=moved)] == [
        ("region", "West")
    ]
    group_mapping = GroupMapping.objects.get(group__name="Analysts")
    assert group_mapping.account_type.name == "Build"
    assert [t.name for t in group_mapping.teams.all()] == ["Finance"]
    relabelled = new.get_model("contenttypes", "ContentType").objects.get(pk=old_type.pk)
    assert (relabelled.app_label, relabelled.model) == ("embeds", "sigmaprofile")
    assert new.get_model("auth", "Permission").objects.get(pk=permission.pk).content_type_id == (
        old_type.pk
    )


@pytest.mark.django_db(transaction=True)
def test_move_creates_the_tables_where_accounts_never_did():
    """A site without the host's ``accounts`` history gets the tables from embeds.0003."""
    executor = MigrationExecutor(connection)
    migration = executor.loader.get_migration("embeds", "0003_mappings")
    create_missing = migration.operations[-1]
    state = executor.loader.project_state(("embeds", "0003_mappings"))
    models = [state.apps.get_model("embeds", name) for name in create_missing.model_names]

    with connection.schema_editor() as editor:
        for model in reversed(models):  # attributes first: they point at profiles
            editor.delete_model(model)
    assert not MAPPING_TABLES & set(connection.introspection.table_names())

    for _ in range(2):  # the second run finds the tables and leaves them alone
        with connection.schema_editor() as editor:
            create_missing.database_forwards("embeds", editor, state, state)
        assert MAPPING_TABLES <= set(connection.introspection.table_names())

    # Put back the tables as the latest migrations shape them (later migrations add
    # columns), so the tests after this one see the schema the recorder claims.
    latest = executor.loader.project_state(leaf_nodes())
    with connection.schema_editor() as editor:
        for model in reversed(models):
            editor.delete_model(model)
        for name in create_missing.model_names:
            editor.create_model(latest.apps.get_model("embeds", name))


def an_embed(apps):
    """One embed (and its credential) in the historical models ``apps``."""
    credential = apps.get_model("embeds", "Credential").objects.create(
        name="c", client_id="c-1", secret="x"
    )
    return apps.get_model("embeds", "Embed").objects.create(
        slug="s",
        title="s",
        url="https://app.sigmacomputing.com/acme/workbook/S-4bq2ZtkLmV8xWn3pRs6HyA",
        credential=credential,
        token_ttl=3600,
    )


BEFORE_TYPES = [("embeds", "0008_security_event")]
AFTER_TYPES = [("embeds", "0009_protocol_fields")]


@pytest.mark.django_db(transaction=True)
def test_existing_controls_keep_what_their_urls_meant_when_types_arrive():
    """Before types, every default went out with literal commas and colons: Sigma read
    a comma as a list separator and min:/max: as range ends."""
    old = migrate(BEFORE_TYPES)
    Control = old.get_model("embeds", "EmbedControl")
    embed = an_embed(old)
    for control_id, value in [
        ("Region", "West,Southwest"),
        ("Period", "min:2024-01-01,max:2024-12-31"),
        ("Year", "2016"),
        ("Empty", ""),
    ]:
        Control.objects.create(embed=embed, control_id=control_id, default_value=value)

    new = migrate(AFTER_TYPES)

    rows = new.get_model("embeds", "EmbedControl").objects.values_list(
        "control_id", "type", "default_value"
    )
    assert sorted(rows) == [
        ("Empty", "text", ""),
        ("Period", "date_range", "min:2024-01-01,max:2024-12-31"),
        ("Region", "list", "West\nSouthwest"),
        ("Year", "text", "2016"),
    ]
    migrate(leaf_nodes())


BEFORE_FORMS = [("embeds", "0010_security_event_sigma_member")]
AFTER_FORMS = [("embeds", "0011_control_value_forms")]


@pytest.mark.django_db(transaction=True)
def test_one_key_date_ranges_become_sigmas_two_key_form():
    """Sigma documents ranges only with both keys (min:X,max: for an open end)."""
    old = migrate(BEFORE_FORMS)
    Control = old.get_model("embeds", "EmbedControl")
    embed = an_embed(old)
    for control_id, kind, value in [
        ("From", "date_range", "min:2024-01-01"),
        ("Until", "date_range", "max:2024-12-31"),
        ("Both", "date_range", "min:2024-01-01,max:2024-12-31"),
        ("Text", "text", "min:2024-01-01"),
    ]:
        Control.objects.create(embed=embed, control_id=control_id, type=kind, default_value=value)

    new = migrate(AFTER_FORMS)

    rows = new.get_model("embeds", "EmbedControl").objects.values_list(
        "control_id", "default_value"
    )
    assert sorted(rows) == [
        ("Both", "min:2024-01-01,max:2024-12-31"),
        ("From", "min:2024-01-01,max:"),
        ("Text", "min:2024-01-01"),
        ("Until", "min:,max:2024-12-31"),
    ]
    migrate(leaf_nodes())


BEFORE_TRISTATE = [("embeds", "0014_security_event_kinds")]
AFTER_TRISTATE = [("embeds", "0015_profile_internal_tristate")]


@pytest.mark.django_db(transaction=True)
def test_internal_flags_become_internal_and_inherit_and_back():
    """True stays internal; False becomes "inherit", which gives each user the
    identity they had before (their groups could always make them internal)."""
    old = migrate(BEFORE_TRISTATE)
    User = old.get_model("auth", "User")
    Profile = old.get_model("embeds", "SigmaProfile")
    for username, flag in (("member", True), ("viewer", False)):
        Profile.objects.create(user=User.objects.create(username=username), internal=flag)

    new = migrate(AFTER_TRISTATE)
    rows = new.get_model("embeds", "SigmaProfile").objects.values_list("user__username", "internal")
    assert sorted(rows) == [("member", "internal"), ("viewer", "inherit")]

    new.get_model("embeds", "SigmaProfile").objects.filter(user__username="viewer").update(
        internal="embed"
    )
    back = migrate(BEFORE_TRISTATE)
    rows = back.get_model("embeds", "SigmaProfile").objects.values_list(
        "user__username", "internal"
    )
    assert sorted(rows) == [("member", True), ("viewer", False)]
    migrate(leaf_nodes())
