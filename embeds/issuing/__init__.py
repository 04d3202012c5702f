"""How a signed URL is issued: the one path from a user and an embed to a signed URL.

``issue.py`` (the path), ``identity.py`` and ``access.py`` (who the user is in
Sigma, and may they), ``ratelimit.py``, ``snapshots.py`` (the shared cache of what
signing reads) and ``audit.py`` (the audit row whose insert is the commit point).
"""

from embeds.issuing.issue import SignedEmbed, issue_embed_url, refuse_unknown_embed

__all__ = ["SignedEmbed", "issue_embed_url", "refuse_unknown_embed"]
