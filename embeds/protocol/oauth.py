"""OAuth token passthrough: Sigma's ``oauth_token`` / ``connection_oauth_tokens``.

Sigma wants each OAuth token encrypted with the embed secret, in the format of its
node-embed-sdk (``packages/node-embed-sdk/src/encryption.ts``), byte for byte:

* key = PBKDF2-HMAC-SHA256(secret UTF-8, 16-byte random salt, 600 000 iterations,
  32 bytes);
* AES-256-GCM with a 12-byte random IV, no associated data, 16-byte tag;
* output ``b64(salt) "." b64(iv) "." b64(tag) "." b64(ciphertext)`` in standard
  base64 (``+``, ``/``, ``=`` padding), the tag *before* the ciphertext.

600 000 PBKDF2 iterations cost a noticeable fraction of a second per call, far
too much for every page view. :class:`KeyCache` keeps, per process and per
secret, one random salt and the key derived from it, so each page view only runs
AES-GCM with a fresh IV (each output is still new and decrypts with Sigma's own
code, which reads the salt from the message). Only derived keys stay in memory,
never plaintext tokens, and never in a shared cache (Redis, database).

The plaintext tokens come from the host's ``SIGMA_OAUTH_TOKEN_PROVIDER`` callable
(``embeds.issuing.oauth``), never from request input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.views.decorators.debug import sensitive_variables

ITERATIONS = 600_000
KEY_LENGTH = 32
SALT_LENGTH = 16
IV_LENGTH = 12
TAG_LENGTH = 16
# A derived key is reused for at most this long, then a new salt is drawn.
KEY_MAX_AGE = 3600.0
KEY_CACHE_SIZE = 32


class OAuthTokenError(ValueError):
    """An encrypted token that is malformed or does not authenticate."""


@sensitive_variables("secret")
def derive_key(secret: str, salt: bytes) -> bytes:
    """PBKDF2-HMAC-SHA256 of the secret's UTF-8 bytes (the slow step)."""
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=KEY_LENGTH, salt=salt, iterations=ITERATIONS)
    return kdf.derive(secret.encode("utf-8"))


# The plaintext is a user's OAuth token: hidden from every error report (a token
# the provider returns is not named like a secret, nor shaped like a JWT).
@sensitive_variables("key", "plaintext", "sealed")
def encrypt_with_key(key: bytes, salt: bytes, plaintext: str, *, iv: bytes | None = None) -> str:
    """Encrypt with an already derived key; ``salt`` is the one it came from."""
    if len(salt) != SALT_LENGTH or len(key) != KEY_LENGTH:
        raise ValueError("salt must be 16 bytes and key 32 bytes")
    iv = os.urandom(IV_LENGTH) if iv is None else iv
    if len(iv) != IV_LENGTH:
        raise ValueError("iv must be 12 bytes")
    sealed = AESGCM(key).encrypt(iv, plaintext.encode("utf-8"), None)
    # cryptography returns ciphertext || tag; the SDK's order is salt.iv.tag.ciphertext.
    ciphertext, tag = sealed[:-TAG_LENGTH], sealed[-TAG_LENGTH:]
    return ".".join(base64.b64encode(part).decode("ascii") for part in (salt, iv, tag, ciphertext))


@sensitive_variables("secret", "plaintext")
def encrypt_token(
    secret: str, plaintext: str, *, salt: bytes | None = None, iv: bytes | None = None
) -> str:
    """Encrypt ``plaintext`` with ``secret`` exactly as node-embed-sdk ``encrypt``.

    ``salt`` and ``iv`` are random unless given (tests pin them to reproduce a
    vector). Runs the full key derivation; page views use :func:`encrypt_cached`.
    """
    if not isinstance(secret, str) or not secret:
        raise ValueError("secret is empty")
    salt = os.urandom(SALT_LENGTH) if salt is None else salt
    if len(salt) != SALT_LENGTH:
        raise ValueError("salt must be 16 bytes")
    return encrypt_with_key(derive_key(secret, salt), salt, plaintext, iv=iv)


def _b64(part: str) -> bytes:
    # Node's decoder also takes url-safe and unpadded input; so do we.
    part = part.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(part + "=" * (-len(part) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise OAuthTokenError("not base64") from None


def decrypt_token(secret: str, encrypted: str) -> str:
    """Decrypt an SDK-format token; raise :class:`OAuthTokenError` otherwise.

    Refuses anything but four dot-separated parts whose decoded lengths are 16
    (salt), 12 (iv) and 16 (tag), and anything that fails GCM authentication (a
    wrong secret or tampered data).
    """
    parts = encrypted.split(".") if isinstance(encrypted, str) else []
    if len(parts) != 4:
        raise OAuthTokenError("expected 4 components")
    salt, iv, tag, ciphertext = (_b64(part) for part in parts)
    if (len(salt), len(iv), len(tag)) != (SALT_LENGTH, IV_LENGTH, TAG_LENGTH):
        raise OAuthTokenError("wrong component lengths")
    try:
        plaintext = AESGCM(derive_key(secret, salt)).decrypt(iv, ciphertext + tag, None)
    except InvalidTag:
        raise OAuthTokenError("does not authenticate") from None
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise OAuthTokenError("not UTF-8") from None


class KeyCache:
    """Per-process cache of (salt, derived key) per secret, bounded in size and age.

    Keyed by a SHA-256 of the secret so the dictionary never holds the secret
    itself. A new secret (rotation) simply misses; old entries age out.
    """

    def __init__(
        self,
        *,
        max_age: float = KEY_MAX_AGE,
        size: int = KEY_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        self.size = size
        self.clock = clock
        self.derivations = 0
        self._entries: OrderedDict[bytes, tuple[float, bytes, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def key_for(self, secret: str) -> tuple[bytes, bytes]:
        """(salt, key) for ``secret``, deriving a new pair when absent or too old."""
        ident = hashlib.sha256(secret.encode("utf-8")).digest()
        now = self.clock()
        with self._lock:
            entry = self._entries.get(ident)
            if entry is not None and now - entry[0] < self.max_age:
                self._entries.move_to_end(ident)
                return entry[1], entry[2]
        # Derive outside the lock: a second thread may derive too, harmlessly.
        salt = os.urandom(SALT_LENGTH)
        key = derive_key(secret, salt)
        with self._lock:
            self.derivations += 1
            self._entries[ident] = (now, salt, key)
            self._entries.move_to_end(ident)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return salt, key

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.derivations = 0


key_cache = KeyCache()


@sensitive_variables("secret", "plaintext", "key")
def encrypt_cached(secret: str, plaintext: str, *, cache: KeyCache | None = None) -> str:
    """:func:`encrypt_token` with the per-process derived key: one AES-GCM per call."""
    salt, key = (cache or key_cache).key_for(secret)
    return encrypt_with_key(key, salt, plaintext)


@sensitive_variables("tokens", "secret", "token")
def oauth_claims(tokens: str | Mapping[str, str] | None, *, secret: str) -> dict[str, Any]:
    """The encrypted claims for the provider's answer (empty when there is none)."""
    if tokens is None:
        return {}
    if isinstance(tokens, str):
        return {"oauth_token": encrypt_cached(secret, tokens)}
    return {
        "connection_oauth_tokens": {
            connection_id: encrypt_cached(secret, token)
            for connection_id, token in sorted(tokens.items())
        }
    }
