# The secret's field class moves to embeds.encryption.EncryptedSecretField: the same
# stored Fernet token in the same text column, but reading a value no key decrypts
# raises instead of returning the ciphertext. The column does not change, so only
# Django's state does (SQLite would otherwise copy the table for nothing).

import embeds.encryption
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("embeds", "0012_interface_options_2026"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="credential",
                    name="secret",
                    field=embeds.encryption.EncryptedSecretField(editable=False),
                ),
            ],
        ),
    ]
