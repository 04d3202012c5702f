"""Every audited write: one module per model family, mirroring ``models/`` and ``admin/``.

Admin forms and actions, the commands and the config import call these; each
writes its rows and its ``SecurityEvent`` in one transaction, and invalidates the
issuing-path cache itself (``embeds.issuing.snapshots.invalidate``: the generation
counter moves now and after the commit). No model signal does it for them: the
signals left cover only writes from outside the app (the site's users and groups).
Issuing a signed URL is not here: it is ``embeds.issuing``.
"""

from embeds.issuing.snapshots import invalidate as invalidate_issuing_cache
from embeds.services.audit import (
    note_preview_outcome,
    record_embed_error,
    record_security_event,
)
from embeds.services.credentials import (
    ReencryptResult,
    activate_credential,
    create_credential,
    delete_credentials,
    reencrypt_secrets,
    replace_credential_secret,
    revoke_credential,
    update_credential,
)
from embeds.services.embeds import (
    delete_embeds,
    disable_embed,
    enable_embed,
    save_embed,
    set_embed_controls,
    switch_embed_credential,
)
from embeds.services.mappings import (
    block_user,
    changes_internal_identity,
    delete_group_mapping,
    delete_sigma_profile,
    save_group_mapping,
    save_sigma_profile,
    set_user_attributes,
    unblock_user,
)
from embeds.services.registry import (
    RegistrySyncResult,
    delete_registry_entries,
    save_registry_entry,
    sync_registries,
)
from embeds.services.sigma_members import deactivate_embed_users

__all__ = [
    "ReencryptResult",
    "RegistrySyncResult",
    "activate_credential",
    "block_user",
    "changes_internal_identity",
    "create_credential",
    "deactivate_embed_users",
    "delete_credentials",
    "delete_embeds",
    "delete_group_mapping",
    "delete_sigma_profile",
    "delete_registry_entries",
    "disable_embed",
    "enable_embed",
    "invalidate_issuing_cache",
    "note_preview_outcome",
    "record_embed_error",
    "record_security_event",
    "reencrypt_secrets",
    "replace_credential_secret",
    "revoke_credential",
    "save_embed",
    "save_group_mapping",
    "save_registry_entry",
    "save_sigma_profile",
    "set_embed_controls",
    "set_user_attributes",
    "switch_embed_credential",
    "sync_registries",
    "unblock_user",
    "update_credential",
]
