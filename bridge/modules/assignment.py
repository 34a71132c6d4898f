"""Product assignment formats (DESIGN.md §4): which tenant, DIDs and extensions a service is.

Admins type these into a service's Domain and Username fields in WHMCS, ``|``-separated, and a
few product custom fields. Parsing is strict and explains itself: a malformed value is an
:class:`~bridge.errors.InvalidAssignment` naming the field, what was found and the expected form,
shown on the admin's button instead of a crash. Whitespace around ``|`` is ignored.

=========  ==================================  ============================  =====================
Module     Domain field                        Username field                Product custom fields
=========  ==================================  ============================  =====================
fusionpbx  ``tenant.domain | MAIN_DID``        ``2112 | 2113 | 2114``        —
vodia      ``tenant.domain | DID1 | DID2 ...``  billed DID or extension       First Name, Inbound
                                                                             Search String
lesnet     ``PEER_ID | DID``                   DID ``12046664021``           Peer ID, DID(s)
                                                                             Attached to Peer,
                                                                             CDR Link
=========  ==================================  ============================  =====================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from bridge.errors import InvalidAssignment

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)
_NUMBER = re.compile(r"^\+?\d{2,20}$")
_EXTENSION = re.compile(r"^\d{2,10}$")
_PEER = re.compile(r"^[A-Za-z0-9]{4,64}$")


@dataclass(frozen=True, slots=True)
class FusionPbxAssignment:
    """A FusionPBX service: its tenant domain, main DID and extensions."""

    tenant: str
    main_did: str
    extensions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VodiaAssignment:
    """A Vodia service: tenant domain, inbound DIDs, the billed DID or extension, search fields."""

    tenant: str
    dids: tuple[str, ...]
    billed: str
    first_name: str = ""
    inbound_search: str = ""


@dataclass(frozen=True, slots=True)
class LesNetAssignment:
    """A LesNet trunk: peer id, its DIDs and the URL of its daily CDR file."""

    peer_id: str
    did: str
    dids: tuple[str, ...]
    cdr_link: str


Assignment = FusionPbxAssignment | VodiaAssignment | LesNetAssignment


def parse_assignment(
    module: str, domain: str, username: str, fields: Mapping[str, str] | None = None
) -> Assignment:
    """Parse a service's assignment for ``module`` from its Domain, Username and custom fields."""
    fields = fields or {}
    if module == "fusionpbx":
        return parse_fusionpbx(domain, username)
    if module == "vodia":
        return parse_vodia(domain, username, fields)
    if module == "lesnet":
        return parse_lesnet(domain, username, fields)
    raise InvalidAssignment(
        f"Module {module!r} has no assignment format; expected fusionpbx, vodia or lesnet."
    )


def parse_fusionpbx(domain: str, username: str) -> FusionPbxAssignment:
    """Parse ``tenant.domain | MAIN_DID`` and ``2112 | 2113 | ...``."""
    parts = _split(domain)
    example = "tenant.example.com | 5192229000"
    if len(parts) != 2:
        raise InvalidAssignment(
            f"Domain {domain!r} must be the tenant domain and the main DID, e.g. {example!r}."
        )
    tenant, did = parts
    _check(_DOMAIN, tenant, "Domain", "a tenant domain name", example)
    _check(_NUMBER, did, "Domain", "the main DID (digits)", example)
    extensions = _split(username)
    if not extensions:
        raise InvalidAssignment("Username must list the extensions, e.g. '2112 | 2113 | 2114'.")
    for extension in extensions:
        _check(_EXTENSION, extension, "Username", "extensions of 2-10 digits", "2112 | 2113")
    return FusionPbxAssignment(tenant.lower(), did.lstrip("+"), tuple(extensions))


def parse_vodia(domain: str, username: str, fields: Mapping[str, str]) -> VodiaAssignment:
    """Parse ``tenant.domain | DID1 | DID2 ...`` and the billed DID or extension."""
    parts = _split(domain)
    example = "tenant.example.com | 5484815577 | 5197830020"
    if len(parts) < 2:
        raise InvalidAssignment(
            f"Domain {domain!r} must be the tenant domain and its inbound DIDs, e.g. {example!r}."
        )
    tenant, *dids = parts
    _check(_DOMAIN, tenant, "Domain", "a tenant domain name", example)
    for did in dids:
        _check(_NUMBER, did, "Domain", "DIDs or extensions (digits)", example)
    billed = username.strip()
    _check(_NUMBER, billed, "Username", "the billed DID or extension (digits)", "8300")
    return VodiaAssignment(
        tenant=tenant.lower(),
        dids=tuple(did.lstrip("+") for did in dids),
        billed=billed.lstrip("+"),
        first_name=fields.get("First Name", "").strip(),
        inbound_search=fields.get("Inbound Search String", "").strip(),
    )


def parse_lesnet(domain: str, username: str, fields: Mapping[str, str]) -> LesNetAssignment:
    """Parse ``PEER_ID | DID``, the DID username and the LesNet product custom fields."""
    parts = _split(domain)
    example = "D4E3CD2BFC791 | 12046664021"
    if len(parts) != 2:
        raise InvalidAssignment(
            f"Domain {domain!r} must be the peer id and the DID, e.g. {example!r}."
        )
    peer, did = parts
    _check(_PEER, peer, "Domain", "the LesNet peer id (letters and digits)", example)
    _check(_NUMBER, did, "Domain", "the DID (digits)", example)
    field_peer = fields.get("Peer ID", "").strip()
    if field_peer and field_peer != peer:
        raise InvalidAssignment(
            f"Custom field 'Peer ID' is {field_peer!r} but Domain names peer {peer!r}; "
            "they must match."
        )
    attached = _split(fields.get("DID(s) Attached to Peer", "").replace(",", "|")) or [did]
    for number in attached:
        _check(_NUMBER, number, "DID(s) Attached to Peer", "DIDs (digits)", "12046664021")
    link = fields.get("CDR Link", "").strip()
    parsed = urlsplit(link)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidAssignment(
            f"Custom field 'CDR Link' must be the URL of the peer's CDR file, e.g. "
            f"'https://portal.les.net/cdr/11330_0000.txt'; found {link!r}."
        )
    return LesNetAssignment(
        peer_id=peer,
        did=did.lstrip("+"),
        dids=tuple(number.lstrip("+") for number in attached),
        cdr_link=link,
    )


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()]


def _check(pattern: re.Pattern[str], value: str, field: str, expected: str, example: str) -> None:
    if not pattern.match(value):
        raise InvalidAssignment(
            f"{field}: {value!r} is not {expected}; the expected form is {example!r}."
        )
