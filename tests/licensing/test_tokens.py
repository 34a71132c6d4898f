"""License tokens: what the license server signs is read back exactly; anything else is refused."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import LicenseTokenInvalid
from bridge.licensing.tokens import (
    LicenseClaims,
    LicenseStatus,
    key_digest,
    key_hint,
    normalize_key,
    parse_public_key,
    public_key_text,
    read_token,
    sign_token,
)

SERVER_KEY = Ed25519PrivateKey.generate()
PUBLIC_KEY = parse_public_key(public_key_text(SERVER_KEY))
LICENSE = "VB-7KQ2M-XR4TD-9PH3W-ZC8NB"
CLAIMS = LicenseClaims(
    key_sha256=key_digest(LICENSE),
    domain="billing.example.net",
    ip="203.0.113.10",
    status=LicenseStatus.ACTIVE,
    expires_on=date(2027, 6, 30),
    issued_at=datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
    nonce="0123456789abcdef0123456789abcdef",
)


def _payload(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _with_payload(token: str, payload: dict[str, object]) -> str:
    prefix, _old, signature = token.split(".")
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return f"{prefix}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{signature}"


class TestRoundTrip:
    def test_signed_claims_read_back_unchanged(self) -> None:
        """Every claim the server signs comes back as it was signed."""
        assert read_token(sign_token(CLAIMS, SERVER_KEY), PUBLIC_KEY) == CLAIMS

    def test_no_expiry_and_a_reason(self) -> None:
        """A key without expiry and an invalid verdict's reason survive the round trip."""
        claims = replace(CLAIMS, expires_on=None, status=LicenseStatus.INVALID, reason="unknown")

        assert read_token(sign_token(claims, SERVER_KEY), PUBLIC_KEY) == claims

    def test_token_names_the_key_only_by_digest(self) -> None:
        """The token holds no part of the license key itself."""
        token = sign_token(CLAIMS, SERVER_KEY)

        shown = json.dumps(_payload(token)) + token
        assert not [group for group in LICENSE.split("-")[1:] if group in shown]
        assert _payload(token)["key_sha256"] == key_digest(LICENSE)


class TestTampering:
    def test_changed_domain_breaks_the_signature(self) -> None:
        """Moving a token to another domain by editing it is detected."""
        token = sign_token(CLAIMS, SERVER_KEY)
        forged = _with_payload(token, {**_payload(token), "domain": "pirate.example.org"})

        with pytest.raises(LicenseTokenInvalid, match="not signed by the license server"):
            read_token(forged, PUBLIC_KEY)

    def test_suspended_token_cannot_be_edited_to_active(self) -> None:
        """A suspended verdict stays suspended: editing its status breaks the signature."""
        token = sign_token(replace(CLAIMS, status=LicenseStatus.SUSPENDED), SERVER_KEY)
        forged = _with_payload(token, {**_payload(token), "status": "active"})

        with pytest.raises(LicenseTokenInvalid):
            read_token(forged, PUBLIC_KEY)

    def test_token_signed_by_another_server(self) -> None:
        """A well-formed token from a different signing key is refused."""
        other = sign_token(CLAIMS, Ed25519PrivateKey.generate())

        with pytest.raises(LicenseTokenInvalid, match="BRIDGE_LICENSE_PUBLIC_KEY"):
            read_token(other, PUBLIC_KEY)

    @pytest.mark.parametrize(
        "token", ["", "vb1", "vb1..", "vb2.e30.AAAA", "vb1.e30", "vb1.!!!.???", "x" * 5000]
    )
    def test_malformed_tokens(self, token: str) -> None:
        """Tokens not in the vb1.PAYLOAD.SIGNATURE form are refused with a clear error."""
        with pytest.raises(LicenseTokenInvalid):
            read_token(token, PUBLIC_KEY)

    @settings(deadline=None)
    @given(st.text(max_size=300))
    def test_arbitrary_text_is_refused_cleanly(self, token: str) -> None:
        """No string makes read_token fail with anything but LicenseTokenInvalid."""
        with pytest.raises(LicenseTokenInvalid):
            read_token(token, PUBLIC_KEY)


def _signed(payload: dict[str, object]) -> str:
    """Sign ``payload`` as the server would, however wrong its content."""
    raw = json.dumps(payload).encode()
    signed = f"vb1.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}"
    signature = base64.urlsafe_b64encode(SERVER_KEY.sign(signed.encode())).rstrip(b"=").decode()
    return f"{signed}.{signature}"


GOOD_BODY = _payload(sign_token(CLAIMS, SERVER_KEY))


class TestSignedButMalformed:
    @pytest.mark.parametrize(
        "changes",
        [
            {"status": "revoked"},
            {"key_sha256": "not-a-digest"},
            {"domain": 42},
            {"expires_on": 20270630},
            {"expires_on": "30/06/2027"},
            {"issued_at": "2026-11-29T10:00:00"},
            {"surprise": "extra claim"},
        ],
    )
    def test_content_the_bridge_cannot_trust(self, changes: dict[str, object]) -> None:
        """A correctly signed token with impossible content (a server bug) is still refused."""
        with pytest.raises(LicenseTokenInvalid, match="content is malformed"):
            read_token(_signed({**GOOD_BODY, **changes}), PUBLIC_KEY)

    def test_signed_payload_that_is_not_an_object(self) -> None:
        """A signed JSON list is refused like any malformed content."""
        raw = base64.urlsafe_b64encode(b"[1, 2]").rstrip(b"=").decode()
        signature = SERVER_KEY.sign(f"vb1.{raw}".encode())
        token = f"vb1.{raw}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

        with pytest.raises(LicenseTokenInvalid, match="content is malformed"):
            read_token(token, PUBLIC_KEY)

    def test_server_cannot_sign_a_time_without_zone(self) -> None:
        """Signing refuses a naive time rather than issue an ambiguous token."""
        with pytest.raises(ValueError, match="aware"):
            sign_token(replace(CLAIMS, issued_at=datetime(2026, 11, 29, 10, 0)), SERVER_KEY)


class TestKeys:
    def test_keys_compare_without_case_or_spaces(self) -> None:
        """A key typed in lower case or with spaces names the same license."""
        assert normalize_key(" vb-7kq2m-xr4td-9ph3w-zc8nb\n") == LICENSE
        assert key_digest("vb-7kq2m-xr4td 9ph3w-zc8nb".replace(" ", "-")) == key_digest(LICENSE)

    def test_hint_shows_only_the_end(self) -> None:
        """The hint used in logs and listings shows five characters, never the whole key."""
        assert key_hint(LICENSE) == "…ZC8NB"
        assert key_hint("short") == "…"

    def test_bad_public_key_setting(self) -> None:
        """A public key that is not 32 bytes of base64 is a clear error."""
        with pytest.raises(LicenseTokenInvalid, match="not an Ed25519 public key"):
            parse_public_key("bm90IGEga2V5")
