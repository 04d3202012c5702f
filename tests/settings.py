"""Test settings: hostsite.settings with throw-away keys and a fast hasher.

Keys are generated per run and the local .env is ignored, so tests never depend on
a developer's machine. DATABASE_URL (for the PostgreSQL pass) and CACHE_URL still
come from the environment.
"""

import os
import secrets

from cryptography.fernet import Fernet

os.environ["HOSTSITE_READ_DOTENV"] = "0"
# Production mode with explicit test overrides below (no .env, DEBUG refused): the
# suite tests what a deployment runs. Tests that need DEBUG set it at run time.
os.environ.setdefault("HOSTSITE_ENV", "production")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
os.environ.setdefault(
    "FIELD_ENCRYPTION_KEY",
    ",".join([Fernet.generate_key().decode(), Fernet.generate_key().decode()]),
)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault(
    "SIGMA_ALLOWED_ORIGINS", "https://app.sigmacomputing.com,http://127.0.0.1:8001"
)

from hostsite.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve app static files straight from their folders (no collectstatic in tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
