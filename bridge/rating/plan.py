"""Packages and rate plans: everything rating needs to know about one service.

A :class:`Package` holds the per-package settings of the Package Rates Configurator (numbering,
markup, free minutes, inbound billing, increments, custom rates, filters). A :class:`RatePlan`
puts a package together with its tariffs, the product's Special Number Billing rules and the
provider's filters; :func:`bridge.rating.engine.rate_calls` rates CDRs against one plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from bridge.rating.errors import DuplicatePrefixError, InvalidRatingInput
from bridge.rating.filters import FilterSet
from bridge.rating.models import CustomRate, Increment, require_rate, require_whole_number
from bridge.rating.money import ZERO, parse_amount
from bridge.rating.special import SpecialBilling
from bridge.rating.tariffs import Tariff

NANP_COUNTRY_CODE = "1"


def _digits(value: object, name: str, *, max_length: int) -> str:
    """Return ``value`` if it is 1..``max_length`` ASCII digits, else raise."""
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
        raise InvalidRatingInput(f"{name} must be digits only, not {value!r}")
    if len(value) > max_length:
        raise InvalidRatingInput(f"{name} {value!r} is longer than {max_length} digits")
    return value


@dataclass(frozen=True, slots=True)
class Package:
    """The rating settings of one package (what ``PACKAGE.toml`` and the configurator hold).

    ``exit_code`` defaults to ``011`` for country code 1 and ``00`` elsewhere. ``local_prefix``
    turns on national-prefix handling (``0...`` becomes country code + rest); ``nanp_10_digit``
    turns a 10-digit number starting 2-9 into ``1`` + number. Increments, when set, override the
    tariff row's increment for that direction. ``markup_percent`` applies to tariff rates only.
    """

    country_code: str
    name: str = ""
    exit_code: str | None = None
    local_prefix: bool = False
    national_prefix: str = "0"
    nanp_10_digit: bool = False
    markup_percent: Decimal = ZERO
    free_minutes: int = 0
    bill_inbound: bool = False
    inbound_rate: Decimal | None = None
    outbound_increment: Increment | None = None
    inbound_increment: Increment | None = None
    custom_rates: tuple[CustomRate, ...] = ()
    suppress: FilterSet = field(default_factory=FilterSet)
    exclude: FilterSet = field(default_factory=FilterSet)

    def __post_init__(self) -> None:
        code = _digits(self.country_code, "country code", max_length=3)
        if code.startswith("0"):
            raise InvalidRatingInput(f"country code {code!r} cannot start with 0")
        if self.exit_code is not None:
            _digits(self.exit_code, "international exit code", max_length=4)
        _digits(self.national_prefix, "national prefix", max_length=2)
        markup = parse_amount(self.markup_percent, name="markup percent")
        if markup <= -100:
            raise InvalidRatingInput(f"markup {markup}% would make rates zero or negative")
        object.__setattr__(self, "markup_percent", markup)
        require_whole_number(self.free_minutes, "free minutes", minimum=0)
        if self.inbound_rate is not None:
            object.__setattr__(
                self, "inbound_rate", require_rate(self.inbound_rate, "inbound rate")
            )
        seen: dict[str, CustomRate] = {}
        for custom in self.custom_rates:
            earlier = seen.setdefault(custom.prefix, custom)
            if earlier != custom:
                raise DuplicatePrefixError(
                    f"package {self.name!r}: custom rate prefix {custom.prefix} is set twice "
                    f"({earlier.rate} and {custom.rate})"
                )

    @property
    def international_exit_code(self) -> str:
        """Return the exit code that marks a number as already international."""
        if self.exit_code is not None:
            return self.exit_code
        return "011" if self.country_code == NANP_COUNTRY_CODE else "00"

    def increment_for(self, inbound: bool) -> Increment | None:
        """Return the package's own increment for inbound or outbound calls, if it sets one."""
        return self.inbound_increment if inbound else self.outbound_increment


@dataclass(frozen=True, slots=True)
class RatePlan:
    """A package with its outbound and inbound tariffs, special rules and provider filters.

    Suppress and exclude filters of the provider and of the package both apply.
    """

    package: Package
    tariff: Tariff | None = None
    inbound_tariff: Tariff | None = None
    special: SpecialBilling = field(default_factory=SpecialBilling)
    provider_suppress: FilterSet = field(default_factory=FilterSet)
    provider_exclude: FilterSet = field(default_factory=FilterSet)

    @property
    def suppress(self) -> FilterSet:
        """Return the provider's and the package's suppress filters together."""
        return self.provider_suppress.union(self.package.suppress)

    @property
    def exclude(self) -> FilterSet:
        """Return the provider's and the package's exclude-from-billing filters together."""
        return self.provider_exclude.union(self.package.exclude)
