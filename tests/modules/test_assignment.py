"""Product assignment formats: the documented examples parse; mistakes say what to type."""

from __future__ import annotations

import pytest

from bridge.errors import InvalidAssignment
from bridge.modules.assignment import (
    FusionPbxAssignment,
    LesNetAssignment,
    VodiaAssignment,
    parse_assignment,
)

LESNET_FIELDS = {
    "Peer ID": "D4E3CD2BFC791",
    "DID(s) Attached to Peer": "12046664021",
    "CDR Link": "https://portal.les.net/cdr/11330_0000.txt",
}


class TestDocumentedExamples:
    def test_fusionpbx(self) -> None:
        """The FusionPBX example from the admin guide parses into tenant, DID and extensions."""
        parsed = parse_assignment(
            "fusionpbx", "mcon.wat7.ictvoip.ca | 5192229000", "2112 | 2113 | 2114 | 2115 | 2216"
        )

        assert parsed == FusionPbxAssignment(
            "mcon.wat7.ictvoip.ca", "5192229000", ("2112", "2113", "2114", "2115", "2216")
        )

    def test_vodia(self) -> None:
        """The Vodia example keeps every DID and the billed extension, plus search fields."""
        parsed = parse_assignment(
            "vodia",
            "rucken.wat1.ictvoip.ca | 5484815577 | 5197830020 | 8300",
            "8300",
            {"First Name": "Dave", "Inbound Search String": "8300"},
        )

        assert parsed == VodiaAssignment(
            "rucken.wat1.ictvoip.ca", ("5484815577", "5197830020", "8300"), "8300", "Dave", "8300"
        )

    def test_lesnet(self) -> None:
        """The LesNet example takes peer and DID from Domain and the CDR link from its field."""
        parsed = parse_assignment(
            "lesnet", "D4E3CD2BFC791 | 12046664021", "12046664021", LESNET_FIELDS
        )

        assert parsed == LesNetAssignment(
            "D4E3CD2BFC791",
            "12046664021",
            ("12046664021",),
            "https://portal.les.net/cdr/11330_0000.txt",
        )

    def test_whitespace_and_plus_signs_are_tolerated(self) -> None:
        """Spaces around | and a + on DIDs are ignored; the tenant is lower-cased."""
        parsed = parse_assignment("fusionpbx", "  Mcon.Example.COM|+15192229000 ", "2112|2113")

        assert parsed == FusionPbxAssignment("mcon.example.com", "15192229000", ("2112", "2113"))


class TestMistakes:
    @pytest.mark.parametrize(
        ("module", "domain", "username", "message"),
        [
            ("fusionpbx", "mcon.wat7.ictvoip.ca", "2112", "tenant domain and the main DID"),
            ("fusionpbx", "not a domain | 5192229000", "2112", "Domain: 'not a domain' is not"),
            ("fusionpbx", "a.example.com | 519-222", "2112", "the main DID"),
            ("fusionpbx", "a.example.com | 5192229000", "", "must list the extensions"),
            ("fusionpbx", "a.example.com | 5192229000", "2112 | front desk", "Username"),
            ("vodia", "rucken.example.com", "8300", "its inbound DIDs"),
            ("vodia", "rucken.example.com | 5484815577", "ext 8300", "billed DID or extension"),
            ("lesnet", "D4E3CD2BFC791", "12046664021", "peer id and the DID"),
            ("lesnet", "D4E3-CD2B | 12046664021", "12046664021", "LesNet peer id"),
            ("asterisk", "a.example.com | 1", "1", "no assignment format"),
        ],
    )
    def test_malformed_values_name_field_and_form(
        self, module: str, domain: str, username: str, message: str
    ) -> None:
        """Each malformed assignment is refused with the field and the expected form."""
        with pytest.raises(InvalidAssignment, match=message):
            parse_assignment(module, domain, username, LESNET_FIELDS)

    def test_lesnet_needs_a_cdr_link(self) -> None:
        """Without a CDR Link URL the LesNet service cannot be billed, and the admin is told."""
        fields = {**LESNET_FIELDS, "CDR Link": "portal.les.net/cdr"}
        with pytest.raises(InvalidAssignment, match="CDR Link"):
            parse_assignment("lesnet", "D4E3CD2BFC791 | 12046664021", "12046664021", fields)

    def test_lesnet_peer_field_must_agree_with_domain(self) -> None:
        """A Peer ID field that contradicts the Domain field is caught, not guessed."""
        fields = {**LESNET_FIELDS, "Peer ID": "AAAA1111"}
        with pytest.raises(InvalidAssignment, match="must match"):
            parse_assignment("lesnet", "D4E3CD2BFC791 | 12046664021", "12046664021", fields)
