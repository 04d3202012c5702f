"""Sigma embedding constants (spec §1, §2): one copy, imported everywhere else.

Pure values, no Django: the JWT header and claim names, their fixed values, the
token lifetime limits and the URL parameter names Sigma reads.
"""

from __future__ import annotations

#: Sigma's own origin; sites on another Sigma host list theirs in SIGMA_ALLOWED_ORIGINS.
DEFAULT_ORIGIN = "https://app.sigmacomputing.com"
# REST API base URL of Sigma's GCP US cloud; other clouds have their own
# (https://help.sigmacomputing.com/reference/get-started-sigma-api).
DEFAULT_API_BASE_URL = "https://api.sigmacomputing.com"

# --- Token lifetime (spec §1.2: exp - iat) -----------------------------------------
#: Sigma refuses a token whose ``exp - iat`` exceeds 30 days.
MAX_TOKEN_TTL = 2_592_000
#: Our own floor: shorter tokens expire before a slow page has loaded the iframe.
MIN_TOKEN_TTL = 60
