"""The user and group mappings to Sigma, owned by this app, on their original tables.

The models were first defined in the host project's ``accounts`` app (tables
``accounts_sigmaprofile``, ``accounts_sigmaprofile_teams``,
``accounts_sigmaprofileattribute``, ``accounts_groupmapping``,
``accounts_groupmapping_teams``); ``db_table`` keeps those names.

- In this project the tables already exist: ``accounts.0002`` (which runs before
  this migration through its ``run_before``) removes the models from the
  ``accounts`` state, the state-only ``CreateModel`` below adds them here, and
  ``CreateMissingTables`` finds the tables and leaves them (and their rows) alone.
- In a site that never had those ``accounts`` migrations, ``CreateMissingTables``
  creates the tables.

This migration names no other app of the host project, so ``embeds`` installs
into any Django site.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

import embeds.validators


class CreateMissingTables(Operation):
    """Create the tables of ``model_names`` (and their many-to-many tables) unless
    they already exist. Reversing never drops them: they may hold rows that another
    app's migrations created."""

    reversible = True

    def __init__(self, model_names: Iterable[str]) -> None:
        self.model_names = list(model_names)

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [self.model_names], {})

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        existing = set(schema_editor.connection.introspection.table_names())
        for name in self.model_names:
            model = to_state.apps.get_model(app_label, name)
            if not self.allow_migrate_model(schema_editor.connection.alias, model):
                continue
            if model._meta.db_table not in existing:
                schema_editor.create_model(model)

    def database_backwards(self, *args: Any, **kwargs: Any) -> None:
        pass  # Never drops the tables (see the class docstring).

    def describe(self) -> str:
        return "Create the tables of %s unless they exist" % ", ".join(self.model_names)


def on_accounts_table(
    name: str,
    fields: list[tuple[str, models.Field[Any, Any]]],
    verbose_name: str,
    **options: Any,
) -> migrations.CreateModel:
    """The state of a model first defined in ``accounts``: its table keeps that app's
    name (``accounts_<model>``); Django's automatic id first."""
    return migrations.CreateModel(
        name=name,
        fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            *fields,
        ],
        options={'verbose_name': verbose_name, 'db_table': f'accounts_{name.lower()}', **options},
    )


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('embeds', '0002_default_account_types'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                on_accounts_table(
                    'GroupMapping',
                    [
                        ('account_type', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='embeds.accounttype')),
                        ('group', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='sigma_mapping', to='auth.group')),
                        ('teams', models.ManyToManyField(blank=True, related_name='+', to='embeds.team')),
                    ],
                    verbose_name='Sigma mapping',
                ),
                on_accounts_table(
                    'SigmaProfile',
                    [
                        ('sigma_email', models.CharField(blank=True, help_text="Sent as sub. Leave blank to use the user's own email.", max_length=254, validators=[embeds.validators.validate_sigma_email], verbose_name='Sigma email')),
                        ('is_blocked', models.BooleanField(default=False, help_text='Kill switch: refuse every embed for this user.', verbose_name='embeds blocked')),
                        ('blocked_reason', models.CharField(blank=True, max_length=300)),
                        ('account_type', models.ForeignKey(blank=True, help_text="Overrides the account type from the user's groups.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='embeds.accounttype')),
                        ('teams', models.ManyToManyField(blank=True, related_name='+', to='embeds.team')),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='sigma_profile', to=settings.AUTH_USER_MODEL)),
                    ],
                    verbose_name='Sigma mapping',
                ),
                on_accounts_table(
                    'SigmaProfileAttribute',
                    [
                        ('value', models.CharField(max_length=1000, validators=[embeds.validators.validate_attribute_value])),
                        ('attribute', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='embeds.userattribute')),
                        ('profile', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attributes', to='embeds.sigmaprofile')),
                    ],
                    verbose_name='user attribute',
                    ordering=['attribute__name'],
                    constraints=[models.UniqueConstraint(fields=('profile', 'attribute'), name='accounts_attribute_once_per_user')],
                ),
            ],
        ),
        CreateMissingTables(["GroupMapping", "SigmaProfile", "SigmaProfileAttribute"]),
    ]
