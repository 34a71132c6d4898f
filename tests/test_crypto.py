"""Secrets at rest: encrypted under the configured key, unreadable under another."""

from __future__ import annotations

import base64

import pytest
from starlette.datastructures import Secret

from bridge.crypto import decrypt_text, encrypt_text
from bridge.errors import ConfigError, NotConfigured

KEY = Secret(base64.urlsafe_b64encode(b"k" * 32).decode())
OTHER = Secret(base64.urlsafe_b64encode(b"o" * 32).decode())


def test_round_trip_and_ciphertext_hides_the_value() -> None:
    """A stored secret decrypts to itself, and the stored text does not contain it."""
    token = encrypt_text(KEY, "host=pbx user=ro password=hunter2")

    assert "hunter2" not in token
    assert decrypt_text(KEY, token) == "host=pbx user=ro password=hunter2"


def test_wrong_key_is_a_clear_error() -> None:
    """Reading with another key says the key does not match instead of returning garbage."""
    token = encrypt_text(KEY, "secret")

    with pytest.raises(ConfigError, match="not the key it was stored with"):
        decrypt_text(OTHER, token)


def test_no_key_configured() -> None:
    """Without BRIDGE_ENCRYPTION_KEY the bridge refuses to store secrets, and says why."""
    with pytest.raises(NotConfigured, match="BRIDGE_ENCRYPTION_KEY"):
        encrypt_text(None, "secret")
