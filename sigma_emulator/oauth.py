"""How the emulated Sigma reads ``oauth_token`` / ``connection_oauth_tokens``.

Its own reading of node-embed-sdk's ``decrypt`` (``encryption_utils.ts``), written
apart from the host's ``embeds.protocol.oauth`` on purpose (standard-library PBKDF2 here,
``cryptography``'s KDF there), so one bug cannot hide in both: split on ``.`` into
salt, iv, tag, ciphertext; check 16/12/16 bytes; PBKDF2-HMAC-SHA256 with 600 000
iterations gives the AES-256-GCM key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SDK_ITERATIONS = 600_000
SDK_PARTS = {"salt": 16, "iv": 12, "tag": 16}


def _node_base64(text: str) -> bytes | None:
    # Buffer.from(text, "base64") accepts standard and url-safe alphabets, with or
    # without padding.
    normal = text.translate(str.maketrans("-_", "+/")).rstrip("=")
    try:
        return base64.b64decode(normal + "=" * (-len(normal) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def decrypt_sdk_token(secret: str, encrypted: object) -> str | None:
    """The plaintext of an SDK-encrypted token, or None if it does not decrypt."""
    if not isinstance(encrypted, str) or encrypted.count(".") != 3:
        return None
    decoded = [_node_base64(part) for part in encrypted.split(".")]
    if any(part is None for part in decoded):
        return None
    salt, iv, tag, ciphertext = decoded
    if [len(salt), len(iv), len(tag)] != list(SDK_PARTS.values()):
        return None
    key = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), salt, SDK_ITERATIONS, 32)
    try:
        plaintext = AESGCM(key).decrypt(iv, ciphertext + tag, None)
    except InvalidTag:
        return None
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        return None
