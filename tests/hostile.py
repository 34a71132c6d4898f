"""Hypothesis strategies for input an attacker or a careless operator sends (shared by tests).

``hostile_json`` builds JSON documents whose values are what breaks naive parsers: digit floods,
exponents (``1e999999``), lone surrogates, control characters, deep nesting; ``json_bodies`` turns
them (and arbitrary bytes, and JSON ``json.loads`` refuses) into request bodies.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

NUMBERISH = st.sampled_from(
    [
        "1e999999", "-1e999999", "9" * 5000, "1E+308", "NaN", "Infinity", "-0", "0x10", "1_000",
        "99999999999.999999999", "1763000000", "2026-01-05 10:00:00", "0001-01-01T00:00:00",
        "9999-12-31 23:59:59-14:00", "0001-01-01 01:00:00+14:00", "", " ", "\u0661\u0662",
    ]
)  # fmt: skip
TEXT = st.text(max_size=80) | st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
SCALARS: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
    | NUMBERISH
    | st.sampled_from(["\ud800", "a\udfffb", "x\n\rINFO forged", "\x00"])
)
hostile_json: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=6),
    max_leaves=30,
)


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode()


json_bodies: st.SearchStrategy[bytes] = (
    hostile_json.map(_dump)
    | st.binary(max_size=2000)
    | st.sampled_from(
        [
            b"[" * 100_000 + b"]" * 100_000,
            b'{"a": ' + b"9" * 5000 + b"}",
            b'{"a": NaN}',
            b"\xff\xfe\x00{",
            b'"\\ud800"',
        ]
    )
)


def records_like(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Return JSON objects using ``keys`` (a real record's field names) with hostile values."""
    return st.dictionaries(st.sampled_from(keys) | TEXT, hostile_json, max_size=len(keys) + 2)
