"""The Sigma mapping models moved to the ``embeds`` app; their tables stay.

State only: ``accounts`` forgets SigmaProfile, SigmaProfileAttribute and
GroupMapping here, and ``embeds.0003_mappings`` (which runs after this one, see
``run_before``) takes them over with ``db_table`` set to the same tables. No
table is dropped, renamed or copied, so every row stays where it is.

Their content types are relabelled to ``embeds`` as well, so the permissions
granted on them and the admin history of their rows follow the models.
"""

from django.db import migrations

MOVED = ("sigmaprofile", "sigmaprofileattribute", "groupmapping")


def relabel_content_types(apps, schema_editor, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor):
    relabel_content_types(apps, schema_editor, "accounts", "embeds")


def backwards(apps, schema_editor):
    relabel_content_types(apps, schema_editor, "embeds", "accounts")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # embeds must not name accounts (it is the reusable app): the edge is declared
    # from this side.
    run_before = [("embeds", "0003_mappings")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="SigmaProfileAttribute"),
                migrations.DeleteModel(name="SigmaProfile"),
                migrations.DeleteModel(name="GroupMapping"),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
