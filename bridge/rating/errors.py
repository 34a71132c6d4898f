"""Errors raised by the rating engine, a branch of the bridge's one error tree.

``bridge.errors`` imports nothing, so the engine stays pure while its errors render like every other
:class:`~bridge.errors.BridgeError`: bad input is a 422 with the message, a runaway regex a 500.

    BridgeError
    └── RatingError (500 rating_error)
        ├── InvalidRatingInput (422, also ValueError) ... data that can never be rated as given
        │   ├── InvalidPatternError ............... a filter or special-rule pattern is refused
        │   └── DuplicatePrefixError .............. one prefix carries two different rates
        └── PatternTimeoutError (also TimeoutError) a special-rule regex ran past its time limit
"""

from __future__ import annotations

from bridge.errors import BridgeError


class RatingError(BridgeError):
    """Base of every error the rating engine raises on purpose."""

    code = "rating_error"


class InvalidRatingInput(RatingError, ValueError):
    """A tariff row, package, rule, filter or CDR holds a value the engine cannot rate."""

    status_code = 422
    code = "invalid_rating_input"


class InvalidPatternError(InvalidRatingInput):
    """A filter or special-rule pattern is malformed or could take unbounded time to match."""


class DuplicatePrefixError(InvalidRatingInput):
    """Two rows of one tariff (or two custom rates of one package) share a prefix but differ."""


class PatternTimeoutError(RatingError, TimeoutError):
    """A special-rule regex did not finish within its time limit while rating a call."""

    code = "pattern_timeout"
