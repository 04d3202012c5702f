"""Control value forms Sigma documents (issue 20): a number range type, and ranges
with both keys.

Sigma's "Set control values in a URL" page writes every range with both keys
(``min:2024-01-01,max:`` for an open end, ``min:,max:2024-12-31``, ``min:,max:``).
A stored date range default in the one-key form the project used to accept
(``min:2024-01-01`` or ``max:2024-12-31`` alone) becomes the documented form with
the other end blank, which is what it asked for: one end, the other open.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

ONE_KEY = {"min": "{value},max:", "max": "min:,{value}"}


def write_ranges_with_both_keys(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    EmbedControl = apps.get_model("embeds", "EmbedControl")
    for control in EmbedControl.objects.filter(type="date_range").exclude(default_value=""):
        value = control.default_value
        name = value.split(":", 1)[0]
        if "," in value or name not in ONE_KEY:
            continue
        control.default_value = ONE_KEY[name].format(value=value)
        control.save(update_fields=["default_value"])


class Migration(migrations.Migration):
    dependencies = [
        ("embeds", "0010_security_event_sigma_member"),
    ]

    operations = [
        migrations.AlterField(
            model_name="embedcontrol",
            name="type",
            field=models.CharField(
                choices=[
                    ("text", "Text (one value, commas are part of it)"),
                    ("list", "List (one value per line)"),
                    ("number", "Number"),
                    ("boolean", "Boolean (true/false)"),
                    ("date", "Date (2024-05-01, 2024-05-01T08:00Z, 1710381565000 or prior-day-3)"),
                    ("date_range", "Date range (min:<date>,max:<date>, an end may be blank)"),
                    (
                        "number_range",
                        "Number range (min:<number>,max:<number>, an end may be blank)",
                    ),
                ],
                default="text",
                help_text="How the value is written into the URL (a text value's commas are encoded).",
                max_length=20,
            ),
        ),
        migrations.RunPython(write_ranges_with_both_keys, migrations.RunPython.noop),
    ]
