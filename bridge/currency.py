"""A WHMCS currency and amounts written the way WHMCS shows them (pure: no I/O).

WHMCS formats money with the client currency's prefix, suffix and number format
(``tblcurrencies``); the data layer (:mod:`bridge.whmcs.currencies`) reads the rows and the email
merge fields (:mod:`bridge.mail.messages`) print amounts with them, so both share this value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# WHMCS's currency "format" setting: (thousands separator, decimal separator, decimal places).
_FORMATS: dict[int, tuple[str, str, int]] = {
    1: ("", ".", 2),  # 1234.56
    2: (",", ".", 2),  # 1,234.56
    3: (".", ",", 2),  # 1.234,56
    4: (",", "", 0),  # 1,234 (currencies without minor units)
}


@dataclass(frozen=True, slots=True)
class Currency:
    """A WHMCS currency: ISO code, display prefix/suffix and number format."""

    id: int
    code: str
    prefix: str
    suffix: str
    format: int
    rate: Decimal

    def format_amount(self, amount: Decimal) -> str:
        """Return ``amount`` as WHMCS displays it, e.g. ``$1,234.50 USD`` (ROUND_HALF_UP)."""
        thousands, point, places = _FORMATS.get(self.format, _FORMATS[1])
        rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        whole, _, fraction = f"{abs(rounded):f}".partition(".")
        groups = [whole[max(0, end - 3) : end] for end in range(len(whole), 0, -3)][::-1]
        number = thousands.join(groups) + (point + fraction if places else "")
        sign = "-" if rounded < 0 else ""
        return f"{sign}{self.prefix}{number}{self.suffix}"
