"""Settings for the Sigma embed host.

Every environment difference comes from an environment variable. The mode is
explicit: HOSTSITE_ENV=development (which `make run` sets) reads a local `.env`
and allows DEBUG and the emulator; anything else, including an unset variable, is
production: no `.env` is read, so a leftover development file cannot turn a
production process into a development one. The README has a table of every
variable. Required secrets have no default: a missing or malformed one stops
start-up with a message that names the variable and how to make a value, and never
repeats the value itself.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from demo.personas import PUBLISHED_PASSWORDS
from embeds.conf import parse_rate
from embeds.http import parse_trusted_proxies
from embeds.protocol import constants
from hostsite.logconfig import LOG_FORMATS, build_logging, redact_every_handler

BASE_DIR = Path(__file__).resolve().parent.parent

# Values starting with "$" are *not* interpolated anywhere below: secrets are read
# straight from os.environ, and django-environ is only used for typed, non-secret
# values. (django-environ treats "$NAME" as a reference to another variable and
# repeats the rest of the value in its error message.)
env = environ.Env()


def _fail(name: str, problem: str, hint: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Setting {name} {problem}. {hint}")


# --- Mode ----------------------------------------------------------------------
# Read from the process environment only, never from .env: the file is what a
# development run leaves behind, so it must not be able to choose the mode.
HOSTSITE_ENV = os.environ.get("HOSTSITE_ENV", "production").strip().lower() or "production"
if HOSTSITE_ENV not in {"development", "production"}:
    raise _fail(
        "HOSTSITE_ENV",
        "is neither development nor production",
        "Unset it or use production; use development only on a developer's machine.",
    )
DEVELOPMENT = HOSTSITE_ENV == "development"
# The demo's addresses: the only variables .run.env may set (scripts/write_env.py
# RUN_VARIABLES, which `make run` / `make seed` record there).
RUN_ENV_VARIABLES = (
    "SIGMA_EMULATOR_ORIGIN",
    "SIGMA_API_BASE_URL",
    "SIGMA_ALLOWED_ORIGINS",
    "SIGMA_EMULATOR_FRAME_ANCESTORS",
)


def _read_run_env(path: Path, from_dotenv: set[str]) -> None:
    """Take the demo's addresses from ``.run.env`` where nothing else set them.

    The environment wins over both files and ``.env`` (the developer's own) over
    ``.run.env`` (what the last ``make run PORT=… EMULATOR=…`` wrote): a machine-written
    file never overrides a value someone chose, and ``SIGMA_API_BASE_URL`` is where
    credential secrets go. A line of ``.run.env`` that loses to ``.env``, or names
    anything but an address, is reported on standard error (by name only).
    """
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        name, equals, value = (part.strip() for part in line.partition("="))
        if not equals or name.startswith("#"):
            continue
        if name not in RUN_ENV_VARIABLES:
            sys.stderr.write(
                f"{path.name}: {name} ignored: it may set only the demo's addresses "
                f"({', '.join(RUN_ENV_VARIABLES)}).\n"
            )
        elif name in from_dotenv and os.environ[name] != value:
            sys.stderr.write(
                f".env sets {name}, so the address `make run` recorded in {path.name} is "
                "not used; delete that line from .env to follow make run PORT=… EMULATOR=….\n"
            )
        else:
            os.environ.setdefault(name, value)


if DEVELOPMENT and os.environ.get("HOSTSITE_READ_DOTENV", "1") != "0":
    # Variables already in the environment win over both files, .env over .run.env.
    _in_environment = set(os.environ)
    environ.Env.read_env(BASE_DIR / ".env")
    _read_run_env(BASE_DIR / ".run.env", set(os.environ) - _in_environment)


def _typed(name: str, reader, default):
    """Read a non-secret typed variable; on a bad value name it, never echo it."""
    raw = os.environ.get(name)
    if raw is not None and raw.startswith("$"):
        raise _fail(name, "starts with '$'", "Write the value itself, not a reference.")
    try:
        return reader(name, default=default)
    except (ValueError, ImproperlyConfigured):
        # "from None": the parser's own message repeats the value (int() does).
        raise _fail(name, "is not valid", "See the settings table in README.md.") from None


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise _fail(name, "is not a boolean", "Use true or false.")


def _persistent_connections(database: dict) -> dict:
    """CONN_MAX_AGE and CONN_HEALTH_CHECKS: the variable, else the URL's, else the default."""
    if os.environ.get("CONN_MAX_AGE") is not None:
        age = _typed("CONN_MAX_AGE", env.int, DEFAULT_CONN_MAX_AGE)
    else:  # ?conn_max_age=None (no limit) is Django's own spelling
        age = database.get("CONN_MAX_AGE", DEFAULT_CONN_MAX_AGE)
    if age is not None and (not isinstance(age, int) or age < 0):
        raise _fail(
            "CONN_MAX_AGE",
            "is not a number of seconds",
            "Use seconds, e.g. 600, or 0 for a connection per request.",
        )
    url_checks = database.get("CONN_HEALTH_CHECKS", True)
    if isinstance(url_checks, str):  # ?conn_health_checks=false arrives as text
        url_checks = url_checks.strip().lower() not in {"0", "false", "no", "off", ""}
    return {"CONN_MAX_AGE": age, "CONN_HEALTH_CHECKS": _bool("CONN_HEALTH_CHECKS", url_checks)}


SECRET_KEY_HINT = 'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(64))"'
FERNET_KEY_HINT = (
    "Generate one with: python -c "
    '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


def _secret_key() -> str:
    value = os.environ.get("SECRET_KEY", "")
    if not value.strip():
        hint = SECRET_KEY_HINT
        if not DEVELOPMENT and (BASE_DIR / ".env").exists():
            hint += (
                " (.env is read only with HOSTSITE_ENV=development, which make run sets;"
                " a production process never reads it.)"
            )
        raise _fail("SECRET_KEY", "is missing", hint)
    if value.startswith("django-insecure-") or len(value) < 50:
        raise _fail(
            "SECRET_KEY",
            "is a default or too short (at least 50 characters)",
            SECRET_KEY_HINT,
        )
    return value


def _field_encryption_keys() -> list[str]:
    """FIELD_ENCRYPTION_KEY: one Fernet key, or a comma-separated list newest first."""
    raw = os.environ.get("FIELD_ENCRYPTION_KEY", "")
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise _fail("FIELD_ENCRYPTION_KEY", "is missing", FERNET_KEY_HINT)
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise _fail(
                "FIELD_ENCRYPTION_KEY",
                f"entry {position} is not a Fernet key (32 url-safe base64 bytes)",
                FERNET_KEY_HINT,
            ) from None
    if len(set(keys)) != len(keys):
        raise _fail("FIELD_ENCRYPTION_KEY", "lists a key twice", "Remove the repeat.")
    return keys


def _origins(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    values = default if raw is None else [v.strip() for v in raw.split(",") if v.strip()]
    origins = []
    for value in values:
        parts = urlsplit(value)
        if (
            parts.scheme not in {"https", "http"}
            or not parts.hostname
            or parts.path not in {"", "/"}
            or parts.query
            or parts.fragment
            or parts.username
            or parts.password
        ):
            raise _fail(
                name,
                "holds an entry that is not an origin",
                "Use scheme://host[:port], e.g. https://app.sigmacomputing.com.",
            )
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return origins


# --- Core -------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = _secret_key()
# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = _bool("DEBUG", False)
# Security: DEBUG shows settings, frames and SQL to anyone who triggers an error.
if DEBUG and not DEVELOPMENT:
    raise _fail(
        "DEBUG",
        "is true outside development",
        "Set DEBUG=false, or HOSTSITE_ENV=development on a developer's machine.",
    )
# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
ALLOWED_HOSTS = _typed("ALLOWED_HOSTS", env.list, [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "encrypted_model_fields",
    "axes",
    "embeds",
    "accounts",
    "demo",
    "sigma_emulator",
]

MIDDLEWARE = [
    # Production section below: request ids first, then the probes (/healthz,
    # /readyz, /metrics), answered before host validation and the HTTPS redirect.
    "hostsite.requestid.RequestIdMiddleware",
    "hostsite.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # no-store, no-referrer and CSP frame-src for pages that render {% sigma_embed %}.
    "embeds.http.SignedURLHeadersMiddleware",
    # Last: turns a sign-in refused by axes into the friendly lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hostsite.urls"
WSGI_APPLICATION = "hostsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database and cache -----------------------------------------------------
# Seconds a process keeps a PostgreSQL connection (CONN_MAX_AGE, below).
DEFAULT_CONN_MAX_AGE = 600
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# SQLite in the project root by default; PostgreSQL in production, e.g.
# DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
DATABASES = {"default": _typed("DATABASE_URL", env.db_url, f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent requests (parallel sign-ins, page views) on SQLite: take the write
    # lock when a transaction starts and wait up to 20 s for it, instead of failing
    # with "database is locked" when a reader tries to become a writer.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-transaction-behavior
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
    if DEVELOPMENT:
        # models.W040: SQLite ignores the INCLUDE columns of AccessRecord's covering
        # index (a PostgreSQL optimisation, docs/performance.md); the index still
        # works without them. Silenced for the demo only, where it is noise on every
        # command; production on SQLite still sees it.
        SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    # Persistent connections: a process keeps its connection across requests for up
    # to CONN_MAX_AGE seconds (0: one per request, Django's own default), and checks
    # it with a "SELECT 1" before the first query of each request (CONN_HEALTH_CHECKS),
    # so a connection that a database restart broke is replaced before it is used.
    # A fresh PostgreSQL backend per request costs more CPU than the page itself
    # (docs/performance.md, "Database connections"). A value in the URL's query
    # string (?conn_max_age=...) is kept unless the variable is set.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
    DATABASES["default"].update(_persistent_connections(DATABASES["default"]))
# https://docs.djangoproject.com/en/5.2/ref/settings/#caches
# Local memory by default; Redis for several processes, e.g.
# CACHE_URL=redis://127.0.0.1:6379/0
CACHES = {"default": _typed("CACHE_URL", env.cache_url, "locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's backend with one Redis client per process, not one per call.
    CACHES["default"]["BACKEND"] = "hostsite.cache.RedisCache"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Field encryption (django-encrypted-model-fields) -----------------------
# https://pypi.org/project/django-encrypted-model-fields/
# A list, newest key first: new values are encrypted with the first key, and
# every key is tried on reading (MultiFernet). See `manage.py sigma_reencrypt`.
FIELD_ENCRYPTION_KEY = _field_encryption_keys()

# --- Authentication ----------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "embeds:home"
LOGOUT_REDIRECT_URL = "login"
# Sign-in protection (django-axes 8, https://django-axes.readthedocs.io/): its backend
# goes first, so every door that calls authenticate() is covered (/accounts/login/,
# /admin/login/, any added later). accounts.signin counts each attempt atomically
# *before* the password is checked, per normalized username + address
# (SIGMA_LOGIN_RATE_LIMIT) and per address (SIGMA_LOGIN_IP_RATE_LIMIT).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "accounts.signin.SignInHandler"
AXES_USERNAME_CALLABLE = "accounts.signin.username_key"
AXES_CLIENT_IP_CALLABLE = "accounts.signin.client_ip"
AXES_FAILURE_LIMIT = "accounts.signin.failure_limit"
AXES_COOLOFF_TIME = "accounts.signin.cool_off"
AXES_LOCKOUT_CALLABLE = "accounts.signin.lockout_response"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalization -----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------
# https://whitenoise.readthedocs.io/
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Security headers --------------------------------------------------------
# No page ever sends a Referer to another origin. Responses that carry a signed
# :jwt URL go further and send "no-referrer" (embeds.http.mark_signed_url_response).
# Not "no-referrer" everywhere: under it browsers send "Origin: null" on same-origin
# form POSTs, which Django's CSRF origin check (rightly) rejects.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", not DEBUG)
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-hsts-seconds
SECURE_HSTS_SECONDS = _typed("SECURE_HSTS_SECONDS", env.int, 0 if DEBUG else 31536000)
if SECURE_HSTS_SECONDS < 0:
    raise _fail("SECURE_HSTS_SECONDS", "is negative", "Use 0 (off) or seconds, e.g. 31536000.")
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# On by default in production so `check --deploy` is clean; the header only
# consents to preloading; submitting the domain to hstspreload.org is a separate,
# deliberate step. Set SECURE_HSTS_PRELOAD=false to withhold consent.
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if _bool("SECURE_PROXY_SSL_HEADER", False) else None
)
# Reverse proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For
# and X-Request-ID are believed: only when the direct peer is one of them is the
# client address the right-most X-Forwarded-For entry that is not a trusted proxy
# (embeds.http.client_ip; the sign-in lockout, rate limits, audit trail and request
# id all read it). Empty: REMOTE_ADDR is the client and those headers are ignored.
TRUSTED_PROXIES = [
    value.strip() for value in os.environ.get("TRUSTED_PROXIES", "").split(",") if value.strip()
]
try:
    parse_trusted_proxies(TRUSTED_PROXIES)
except ImproperlyConfigured as problem:
    raise _fail(
        "TRUSTED_PROXIES",
        str(problem).removeprefix("Setting TRUSTED_PROXIES ").rstrip("."),
        "Use addresses or CIDR ranges separated by commas, e.g. 10.0.0.0/8,192.0.2.10.",
    ) from None
# https://docs.djangoproject.com/en/5.2/ref/settings/#session-cookie-age
# A stolen admin session is as good as the embed secret's power: sessions expire
# after 8 hours by default, cookies are HTTP-only and never sent cross-site on POST.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = _typed("SESSION_COOKIE_AGE", env.int, 8 * 3600)
if SESSION_COOKIE_AGE < 60:
    raise _fail("SESSION_COOKIE_AGE", "is below 60 seconds", "Use seconds, e.g. 28800.")

# Error reports (debug page, error e-mails) hide secret-named values in every frame
# and scrub JWT-shaped strings and :jwt= URLs, even with DEBUG on (embeds.observability.reporting).
# https://docs.djangoproject.com/en/5.2/ref/settings/#default-exception-reporter-filter
DEFAULT_EXCEPTION_REPORTER_FILTER = (
    "embeds.observability.reporting.SecretSafeExceptionReporterFilter"
)
DEFAULT_EXCEPTION_REPORTER = "embeds.observability.reporting.SecretSafeExceptionReporter"


def _rate(name: str, default: str) -> str:
    """A "count/seconds" limit such as 60/60, or "off". Parsed at call time by
    embeds.issuing.ratelimit; validated here (with the same parser) so a typo stops
    start-up, naming the variable."""
    raw = os.environ.get(name)
    try:
        rate = parse_rate(default if raw is None else raw, setting=name)
    except ImproperlyConfigured:
        raise _fail(
            name, "is not a rate", "Use count/seconds with both above 0, e.g. 60/60, or off."
        ) from None
    return "off" if rate is None else f"{rate.count}/{rate.seconds}"


# Abuse limits (embeds.issuing.ratelimit). Counters live in the default cache (CACHE_URL),
# so with Redis they hold across every process and host.
# Signed URLs per user (page views, refreshes, commands; previews count for the admin).
SIGMA_RATE_LIMIT = _rate("SIGMA_RATE_LIMIT", "60/60")
# Password checks per normalized username + client address, and per address, in
# the window; a lock lasts the window from the last failure (accounts.signin).
SIGMA_LOGIN_RATE_LIMIT = _rate("SIGMA_LOGIN_RATE_LIMIT", "5/900")
SIGMA_LOGIN_IP_RATE_LIMIT = _rate("SIGMA_LOGIN_IP_RATE_LIMIT", "50/900")
# Audit trail retention (manage.py sigma_prune_audit), in days.
SIGMA_AUDIT_RETENTION_DAYS = _typed("SIGMA_AUDIT_RETENTION_DAYS", env.int, 365)
if SIGMA_AUDIT_RETENTION_DAYS < 1:
    raise _fail("SIGMA_AUDIT_RETENTION_DAYS", "is below 1", "Use a number of days, e.g. 365.")
# Development tools (the emulator, seed_demo) refuse to run with DEBUG off unless
# forced: the emulator accepts any token signed with the demo secret.
SIGMA_EMULATOR_FORCE = _bool("SIGMA_EMULATOR_FORCE", False)

# --- Sigma ---------------------------------------------------------------------
# Origins Sigma content may be embedded from: the iframe's src must be on one of
# them, the CSP frame-src allows only them, and the embed page's script accepts
# postMessage events only from them. http:// is accepted for loopback origins (the
# local emulator) only; `manage.py check` refuses it with DEBUG off.
SIGMA_ALLOWED_ORIGINS = _origins("SIGMA_ALLOWED_ORIGINS", ["https://app.sigmacomputing.com"])
# Default token lifetime in seconds; an embed may set its own. Sigma's hard limit
# for exp - iat is 30 days.
SIGMA_DEFAULT_TOKEN_TTL = _typed("SIGMA_DEFAULT_TOKEN_TTL", env.int, 3600)
if not constants.MIN_TOKEN_TTL <= SIGMA_DEFAULT_TOKEN_TTL <= constants.MAX_TOKEN_TTL:
    raise _fail(
        "SIGMA_DEFAULT_TOKEN_TTL",
        "is out of range",
        f"Use seconds between {constants.MIN_TOKEN_TTL} and {constants.MAX_TOKEN_TTL} (30 days).",
    )
# Sigma's REST API (embeds.remote.usage: sigma_check --remote, the admin's "Check against
# Sigma", registry sync and pickers). The base URL depends on the organization's
# cloud, e.g. https://aws-api.sigmacomputing.com; the emulator serves it on its origin.
SIGMA_API_BASE_URL = _origins("SIGMA_API_BASE_URL", ["https://api.sigmacomputing.com"])[0]
# Name of the credential (with the REST API privilege) to use when several have it.
SIGMA_API_CREDENTIAL = os.environ.get("SIGMA_API_CREDENTIAL", "").strip()
# Lifetime of tokens signed by the admin's preview: it hands a staff user a token
# for someone else, usable outside the preview page, so it is short.
SIGMA_PREVIEW_TOKEN_TTL = _typed("SIGMA_PREVIEW_TOKEN_TTL", env.int, 300)
if not 10 <= SIGMA_PREVIEW_TOKEN_TTL <= 3600:
    raise _fail("SIGMA_PREVIEW_TOKEN_TTL", "is out of range", "Use seconds between 10 and 3600.")
# OAuth passthrough: dotted path of a callable (user, embed) -> None | str | dict
# giving the user's OAuth token(s), sent encrypted (docs/sigma-protocol.md). Unset:
# no OAuth claims. Never read from request input.
SIGMA_OAUTH_TOKEN_PROVIDER = os.environ.get("SIGMA_OAUTH_TOKEN_PROVIDER", "").strip() or None
# The local Sigma emulator (never on unless asked for; see sigma_emulator/).
SIGMA_EMULATOR_ENABLED = _bool("SIGMA_EMULATOR_ENABLED", False)
SIGMA_EMULATOR_ORIGIN = _origins("SIGMA_EMULATOR_ORIGIN", ["http://127.0.0.1:8001"])[0]
# Host origins the emulator lets frame its pages (its CSP frame-ancestors).
SIGMA_EMULATOR_FRAME_ANCESTORS = _origins(
    "SIGMA_EMULATOR_FRAME_ANCESTORS", ["http://127.0.0.1:8000", "http://localhost:8000"]
)
# Security: the emulator signs users in on a token nobody at Sigma checked and
# shows the claims; it is a development tool. In production it is refused whatever
# else is set (SIGMA_EMULATOR_FORCE included); in development it needs DEBUG or an
# explicit override.
if SIGMA_EMULATOR_ENABLED and not DEVELOPMENT:
    raise _fail(
        "SIGMA_EMULATOR_ENABLED",
        "is true in production (HOSTSITE_ENV is not development)",
        "The emulator is a development tool and never runs in production, even with "
        "SIGMA_EMULATOR_FORCE; set SIGMA_EMULATOR_ENABLED=false.",
    )
if SIGMA_EMULATOR_ENABLED and not DEBUG and not SIGMA_EMULATOR_FORCE:
    raise _fail(
        "SIGMA_EMULATOR_ENABLED",
        "is true while DEBUG is off",
        "The emulator is for development; turn it off, or set SIGMA_EMULATOR_FORCE=true "
        "to run it with DEBUG off in development.",
    )

# The demo's logins (demo/personas.py; seed_demo creates them with a published
# password): check --deploy warns (embeds.W104) while any of them still signs in with it.
SIGMA_PUBLISHED_PASSWORDS = PUBLISHED_PASSWORDS

# --- Content Security Policy (django-csp 4) -------------------------------
# https://django-csp.readthedocs.io/
# No inline script or style anywhere. Frames are refused by default; the pages that
# render an embed allow exactly SIGMA_ALLOWED_ORIGINS (embeds.http.allow_sigma_frames),
# read at request time.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'none'"],
        "child-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
# Optional violation reports (CSP_REPORT_URI, an https URL or a same-site path).
_csp_report_uri = os.environ.get("CSP_REPORT_URI", "").strip()
if _csp_report_uri:
    try:
        _report = urlsplit(_csp_report_uri)
        _report.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        _report = urlsplit("")
    if not (
        (_report.scheme == "https" and _report.hostname)
        or (not _report.scheme and not _report.netloc and _csp_report_uri.startswith("/"))
    ) or any(ch.isspace() or ch in ";," for ch in _csp_report_uri):
        raise _fail(
            "CSP_REPORT_URI",
            "is not an https URL or a path",
            "Use e.g. https://reports.example.com/csp or /csp-report/.",
        )
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [_csp_report_uri]

# --- Production: sessions, logs, metrics, load test ---------------------------
# See README "Deploy". Sessions live in the cache in production (Redis, shared by
# every process): no session query per request, and sign-out or expiry still ends
# a session server-side, which signed cookies cannot do.
# https://docs.djangoproject.com/en/5.2/topics/http/sessions/#using-cached-sessions
SESSION_STORES = {
    "cache": "django.contrib.sessions.backends.cache",
    "db": "django.contrib.sessions.backends.db",
    "signed_cookies": "django.contrib.sessions.backends.signed_cookies",
}
SESSION_STORE = os.environ.get("SESSION_STORE", "").strip() or ("db" if DEBUG else "cache")
if SESSION_STORE not in SESSION_STORES:
    raise _fail("SESSION_STORE", "is not a session store", "Use cache, db or signed_cookies.")
SESSION_ENGINE = SESSION_STORES[SESSION_STORE]

# One line per record with time, level, logger and request id (hostsite.logconfig);
# LOG_FORMAT=json for one JSON object per line. The token-redaction filter is on
# every handler: code never logs a token, but any ":jwt=<value>" or compact JWS
# that slipped into a message or traceback would be masked.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or "text"
if LOG_FORMAT not in LOG_FORMATS:
    raise _fail("LOG_FORMAT", "is not a log format", "Use text or json.")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise _fail("LOG_LEVEL", "is not a log level", "Use DEBUG, INFO, WARNING or ERROR.")
# To add a handler (a file, a log shipper), add it to the dict before the last
# line; redact_every_handler puts the filters on it.
LOGGING = build_logging(fmt=LOG_FORMAT, level=LOG_LEVEL)
LOGGING = redact_every_handler(LOGGING)

# /metrics (Prometheus text format) answers only "Authorization: Bearer <token>";
# unset, the endpoint does not exist (404).
# /readyz reuses its credential check (it decrypts every stored secret) this long.
READYZ_CREDENTIAL_CHECK_SECONDS = _typed("READYZ_CREDENTIAL_CHECK_SECONDS", env.int, 15)
if not 0 <= READYZ_CREDENTIAL_CHECK_SECONDS <= 300:
    raise _fail("READYZ_CREDENTIAL_CHECK_SECONDS", "is out of range", "Use seconds from 0 to 300.")
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise _fail("METRICS_TOKEN", "is too short (at least 32 characters)", SECRET_KEY_HINT)

# /bench/bare/: the load benchmark's baseline page (`make loadtest` turns it on).
BENCH_BARE_PAGE = _bool("BENCH_BARE_PAGE", False)
