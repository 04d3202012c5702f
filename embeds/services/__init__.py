"""Every audited write: one module per model family, mirroring ``models/`` and ``admin/``.

Admin forms and actions, the commands and the config import call these; each
writes its rows and its ``SecurityEvent`` in one transaction. Issuing a signed
URL is not here: it is ``embeds.issuing``.
"""

from embeds.services.audit import record_embed_error, record_security_event
from embeds.services.credentials import (
    ReencryptResult,
    activate_credential,
    create_credential,
    reencrypt_secrets,
    replace_credential_secret,
    revoke_credential,
)
from embeds.services.embeds import disable_embed, enable_embed, save_embed, switch_embed_credential
from embeds.services.mappings import block_user, save_sigma_profile, unblock_user
from embeds.services.registry import RegistrySyncResult, sync_registries
from embeds.services.sigma_members import deactivate_embed_users

__all__ = [
    "ReencryptResult",
    "RegistrySyncResult",
    "activate_credential",
    "block_user",
    "create_credential",
    "deactivate_embed_users",
    "disable_embed",
    "enable_embed",
    "record_embed_error",
    "record_security_event",
    "reencrypt_secrets",
    "replace_credential_secret",
    "revoke_credential",
    "save_embed",
    "save_sigma_profile",
    "switch_embed_credential",
    "sync_registries",
    "unblock_user",
]
