"""Sigma embedding constants (spec §1, §2): one copy, imported everywhere else.

Pure values, no Django: the JWT header and claim names with their fixed values,
the token lifetime limits and the URL parameter names Sigma reads. The emulator
(``sigma_emulator``) keeps its own copy on purpose: it checks our tokens
independently, so a wrong value here cannot be mirrored there.
"""

from __future__ import annotations

#: Sigma's own origin; sites on another Sigma host list theirs in SIGMA_ALLOWED_ORIGINS.
DEFAULT_ORIGIN = "https://app.sigmacomputing.com"
# REST API base URL of Sigma's GCP US cloud; other clouds have their own
# (https://help.sigmacomputing.com/reference/get-started-sigma-api).
DEFAULT_API_BASE_URL = "https://api.sigmacomputing.com"

# --- JWT (spec §1.1, §1.3) ----------------------------------------------------------
ALGORITHM = "HS256"
AUDIENCE = "sigmacomputing"
VERSION = "1.1"

# Claim names.
CLAIM_SUBJECT = "sub"
CLAIM_ISSUER = "iss"
CLAIM_AUDIENCE = "aud"
CLAIM_VERSION = "ver"
CLAIM_JWT_ID = "jti"
CLAIM_ISSUED_AT = "iat"
CLAIM_EXPIRES = "exp"
CLAIM_ACCOUNT_TYPE = "account_type"
CLAIM_TEAMS = "teams"
CLAIM_USER_ATTRIBUTES = "user_attributes"
CLAIM_FIRST_NAME = "first_name"
CLAIM_LAST_NAME = "last_name"
CLAIM_EVAL_CONNECTION_ID = "eval_connection_id"
CLAIM_OAUTH_TOKEN = "oauth_token"  # noqa: S105 - a claim name
CLAIM_CONNECTION_OAUTH_TOKENS = "connection_oauth_tokens"  # noqa: S105 - a claim name

# --- Token lifetime (spec §1.2: exp - iat) -----------------------------------------
#: Sigma refuses a token whose ``exp - iat`` exceeds 30 days.
MAX_TOKEN_TTL = 2_592_000
#: The host's floor for an embed's lifetime: shorter tokens could expire before a
#: slow page has loaded the iframe.
MIN_TOKEN_TTL = 60

# --- URL parameters (spec §2) ---------------------------------------------------------
#: The signed token; everything that carries it must be redacted before logging.
PARAM_JWT = ":jwt"
PARAM_EMBED = ":embed"
#: Parameters Sigma reserves for the token itself; no option may use these names.
RESERVED_PARAMS = (PARAM_JWT, PARAM_EMBED)

# Interface options that apply under JWT (docs/sigma-protocol.md "Interface options"):
# Sigma's "Embed URL parameters" table for JWT-signed URLs, the parameters its release
# notes added since, and disable_mobile_view (Sigma's JWT QuickStart "Embedding 03").
OPTION_THEME = ":theme"
OPTION_MENU_POSITION = ":menu_position"
OPTION_LANGUAGE = ":lng"
#: A custom translation of the language; Sigma: "Must be used with lng".
OPTION_LANGUAGE_VARIANT = ":lng_variant"
#: Options that re-open a saved place (a bookmark wins over an exploration).
PLACE_OPTIONS = ("bookmark", "explore")
#: Boolean options: the model field ``name`` is sent as ``:name=true``.
BOOLEAN_OPTIONS = (
    "hide_menu",
    "hide_folder_navigation",
    "hide_tooltip",
    "responsive_height",
    "hide_bookmarks",
    "hide_explore_toggle",
    "hide_element_interactions",
    "hide_schedule",
    "hide_send",
    "hide_save_as",
    "disable_mobile_view",
    "hide_page_controls",
)
#: Offered although Sigma's JWT table does not list them; each has a Sigma source
#: showing it with JWT embeds (disable_mobile_view: QuickStart "Embedding 03";
#: hide_page_controls: QuickStart "REST API Usage 09: Hide Menus & Page Nav").
OUTSIDE_TABLE_OPTIONS = ("disable_mobile_view", "hide_page_controls")
#: Options this project used to offer that Sigma's JWT table does not list and no
#: Sigma text shows working with JWT embeds ("Parameters not listed in this table
#: are ... not supported"); removed by migration 0012.
REMOVED_OPTIONS = (
    "hide_reload_button",
    "hide_title",
    "hide_view_select",
    "disable_auto_refresh",
)
MENU_POSITIONS = ("top", "bottom", "none")
#: Built-in themes; a custom theme is any other name defined in the organization.
BUILTIN_THEMES = ("Light", "Dark", "Surface")


def option_param(name: str) -> str:
    """The URL parameter of interface option ``name`` (``hide_menu`` → ``:hide_menu``)."""
    return f":{name}"
