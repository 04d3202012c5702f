"""User and group mappings get distinct names, and so do their permissions.

Both were "Sigma mapping", so the admin listed "Can change Sigma mapping" twice (and
a user's attribute value was named like the registry's "user attribute").
Django creates permissions only when missing, so existing rows are renamed here.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

NAMES = {
    "sigmaprofile": "Sigma mapping of a user",
    "groupmapping": "Sigma mapping of a group",
    "sigmaprofileattribute": "user attribute value of a user",
}
OLD_NAMES = {
    "sigmaprofile": "Sigma mapping",
    "groupmapping": "Sigma mapping",
    "sigmaprofileattribute": "user attribute",
}
ACTIONS = ("add", "change", "delete", "view")


def rename_permissions(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor, *, names: dict[str, str]
) -> None:
    Permission = apps.get_model("auth", "Permission")
    for model, verbose_name in names.items():
        for action in ACTIONS:
            Permission.objects.filter(
                content_type__app_label="embeds", codename=f"{action}_{model}"
            ).update(name=f"Can {action} {verbose_name}")


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    rename_permissions(apps, schema_editor, names=NAMES)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    rename_permissions(apps, schema_editor, names=OLD_NAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("embeds", "0016_accessrecord_sigma_outcome"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="groupmapping",
            options={"verbose_name": "Sigma mapping of a group"},
        ),
        migrations.AlterModelOptions(
            name="sigmaprofile",
            options={"verbose_name": "Sigma mapping of a user"},
        ),
        migrations.AlterModelOptions(
            name="sigmaprofileattribute",
            options={
                "ordering": ["attribute__name"],
                "verbose_name": "user attribute value of a user",
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
