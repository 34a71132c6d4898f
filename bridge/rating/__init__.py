"""Pure call rating for voipbridge (DESIGN §5): CDRs and a rate plan in, rated calls out.

No I/O happens here: storage, CSV import and the ``bridge rate`` command build these values and
call :func:`rate_calls`. Typical use::

    tariff = Tariff.from_rows("Telnyx_Outbound_2025_12", rows)
    plan = RatePlan(Package(country_code="1", markup_percent=Decimal("10")), tariff)
    result = rate_calls(cdrs, plan)
    for section in invoice_sections(result.calls, period_start=start, period_end=end):
        print(section.text(currency_prefix="$"))
"""

from bridge.rating.engine import iter_rated_calls, make_rater, rate_calls
from bridge.rating.errors import (
    DuplicatePrefixError,
    InvalidPatternError,
    InvalidRatingInput,
    PatternTimeoutError,
    RatingError,
)
from bridge.rating.explain import explain_call, trace_lines
from bridge.rating.filters import FilterSet
from bridge.rating.groups import (
    InvoiceLine,
    InvoiceSection,
    RatingSummary,
    group_calls,
    invoice_sections,
    summarise,
)
from bridge.rating.models import (
    DEFAULT_INCREMENT,
    CallType,
    Cdr,
    CustomRate,
    Direction,
    Increment,
    RatedCall,
    RateEntry,
    RateRow,
    RateSource,
    RatingResult,
    Status,
)
from bridge.rating.money import (
    Price,
    apply_markup,
    call_cost,
    format_amount,
    parse_amount,
    round_cost,
    round_total,
    total_of,
)
from bridge.rating.numbers import NumberCheck, check_number, normalise_number, strip_number
from bridge.rating.plan import Package, RatePlan
from bridge.rating.prefixes import PrefixIndex
from bridge.rating.special import (
    BillingMode,
    PatternType,
    RuleDirection,
    SpecialBilling,
    SpecialRule,
    compile_rule_regex,
    order_rules,
)
from bridge.rating.tariffs import Tariff

__all__ = [
    "DEFAULT_INCREMENT",
    "BillingMode",
    "CallType",
    "Cdr",
    "CustomRate",
    "Direction",
    "DuplicatePrefixError",
    "FilterSet",
    "Increment",
    "InvalidPatternError",
    "InvalidRatingInput",
    "InvoiceLine",
    "InvoiceSection",
    "NumberCheck",
    "Package",
    "PatternTimeoutError",
    "PatternType",
    "PrefixIndex",
    "Price",
    "RateEntry",
    "RatePlan",
    "RateRow",
    "RateSource",
    "RatedCall",
    "RatingError",
    "RatingResult",
    "RatingSummary",
    "RuleDirection",
    "SpecialBilling",
    "SpecialRule",
    "Status",
    "Tariff",
    "apply_markup",
    "call_cost",
    "check_number",
    "compile_rule_regex",
    "explain_call",
    "format_amount",
    "group_calls",
    "invoice_sections",
    "iter_rated_calls",
    "make_rater",
    "normalise_number",
    "order_rules",
    "parse_amount",
    "rate_calls",
    "round_cost",
    "round_total",
    "strip_number",
    "summarise",
    "total_of",
    "trace_lines",
]
