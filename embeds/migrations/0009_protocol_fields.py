"""Internal users, connection switching and typed controls (issue 13).

Existing controls keep the meaning their URL had before types existed: a default
with commas was sent with literal commas, which Sigma reads as a list (now type
``list``, one value per line) or, for ``min:``/``max:`` values, as a date range.
"""

import re

from django.db import migrations, models

import embeds.validators

RANGE = re.compile(r"^(?:min|max):")


def type_existing_controls(apps, schema_editor):
    EmbedControl = apps.get_model("embeds", "EmbedControl")
    for control in EmbedControl.objects.exclude(default_value=""):
        value = control.default_value
        if all(RANGE.match(part) for part in value.split(",")):
            control.type = "date_range"
        elif "," in value:
            control.type = "list"
            control.default_value = "\n".join(value.split(","))
        else:
            continue
        control.save(update_fields=["type", "default_value"])


class Migration(migrations.Migration):
    dependencies = [
        ("embeds", "0008_security_event"),
    ]

    operations = [
        migrations.AddField(
            model_name="embed",
            name="eval_connection_id",
            field=models.CharField(
                blank=True,
                help_text="Sigma connection ID to use instead of the workbook's, for everyone whose own or group mapping sets none. Connection switching does not work with write-back features.",
                max_length=36,
                validators=[embeds.validators.validate_connection_id],
                verbose_name="eval_connection_id",
            ),
        ),
        migrations.AddField(
            model_name="embedcontrol",
            name="type",
            field=models.CharField(
                choices=[
                    ("text", "Text (one value, commas are part of it)"),
                    ("list", "List (one value per line)"),
                    ("number", "Number"),
                    ("boolean", "Boolean (true/false)"),
                    ("date", "Date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"),
                    ("date_range", "Date range (min:YYYY-MM-DD,max:YYYY-MM-DD)"),
                ],
                default="text",
                help_text="How the value is written into the URL (a text value's commas are encoded).",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="groupmapping",
            name="eval_connection_id",
            field=models.CharField(
                blank=True,
                help_text="Sigma connection ID for members (a user's own mapping overrides it, it overrides the embed's). Not for write-back workbooks.",
                max_length=36,
                validators=[embeds.validators.validate_connection_id],
                verbose_name="eval_connection_id",
            ),
        ),
        migrations.AddField(
            model_name="groupmapping",
            name="internal",
            field=models.BooleanField(
                default=False,
                help_text="Members are existing Sigma members: no account type, teams or user attributes in their tokens.",
                verbose_name="internal Sigma users",
            ),
        ),
        migrations.AddField(
            model_name="sigmaprofile",
            name="eval_connection_id",
            field=models.CharField(
                blank=True,
                help_text="Sigma connection ID to use instead of the workbook's (overrides the groups' and the embed's). Not for write-back workbooks.",
                max_length=36,
                validators=[embeds.validators.validate_connection_id],
                verbose_name="eval_connection_id",
            ),
        ),
        migrations.AddField(
            model_name="sigmaprofile",
            name="internal",
            field=models.BooleanField(
                default=False,
                help_text="An existing member of the Sigma organization: signed in as themselves, without account type, teams or user attributes in the token.",
                verbose_name="internal Sigma user",
            ),
        ),
        migrations.AlterField(
            model_name="embedcontrol",
            name="default_value",
            field=models.TextField(
                blank=True,
                help_text="Checked against the type (clean). A list takes one value per line; :null and :empty are Sigma's null value and empty string.",
            ),
        ),
        migrations.RunPython(type_existing_controls, migrations.RunPython.noop),
    ]
