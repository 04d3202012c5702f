"""The security event trail; revocations already on record become its first events."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def record_current_revocations(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Credential = apps.get_model("embeds", "Credential")
    SecurityEvent = apps.get_model("embeds", "SecurityEvent")
    db = schema_editor.connection.alias
    for credential in Credential.objects.using(db).filter(revoked_at__isnull=False):
        SecurityEvent.objects.using(db).create(
            created_at=credential.revoked_at,
            kind="credential_revoked",
            target=f"{credential.name} ({credential.client_id})",
            credential=credential,
            actor_id=credential.revoked_by_id,
            actor_name="",
            reason=credential.revoked_reason,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('embeds', '0007_accessrecord_activity_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SecurityEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(db_index=True)),
                ('kind', models.CharField(choices=[('credential_created', 'Credential created'), ('credential_revoked', 'Credential revoked'), ('credential_reactivated', 'Credential re-activated'), ('secret_replaced', 'Secret replaced'), ('embed_enabled', 'Embed enabled'), ('embed_disabled', 'Embed disabled'), ('embed_credential_switched', 'Embed signs with another credential'), ('user_blocked', "User's embeds blocked"), ('user_unblocked', "User's embeds unblocked")], max_length=40)),
                ('target', models.CharField(help_text='What was switched, as named then.', max_length=300)),
                ('actor_name', models.CharField(blank=True, help_text='Who did it (a username, or the command).', max_length=150)),
                ('reason', models.TextField(blank=True)),
                ('detail', models.CharField(blank=True, max_length=300)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('credential', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='security_events', to='embeds.credential')),
                ('embed', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='security_events', to='embeds.embed')),
                ('subject', models.ForeignKey(blank=True, help_text='The user whose embeds were blocked or unblocked.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.RunPython(record_current_revocations, migrations.RunPython.noop),
    ]
