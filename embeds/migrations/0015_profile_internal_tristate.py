"""The user mapping's "internal" becomes a per-person tri-state (issue 17, N1).

Before, a user was internal when their own mapping *or any* of their groups' said
so: one internal group overrode a member's own non-internal mapping. Now the user's
own value decides (``internal`` or ``embed``) and groups apply only to ``inherit``.

Mapping of existing rows: ``True`` -> ``internal`` (unchanged). ``False`` ->
``inherit``: ``False`` never meant "an embed user whatever my groups say" (a group
could always override it), so ``inherit`` gives every existing user exactly the
identity they had before the upgrade: non-internal unless one of their groups is
internal, as until now. Nobody silently changes type on upgrade; ``sigma_check``
then lists every user who is internal only through a group (``embeds.W030``), to
be set to ``internal`` or ``embed`` per person.

Done as add, copy, remove, rename, so no database has to cast a boolean column to
text in place.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def _checks_now(schema_editor: BaseDatabaseSchemaEditor) -> None:
    # PostgreSQL: an UPDATE of rows with deferred foreign keys leaves "pending trigger
    # events", and the ALTER TABLE that follows in this transaction then fails.
    # Checking the constraints at once leaves nothing pending.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _checks_deferred(schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def copy_flags(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    SigmaProfile = apps.get_model("embeds", "SigmaProfile")
    db = schema_editor.connection.alias
    _checks_now(schema_editor)
    SigmaProfile.objects.using(db).filter(internal=True).update(internal_type="internal")
    SigmaProfile.objects.using(db).filter(internal=False).update(internal_type="inherit")
    _checks_deferred(schema_editor)


def copy_back(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Down: only "internal" was internal on its own; "embed" and "inherit" are False.
    SigmaProfile = apps.get_model("embeds", "SigmaProfile")
    db = schema_editor.connection.alias
    _checks_now(schema_editor)
    SigmaProfile.objects.using(db).update(internal=False)
    SigmaProfile.objects.using(db).filter(internal_type="internal").update(internal=True)
    _checks_deferred(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("embeds", "0014_security_event_kinds"),
    ]

    operations = [
        migrations.AddField(
            model_name="sigmaprofile",
            name="internal_type",
            field=models.CharField(default="inherit", max_length=8),
        ),
        migrations.RunPython(copy_flags, copy_back),
        migrations.RemoveField(model_name="sigmaprofile", name="internal"),
        migrations.RenameField(
            model_name="sigmaprofile", old_name="internal_type", new_name="internal"
        ),
        migrations.AlterField(
            model_name="sigmaprofile",
            name="internal",
            field=models.CharField(
                choices=[
                    ("inherit", "From the user's groups"),
                    ("internal", "Internal Sigma member"),
                    ("embed", "Embed user"),
                ],
                default="inherit",
                help_text=(
                    "Internal: an existing member of the Sigma organization, signed in as "
                    "themselves without account type, teams or user attributes in the token. "
                    "Embed user: never internal, whatever the groups say. From the user's "
                    "groups: internal only if one of their groups is."
                ),
                max_length=8,
                verbose_name="Sigma user type",
            ),
        ),
    ]
