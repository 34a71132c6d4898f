"""Reading a request body as JSON, whatever an outside caller sends.

``json.loads`` turns hostile text into exceptions other than ``JSONDecodeError``: a 5,000-digit
integer is a plain ``ValueError`` (Python's integer digit limit), 100,000 nested brackets a
``RecursionError``, and bytes that are not UTF-8 a ``UnicodeDecodeError``. It also accepts what no
column or PHP peer can take: ``NaN``/``Infinity`` and escaped lone surrogates (``"\\ud800"``),
which fail much later, when the text is written to the database. :func:`load_json` refuses all of
them up front as :class:`~bridge.errors.InvalidRequest` (422), so a body is either clean JSON or
a 4xx, never a 500. Bodies are already bounded (1 MiB) by
:func:`bridge.web.signing.read_limited_body`.
"""

from __future__ import annotations

import json
from typing import Any

from bridge.errors import InvalidRequest


def load_json(body: bytes, *, what: str) -> Any:
    """Return ``body`` parsed as JSON, or raise :class:`InvalidRequest` naming ``what`` it is."""
    try:
        payload = json.loads(body, parse_constant=_refuse_constant)
        # Encoding the parsed value back is the one check that finds a lone surrogate anywhere
        # in it without walking the structure ourselves.
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise InvalidRequest(f"{what} is nested too deeply to be read.") from None
    except UnicodeError:
        raise InvalidRequest(f"{what} is not UTF-8 text (or holds a lone surrogate).") from None
    except ValueError as exc:
        raise InvalidRequest(f"{what} is not JSON ({_shown(exc)}).") from None
    return payload


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _shown(exc: ValueError) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:120] + "…"
