"""NEW-4: a permission to map users to internal Sigma members, and their emails pinned.

An internal token is a real Sigma session as the member its email names. Until now
an internal user's mapping with a blank Sigma email followed ``User.email``, which
anyone allowed to edit users could change. The email is now kept in the mapping
(``embeds.services.save_sigma_profile`` pins it); this copies ``User.email`` into
the existing internal mappings, so nobody's identity changes on upgrade.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def pin_internal_emails(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    SigmaProfile = apps.get_model("embeds", "SigmaProfile")
    profiles = SigmaProfile.objects.filter(internal="internal", sigma_email="").select_related(
        "user"
    )
    for profile in profiles:
        if profile.user.email:
            profile.sigma_email = profile.user.email
            profile.save(update_fields=["sigma_email"])


class Migration(migrations.Migration):
    dependencies = [
        ("embeds", "0017_mapping_names"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="sigmaprofile",
            options={
                "permissions": [
                    (
                        "assign_internal_identity",
                        "Can map users to internal Sigma members (real Sigma sessions)",
                    )
                ],
                "verbose_name": "Sigma mapping of a user",
            },
        ),
        # Reversing leaves the pinned emails: they name the same member as before.
        migrations.RunPython(pin_internal_emails, migrations.RunPython.noop),
    ]
