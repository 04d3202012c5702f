"""Interface options of 2025-2026 (issue 20).

Added, as Sigma's parameters for JWT-signed URLs: hide_bookmarks,
hide_explore_toggle, hide_element_interactions, hide_schedule, hide_send,
hide_save_as and lng_variant. Removed: hide_reload_button, hide_title,
hide_view_select, disable_auto_refresh, which Sigma's list does not include
("Parameters not listed in this table are ... not supported") and no Sigma text
shows working with JWT embeds (docs/sigma-protocol.md, "Interface options").
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

import embeds.protocol.validators


def switch(help_text: str) -> models.BooleanField[bool, bool]:
    return models.BooleanField(default=False, help_text=help_text)


REMOVED = ["disable_auto_refresh", "hide_reload_button", "hide_title", "hide_view_select"]

# The embed's new fields: (name, field).
ADDED: list[tuple[str, models.Field[Any, Any]]] = [
    ("hide_bookmarks", switch("Hides saved views (bookmarks) from the embed menu.")),
    (
        "hide_element_interactions",
        switch("Sent as :hide_element_interactions=true (Sigma, January 2026)."),
    ),
    ("hide_explore_toggle", switch("Hides the Explore toggle from the embed menu.")),
    (
        "hide_save_as",
        switch("Hides the Save As option in embedded content (Sigma, April 2026)."),
    ),
    ("hide_schedule", switch("Sent as :hide_schedule=true (Sigma, January 2026).")),
    ("hide_send", switch("Sent as :hide_send=true (Sigma, January 2026).")),
    (
        "lng_variant",
        models.CharField(
            blank=True,
            help_text=":lng_variant: the exact name of a custom translation of the language "
            "(case-sensitive); needs a language.",
            max_length=100,
            validators=[embeds.protocol.validators.validate_language_variant],
            verbose_name="lng_variant",
        ),
    ),
]

# Switches outside Sigma's JWT parameter table, whose help now says where Sigma uses
# them: (name, help text).
RETOLD = [
    (
        "disable_mobile_view",
        "Outside Sigma's JWT parameter table; Sigma's QuickStart \"Embedding 03\" lists it "
        "for JWT embeds: workbooks don't switch to the mobile layout.",
    ),
    (
        "hide_page_controls",
        "Outside Sigma's JWT parameter table; Sigma's QuickStart \"REST API Usage 09: Hide "
        'Menus & Page Nav" sends it with JWT embeds to hide the page controls.',
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("embeds", "0011_control_value_forms"),
    ]

    operations = [
        *[migrations.RemoveField(model_name="embed", name=name) for name in REMOVED],
        *[migrations.AddField(model_name="embed", name=name, field=field) for name, field in ADDED],
        *[
            migrations.AlterField(model_name="embed", name=name, field=switch(help_text))
            for name, help_text in RETOLD
        ],
    ]
