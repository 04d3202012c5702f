"""Sigma's built-in account types exist in every organization."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def create_defaults(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    AccountType = apps.get_model("embeds", "AccountType")
    for name in ("View", "Build"):
        AccountType.objects.get_or_create(
            name=name, defaults={"description": "Sigma built-in account type."}
        )


class Migration(migrations.Migration):
    dependencies = [("embeds", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
