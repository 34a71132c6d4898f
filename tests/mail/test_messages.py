"""Merge fields of DESIGN.md §7 and the ``{$var}`` renderer, on the documented alert bodies."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bridge.currency import Currency
from bridge.demo import LOW_BALANCE_ALERT, VOIP_ZERO_BALANCE
from bridge.mail.messages import (
    ClientFacts,
    build_message,
    custom_field_key,
    merge_fields,
    render_template,
)

CAD = Currency(id=1, code="CAD", prefix="$", suffix=" CAD", format=2, rate=Decimal(1))
EUR = Currency(id=2, code="EUR", prefix="", suffix=" €", format=3, rate=Decimal("0.7"))


def _facts(**changes: object) -> ClientFacts:
    values: dict[str, object] = {
        "id": 12,
        "first_name": "Dave",
        "last_name": "O'Neil",
        "company_name": "Rucken & Sons",
        "email": "dave@customer.example",
        "language": "",
        "credit": Decimal("3.2"),
        "due_invoices_balance": Decimal("1215.5"),
        "currency": CAD,
        "custom_fields": {
            "Has VoIP Service": "Yes",
            "VoIP Suspended": "None",
            "Low Balance Threshold": "5",
        },
    }
    values.update(changes)
    return ClientFacts(**values)  # type: ignore[arg-type]


class TestMergeFields:
    def test_client_fields_as_whmcs_names_them(self) -> None:
        """Identity fields, credit as a plain number and the due balance in the client currency."""
        fields = merge_fields(_facts())

        assert fields["client_id"] == "12"
        assert fields["client_name"] == "Dave O'Neil"
        assert fields["client_first_name"] == "Dave"
        assert fields["client_last_name"] == "O'Neil"
        assert fields["client_company_name"] == "Rucken & Sons"
        assert fields["client_email"] == "dave@customer.example"
        assert fields["client_credit"] == "3.20"
        assert fields["client_due_invoices_balance"] == "$1,215.50 CAD"

    def test_every_client_custom_field_is_a_merge_field(self) -> None:
        """Each custom field appears as client_custom_field_ plus its name's letters, lowercased."""
        fields = merge_fields(_facts())

        assert fields["client_custom_field_lowbalancethreshold"] == "5"
        assert fields["client_custom_field_hasvoipservice"] == "Yes"
        assert fields["client_custom_field_voipsuspended"] == "None"

    def test_custom_field_keys_keep_only_letters(self) -> None:
        """Digits, spaces, punctuation and accents are dropped, as the usual EmailPreSend hook."""
        assert custom_field_key("Low-Balance Threshold (CAD) 2") == (
            "client_custom_field_lowbalancethresholdcad"
        )
        assert custom_field_key("Numéro") == "client_custom_field_numro"

    def test_fields_folding_to_one_key_keep_the_first_and_letterless_names_are_skipped(
        self,
    ) -> None:
        """Two names with one key give the first field's value; a name of no letters gives none."""
        facts = _facts(custom_fields={"Auto Top-up": "25", "Auto Topup": "50", "123": "x"})

        fields = merge_fields(facts)

        assert fields["client_custom_field_autotopup"] == "25"
        assert "client_custom_field_" not in fields

    def test_credit_is_rounded_half_up_and_negative_credit_keeps_its_sign(self) -> None:
        """client_credit is always two decimals, rounded half up, with a leading minus if owed."""
        assert merge_fields(_facts(credit=Decimal("10.005")))["client_credit"] == "10.01"
        assert merge_fields(_facts(credit=Decimal("-2")))["client_credit"] == "-2.00"

    def test_due_balance_follows_the_currency_format(self) -> None:
        """A currency with format 3 and a suffix shows 1.234,56 €."""
        fields = merge_fields(_facts(currency=EUR, due_invoices_balance=Decimal("1234.56")))

        assert fields["client_due_invoices_balance"] == "1.234,56 €"

    def test_message_names_template_and_client(self) -> None:
        """A message carries the template name, the client id and the fields."""
        message = build_message("Low Balance Alert", _facts())

        assert message.template_name == "Low Balance Alert"
        assert message.client_id == 12
        assert message.merge_fields == merge_fields(_facts())


class TestDocumentedBodies:
    def test_low_balance_alert_renders_with_the_right_values(self) -> None:
        """The seeds' Low Balance Alert: first name, account number, credit, threshold in $x.00."""
        body = render_template(LOW_BALANCE_ALERT, merge_fields(_facts()))

        assert body.startswith("Dear Dave,\n")
        assert "Account# 12 is: 3.20\n" in body
        assert "Your current low balance notification is set at $5.00\n" in body
        assert "{$" not in body

    def test_voip_zero_balance_renders_with_the_right_values(self) -> None:
        """The seeds' VoIP Zero Balance: full name, $credit, formatted due balance, threshold."""
        facts = _facts(credit=Decimal("0"), due_invoices_balance=Decimal("15"))

        body = render_template(VOIP_ZERO_BALANCE, merge_fields(facts))

        assert body.startswith("Dear Dave O'Neil,\n")
        assert "Credit Balance: $0.00\n" in body
        assert "Outstanding Balance: $15.00 CAD\n" in body
        assert "Low Balance Threshold: $5.00\n" in body
        assert "{$" not in body


class TestRenderTemplate:
    def test_unknown_variables_render_empty_as_in_smarty(self) -> None:
        """A variable no merge field provides prints nothing."""
        assert render_template("Hi {$client_nickname}!", {"client_id": "1"}) == "Hi !"

    def test_other_smarty_tags_are_left_as_written(self) -> None:
        """{if}, modifiers, array access and {literal} are not interpreted (documented limit)."""
        text = "{if $client_credit}x{/if} {$client_name|upper} {$a.b} {literal}{/literal}"

        assert render_template(text, {"client_credit": "1", "client_name": "n"}) == text

    def test_html_templates_escape_values(self) -> None:
        """In an HTML body a client named <b>&co reads as written and cannot add markup."""
        fields = {"client_name": "<b>Smith & Co</b>"}

        assert render_template("<p>{$client_name}</p>", fields, escape_html=True) == (
            "<p>&lt;b&gt;Smith &amp; Co&lt;/b&gt;</p>"
        )
        assert render_template("{$client_name}", fields) == "<b>Smith & Co</b>"

    def test_four_byte_characters_pass_through(self) -> None:
        """An emoji in a merge field arrives intact in subject and body."""
        fields = merge_fields(_facts(first_name="Zoë 🚀"))

        assert render_template("Hello {$client_first_name}", fields) == "Hello Zoë 🚀"

    @given(st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), st.text(), max_size=5))
    def test_values_are_never_expanded_again(self, fields: dict[str, str]) -> None:
        """A value holding {$...} (client-controlled text) is printed, not substituted again."""
        template = " ".join(f"[{{${name}}}]" for name in fields)

        rendered = render_template(template, fields)

        assert rendered == " ".join(f"[{value}]" for value in fields.values())

    @given(st.text().filter(lambda text: "{$" not in text))
    def test_text_without_variables_is_unchanged(self, text: str) -> None:
        """Whatever a template holds besides {$var} tags comes out byte for byte."""
        assert render_template(text, {"client_id": "1"}) == text
