"""License keys and tokens: the Ed25519-signed statements the license server issues (no I/O).

A token is ``vb1.<payload>.<signature>``. The payload is canonical JSON (sorted keys, no spaces) in
unpadded base64url; the signature is Ed25519 over the ASCII bytes of ``vb1.<payload>``, also in
unpadded base64url. The license server signs every answer it gives about a key (active,
suspended, expired or invalid), so the bridge trusts only what carries a valid signature: a token
cannot be edited in the database, and an answer cannot be forged on the way, without failing
:func:`read_token`.

A token names the key only by its SHA-256 digest, so the bridge's cached copy never holds the key
itself, and echoes the ``nonce`` the bridge sent, so an old answer cannot be replayed as new.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bridge.errors import LicenseTokenInvalid

TOKEN_PREFIX = "vb1"  # noqa: S105 - a format marker, not a secret
MAX_TOKEN_LENGTH = 4096
_KEY_SPACES = re.compile(r"\s+")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_CLAIM_NAMES = frozenset(
    {"key_sha256", "domain", "ip", "status", "expires_on", "issued_at", "nonce", "reason"}
)


class LicenseStatus(StrEnum):
    """What the license server says about a key for the installation that asked."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class LicenseClaims:
    """The signed content of a token: a key's status for one domain/IP, as of ``issued_at``."""

    key_sha256: str
    domain: str
    ip: str
    status: LicenseStatus
    expires_on: date | None
    issued_at: datetime
    nonce: str
    reason: str = ""


def normalize_key(key: str) -> str:
    """Return a license key as both sides compare it: no whitespace, upper case."""
    return _KEY_SPACES.sub("", key).upper()


def key_digest(key: str) -> str:
    """Return the hex SHA-256 of the normalised key: how tokens and stores name a key."""
    return hashlib.sha256(normalize_key(key).encode()).hexdigest()


def key_hint(key: str) -> str:
    """Return the last characters of a key, enough to tell keys apart in logs and listings."""
    normalized = normalize_key(key)
    return f"…{normalized[-5:]}" if len(normalized) > 8 else "…"


def new_nonce() -> str:
    """Return a fresh random nonce for one request to the license server."""
    return secrets.token_hex(16)


def public_key_text(private_key: Ed25519PrivateKey) -> str:
    """Return the public half of ``private_key`` as BRIDGE_LICENSE_PUBLIC_KEY expects it."""
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """Return the Ed25519 public key in ``text`` (base64 of its 32 raw bytes)."""
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error):
        raise LicenseTokenInvalid(
            "BRIDGE_LICENSE_PUBLIC_KEY is not an Ed25519 public key; copy it from "
            "`bridge license-server public-key`."
        ) from None


def sign_token(claims: LicenseClaims, private_key: Ed25519PrivateKey) -> str:
    """Return ``claims`` as a signed token."""
    body = {
        "key_sha256": claims.key_sha256,
        "domain": claims.domain,
        "ip": claims.ip,
        "status": claims.status.value,
        "expires_on": claims.expires_on.isoformat() if claims.expires_on else None,
        "issued_at": _utc_text(claims.issued_at),
        "nonce": claims.nonce,
        "reason": claims.reason,
    }
    payload = _b64(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    signed = f"{TOKEN_PREFIX}.{payload}"
    return f"{signed}.{_b64(private_key.sign(signed.encode()))}"


def read_token(token: str, public_key: Ed25519PublicKey) -> LicenseClaims:
    """Return the claims of ``token`` after checking its form and signature."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise LicenseTokenInvalid("The license token is missing or too long.")
    prefix, _, rest = token.partition(".")
    payload, _, signature = rest.partition(".")
    if prefix != TOKEN_PREFIX or not payload or not signature:
        raise LicenseTokenInvalid("The license token is not in the vb1.PAYLOAD.SIGNATURE form.")
    try:
        public_key.verify(_unb64(signature), f"{prefix}.{payload}".encode())
    except (InvalidSignature, ValueError):
        raise LicenseTokenInvalid(
            "The license token is not signed by the license server whose public key the bridge "
            "has (BRIDGE_LICENSE_PUBLIC_KEY); it was altered or comes from another server."
        ) from None
    try:
        body = json.loads(_unb64(payload))
        return _claims_from(body)
    except (ValueError, TypeError, KeyError):
        # Only the license server's own key can produce a signed payload, so this is a bug on its
        # side rather than tampering; it is still refused.
        raise LicenseTokenInvalid("The license token's content is malformed.") from None


def _claims_from(body: Any) -> LicenseClaims:
    if not isinstance(body, dict) or set(body) != _CLAIM_NAMES:
        raise ValueError("unexpected claims")
    texts = {name: body[name] for name in _CLAIM_NAMES - {"expires_on"}}
    if not all(isinstance(value, str) for value in texts.values()):
        raise TypeError("claims must be text")
    if not _HEX_DIGEST.fullmatch(body["key_sha256"]):
        raise ValueError("key digest")
    expires = body["expires_on"]
    if expires is not None and not isinstance(expires, str):
        raise TypeError("expires_on")
    issued_at = datetime.fromisoformat(body["issued_at"])
    if issued_at.tzinfo is None:
        raise ValueError("issued_at has no time zone")
    return LicenseClaims(
        key_sha256=body["key_sha256"],
        domain=body["domain"],
        ip=body["ip"],
        status=LicenseStatus(body["status"]),
        expires_on=date.fromisoformat(expires) if expires else None,
        issued_at=issued_at.astimezone(UTC),
        nonce=body["nonce"],
        reason=body["reason"],
    )


def _utc_text(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError("token times must be aware")
    return instant.astimezone(UTC).replace(microsecond=0).isoformat()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
