"""Masking secrets out of text before it is logged, stored or shown (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable

MASK = "********"


def redact(text: str, secrets: Iterable[str], *, min_length: int = 1) -> str:
    """Return ``text`` with every secret of at least ``min_length`` characters masked.

    Longest secrets go first, so a secret that contains another is masked whole.
    """
    for secret in sorted({s for s in secrets if len(s) >= min_length}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
