"""Secrets at rest: what the bridge stores for a PBX (database DSNs, API passwords, push tokens).

Values are encrypted with Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under
``BRIDGE_ENCRYPTION_KEY``. The key lives only in the bridge's environment, never in the database,
so a copy of the WHMCS database alone does not reveal a PBX password.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from starlette.datastructures import Secret

from bridge.errors import ConfigError, NotConfigured


def encrypt_text(key: Secret | None, plaintext: str) -> str:
    """Return ``plaintext`` encrypted under ``key`` (URL-safe text, safe to store)."""
    return _fernet(key).encrypt(plaintext.encode()).decode()


def decrypt_text(key: Secret | None, token: str) -> str:
    """Return the plaintext of ``token``, or say clearly that the key does not fit."""
    try:
        return _fernet(key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ConfigError(
            "A stored PBX secret cannot be decrypted: BRIDGE_ENCRYPTION_KEY is not the key it was "
            "stored with. Restore the old key, or store the secret again."
        ) from None


def _fernet(key: Secret | None) -> Fernet:
    if key is None:
        raise NotConfigured(
            "BRIDGE_ENCRYPTION_KEY is not set, so the bridge cannot store or read PBX secrets. "
            "Generate one (see .env.example) and keep it safe: losing it means re-entering them."
        )
    return Fernet(str(key).encode())
