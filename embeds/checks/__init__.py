"""System checks, one registration point: importing this package registers them all.

``config`` (embeds.E0xx/W0xx: settings, credentials, embeds, mappings) and
``security`` (E1xx/W1xx: the encryption key, production settings, demo accounts).
``EmbedsConfig.ready()`` imports this package.
"""

from embeds.checks import config, security

__all__ = ["config", "security"]
