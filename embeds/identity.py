"""The public face of ``SIGMA_IDENTITY_RESOLVER``: what a resolver returns, and the default.

A host's resolver imports ``SigmaIdentity`` from here, and the setting's default is
``"embeds.identity.identity_from_mappings"`` (docs/integration.md): this path is the
app's documented interface, so it stays. The code lives in ``embeds.issuing.identity``.
"""

from embeds.issuing.identity import SigmaIdentity, identity_for, identity_from_mappings

__all__ = ["SigmaIdentity", "identity_for", "identity_from_mappings"]
