"""Interface options of 2025-2026 (issue 20).

Added, as Sigma's parameters for JWT-signed URLs: hide_bookmarks,
hide_explore_toggle, hide_element_interactions, hide_schedule, hide_send,
hide_save_as and lng_variant. Removed: hide_reload_button, hide_title,
hide_view_select, disable_auto_refresh, which Sigma's list does not include
("Parameters not listed in this table are ... not supported") and no Sigma text
shows working with JWT embeds (docs/sigma-protocol.md, "Interface options").
"""

import embeds.protocol.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('embeds', '0011_control_value_forms'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='embed',
            name='disable_auto_refresh',
        ),
        migrations.RemoveField(
            model_name='embed',
            name='hide_reload_button',
        ),
        migrations.RemoveField(
            model_name='embed',
            name='hide_title',
        ),
        migrations.RemoveField(
            model_name='embed',
            name='hide_view_select',
        ),
        migrations.AddField(
            model_name='embed',
            name='hide_bookmarks',
            field=models.BooleanField(default=False, help_text='Hides saved views (bookmarks) from the embed menu.'),
        ),
        migrations.AddField(
            model_name='embed',
            name='hide_element_interactions',
            field=models.BooleanField(default=False, help_text='Sent as :hide_element_interactions=true (Sigma, January 2026).'),
        ),
        migrations.AddField(
            model_name='embed',
            name='hide_explore_toggle',
            field=models.BooleanField(default=False, help_text='Hides the Explore toggle from the embed menu.'),
        ),
        migrations.AddField(
            model_name='embed',
            name='hide_save_as',
            field=models.BooleanField(default=False, help_text='Hides the Save As option in embedded content (Sigma, April 2026).'),
        ),
        migrations.AddField(
            model_name='embed',
            name='hide_schedule',
            field=models.BooleanField(default=False, help_text='Sent as :hide_schedule=true (Sigma, January 2026).'),
        ),
        migrations.AddField(
            model_name='embed',
            name='hide_send',
            field=models.BooleanField(default=False, help_text='Sent as :hide_send=true (Sigma, January 2026).'),
        ),
        migrations.AddField(
            model_name='embed',
            name='lng_variant',
            field=models.CharField(blank=True, help_text=':lng_variant: the exact name of a custom translation of the language (case-sensitive); needs a language.', max_length=100, validators=[embeds.protocol.validators.validate_language_variant], verbose_name='lng_variant'),
        ),
        migrations.AlterField(
            model_name='embed',
            name='disable_mobile_view',
            field=models.BooleanField(default=False, help_text='Outside Sigma\'s JWT parameter table; Sigma\'s QuickStart "Embedding 03" lists it for JWT embeds: workbooks don\'t switch to the mobile layout.'),
        ),
        migrations.AlterField(
            model_name='embed',
            name='hide_page_controls',
            field=models.BooleanField(default=False, help_text='Outside Sigma\'s JWT parameter table; Sigma\'s QuickStart "REST API Usage 09: Hide Menus & Page Nav" sends it with JWT embeds to hide the page controls.'),
        ),
    ]
