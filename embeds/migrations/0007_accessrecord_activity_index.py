"""The admin activity page's index on the audit trail (see embeds.activity).

A covering index (PostgreSQL: created_at INCLUDE the grouped columns) replaces the
plain created_at index, and PostgreSQL gets extended statistics on the day and the
grouped columns: without them the planner guesses one group per row and neither
parallelises nor sizes the aggregate (measured in docs/performance.md).
"""

from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

STATISTICS = "accessrecord_activity_stats"


def create_statistics(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    connection = schema_editor.connection
    # Statistics on expressions need PostgreSQL 14.
    # pg_version: PostgreSQL's DatabaseWrapper only (the vendor is checked first).
    if connection.vendor != "postgresql" or connection.pg_version < 140000:  # type: ignore[attr-defined]
        return
    table = schema_editor.quote_name(apps.get_model("embeds", "AccessRecord")._meta.db_table)
    schema_editor.execute(
        f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (ndistinct) ON "
        f"((created_at AT TIME ZONE 'UTC')::date), embed_slug, outcome, rule FROM {table}"
    )


def drop_statistics(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [
        ("embeds", "0006_registry_sigma_ids"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="accessrecord",
            index=models.Index(
                fields=["created_at"],
                include=("embed_slug", "outcome", "rule", "username"),
                name="accessrecord_activity",
            ),
        ),
        migrations.AlterField(
            model_name="accessrecord",
            name="created_at",
            field=models.DateTimeField(),
        ),
        migrations.RunPython(create_statistics, drop_statistics, elidable=False),
    ]
