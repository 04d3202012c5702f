"""The admin of the embeds app, one module per model family.

- ``credentials``: credentials (write-only secret, revoke / re-activate, replace);
  ``credential_forms`` its add, change, replace-secret and revoke forms
- ``registry``: teams, account types, user attributes
- ``embeds``: embeds and their controls, kill switch, credential switch
- ``audit``: the read-only audit trail and security events
- ``preview``: sign an embed as another user inside the admin
- ``mappings``: inlines and mixins a site adds to its own User and Group admins

Registration happens here, explicitly, when Django's admin autodiscovery imports
this package; the modules themselves only define classes.
"""

from django.contrib import admin

from embeds.admin.audit import AccessRecordAdmin, EmbedErrorReportAdmin, SecurityEventAdmin
from embeds.admin.credentials import CredentialAdmin
from embeds.admin.embeds import EmbedAdmin
from embeds.admin.registry import AccountTypeAdmin, TeamAdmin, UserAttributeAdmin
from embeds.models import (
    AccessRecord,
    AccountType,
    Credential,
    Embed,
    EmbedErrorReport,
    SecurityEvent,
    Team,
    UserAttribute,
)

admin.site.register(Credential, CredentialAdmin)
admin.site.register(Team, TeamAdmin)
admin.site.register(AccountType, AccountTypeAdmin)
admin.site.register(UserAttribute, UserAttributeAdmin)
admin.site.register(Embed, EmbedAdmin)
admin.site.register(AccessRecord, AccessRecordAdmin)
admin.site.register(EmbedErrorReport, EmbedErrorReportAdmin)
admin.site.register(SecurityEvent, SecurityEventAdmin)
