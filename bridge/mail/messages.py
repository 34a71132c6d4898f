"""Messages by WHMCS template name, built from a client's facts (pure: no I/O).

A billing job decides to alert a client; what goes into the outbox is a :class:`Message`: the
WHMCS template's name, the client's id and the merge fields of DESIGN.md §7, computed here from
a :class:`ClientFacts` snapshot the use case read through the WHMCS data layer:

- ``client_id``, ``client_name`` ("First Last"), ``client_first_name``, ``client_last_name``,
  ``client_company_name``, ``client_email``: as WHMCS shows them (HTML entities decoded);
- ``client_credit``: a plain number with 2 decimals (``12.50``): the documented templates put
  their own ``$`` before it;
- ``client_due_invoices_balance``: formatted in the client's currency (``$15.00 CAD``), like
  ``GetClientsDetails``'s ``dueinvoicesbalance``;
- ``client_custom_field_<key>`` for every client custom field, ``<key>`` being the field's name
  lowercased with everything but ``a``-``z`` removed ("Low Balance Threshold" gives
  ``client_custom_field_lowbalancethreshold``), as the commonly used ``EmailPreSend`` hook and
  the documented templates name them.

:func:`render_template` substitutes the ``{$name}`` fields of a WHMCS (Smarty) template for the
transports that render mail themselves (SMTP, the demo's folder). It does only that: an unknown
variable renders empty, as Smarty does, and every other Smarty construct (``{if}``, modifiers such
as ``{$x|upper}``, ``{$a.b}``, ``{literal}``) is left in the text unchanged, so a template that
needs them should be sent through the WHMCS API transport, where WHMCS's own Smarty renders it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from bridge.currency import Currency

CUSTOM_FIELD_PREFIX = "client_custom_field_"
_NOT_A_LETTER = re.compile(r"[^a-z]")
# Smarty's plain variable tag: {$name}, no spaces, no modifiers, no array or object access.
_VARIABLE = re.compile(r"\{\$([A-Za-z_][A-Za-z0-9_]*)\}")
_CENTS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ClientFacts:
    """What the merge fields say about a client, read at the moment a job decided to write."""

    id: int
    first_name: str
    last_name: str
    company_name: str
    email: str
    language: str
    credit: Decimal
    due_invoices_balance: Decimal
    currency: Currency
    # Client custom field values by field name (the part before "|"), entities decoded.
    custom_fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Message:
    """One email to send: a WHMCS template by name, to a client, with its merge fields."""

    template_name: str
    client_id: int
    merge_fields: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """A template rendered for one client: what an SMTP server (or the demo's folder) receives."""

    to_name: str
    to_email: str
    subject: str
    body: str
    html: bool
    # The template's own sender ("From Name" / "From Email" in WHMCS); blank means the default.
    sender_name: str = ""
    sender_email: str = ""
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()


def custom_field_key(field_name: str) -> str:
    """Return the merge field a client custom field appears as (``client_custom_field_...``)."""
    return CUSTOM_FIELD_PREFIX + _NOT_A_LETTER.sub("", field_name.lower())


def merge_fields(facts: ClientFacts) -> dict[str, str]:
    """Return the DESIGN.md §7 merge fields for ``facts``, every value a string."""
    fields = {
        "client_id": str(facts.id),
        "client_name": f"{facts.first_name} {facts.last_name}".strip(),
        "client_first_name": facts.first_name,
        "client_last_name": facts.last_name,
        "client_company_name": facts.company_name,
        "client_email": facts.email,
        "client_credit": _plain_amount(facts.credit),
        "client_due_invoices_balance": facts.currency.format_amount(facts.due_invoices_balance),
    }
    for name, value in facts.custom_fields.items():
        key = custom_field_key(name)
        # A name with no letters at all has no usable key; when two names fold to one key
        # ("Low-Balance Threshold" and "Low Balance Threshold"), the first in WHMCS's order wins.
        if key != CUSTOM_FIELD_PREFIX and key not in fields:
            fields[key] = value
    return fields


def build_message(template_name: str, facts: ClientFacts) -> Message:
    """Return the message that sends template ``template_name`` to the client of ``facts``."""
    return Message(
        template_name=template_name, client_id=facts.id, merge_fields=merge_fields(facts)
    )


def render_template(text: str, fields: Mapping[str, str], *, escape_html: bool = False) -> str:
    """Substitute every ``{$name}`` in ``text``; unknown names render empty, other tags stay.

    With ``escape_html`` (an HTML template) the values are HTML-escaped, so a client named
    ``<b>`` reads as written instead of changing the mail's markup.
    """

    def value(match: re.Match[str]) -> str:
        found = fields.get(match.group(1), "")
        return html.escape(found) if escape_html else found

    return _VARIABLE.sub(value, text)


def _plain_amount(amount: Decimal) -> str:
    return f"{amount.quantize(_CENTS, rounding=ROUND_HALF_UP):f}"
