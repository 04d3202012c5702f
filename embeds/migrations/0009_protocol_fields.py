"""Internal users, connection switching and typed controls (issue 13).

Existing controls keep the meaning their URL had before types existed: a default
with commas was sent with literal commas, which Sigma reads as a list (now type
``list``, one value per line) or, for ``min:``/``max:`` values, as a date range.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

import embeds.validators

RANGE = re.compile(r"^(?:min|max):")


def type_existing_controls(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
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


def connection_id(help_text: str) -> models.CharField[str, str]:
    """eval_connection_id, on the embed and on both mappings."""
    return models.CharField(
        blank=True,
        help_text=help_text,
        max_length=36,
        validators=[embeds.validators.validate_connection_id],
        verbose_name="eval_connection_id",
    )


def internal(verbose_name: str, help_text: str) -> models.BooleanField[bool, bool]:
    """internal, on both mappings."""
    return models.BooleanField(default=False, help_text=help_text, verbose_name=verbose_name)


CONTROL_TYPE: models.CharField[str, str] = models.CharField(
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
)

# The fields added: (model, field name, field).
ADDED: list[tuple[str, str, models.Field[Any, Any]]] = [
    (
        "embed",
        "eval_connection_id",
        connection_id(
            "Sigma connection ID to use instead of the workbook's, for everyone whose own or "
            "group mapping sets none. Connection switching does not work with write-back "
            "features."
        ),
    ),
    ("embedcontrol", "type", CONTROL_TYPE),
    (
        "groupmapping",
        "eval_connection_id",
        connection_id(
            "Sigma connection ID for members (a user's own mapping overrides it, it overrides "
            "the embed's). Not for write-back workbooks."
        ),
    ),
    (
        "groupmapping",
        "internal",
        internal(
            "internal Sigma users",
            "Members are existing Sigma members: no account type, teams or user attributes in "
            "their tokens.",
        ),
    ),
    (
        "sigmaprofile",
        "eval_connection_id",
        connection_id(
            "Sigma connection ID to use instead of the workbook's (overrides the groups' and "
            "the embed's). Not for write-back workbooks."
        ),
    ),
    (
        "sigmaprofile",
        "internal",
        internal(
            "internal Sigma user",
            "An existing member of the Sigma organization: signed in as themselves, without "
            "account type, teams or user attributes in the token.",
        ),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("embeds", "0008_security_event"),
    ]

    operations = [
        *[
            migrations.AddField(model_name=model, name=name, field=field)
            for model, name, field in ADDED
        ],
        migrations.AlterField(
            model_name="embedcontrol",
            name="default_value",
            field=models.TextField(
                blank=True,
                help_text="Checked against the type (clean). A list takes one value per line; "
                ":null and :empty are Sigma's null value and empty string.",
            ),
        ),
        migrations.RunPython(type_existing_controls, migrations.RunPython.noop),
    ]
