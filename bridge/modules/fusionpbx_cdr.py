"""One ``v_xml_cdr`` row to one :class:`CollectedCdr`: the mapping every FusionPBX source shares.

FusionPBX keeps one row per call leg in ``v_xml_cdr`` (column facts:
``../shared/reference/rating-anchors.md`` §4, from fusionpbx/fusionpbx
``app/xml_cdr/app_config.php``). The bridge reads such rows three ways — straight from the PBX's
PostgreSQL (:mod:`bridge.modules.fusionpbx_db`), as JSON from ``export_cdr.php``
(:mod:`bridge.modules.fusionpbx`) and from the CDR page's CSV export
(:mod:`bridge.modules.fusionpbx_csv`) — and all three map a row here, so a call means the same
whichever way it arrived. Values may be the database's own types (``UUID``, ``Decimal``, aware
``datetime``) or text.

* ``uuid`` = ``xml_cdr_uuid`` as text; ``caller_number`` = ``caller_id_number``.
* ``direction``: ``inbound``/``outbound``/``local``, case-insensitive. Empty or NULL is ``local``,
  as FusionPBX's own dialplan decides (``035_call_direction.xml`` sets ``local`` when empty). An
  unknown value is ``local`` too (never billed, logged with the uuid) so one odd row never blocks
  collection; a file import may ask for it to be refused instead (``unknown_direction=None``).
* ``caller_destination`` (the DID dialled, what inbound calls rate on) falls back to
  ``destination_number`` when empty: older FusionPBX versions and exports lack it.
* ``billsec``: :func:`bridge.calls.parse_seconds` (a started second counts; NULL is 0). Rating uses
  ``billsec``, never ``status`` (reference §6.6).
* ``start_stamp`` becomes aware UTC; a stamp without an offset (exports only) is read in ``zone``,
  the PBX's timezone. ``domain`` is ``domain_name`` in lower case. ``leg`` NULL or empty is ``a``.

A value the bridge cannot store raises :class:`~bridge.errors.InvalidCdr` naming the field;
:func:`read_row`, which the collecting sources use, turns that into a
:class:`~bridge.calls.RejectedCdr` instead, so the CDR store quarantines the one row and stores the
rest.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo

from bridge.calls import CollectedCdr, Intake, RejectedCdr, parse_seconds
from bridge.errors import InvalidCdr
from bridge.rating.models import Cdr, Direction

log = logging.getLogger("bridge.modules.fusionpbx")

COLUMNS = (
    "xml_cdr_uuid",
    "domain_name",
    "direction",
    "caller_id_number",
    "caller_destination",
    "destination_number",
    "start_stamp",
    "billsec",
    "leg",
    "hangup_cause",
    "caller_id_name",
)


def cdr_from_row(
    row: Mapping[str, object],
    *,
    zone: tzinfo = UTC,
    unknown_direction: Direction | None = Direction.LOCAL,
) -> CollectedCdr:
    """Map one ``v_xml_cdr`` row (database, export JSON or CSV cells by column name)."""
    uuid = _text(row.get("xml_cdr_uuid"))
    if not uuid:
        raise InvalidCdr("xml_cdr_uuid is empty")
    destination = _text(row.get("destination_number"))
    call = Cdr(
        uuid=uuid,
        direction=_direction(row.get("direction"), uuid, unknown_direction),
        caller_number=_text(row.get("caller_id_number")),
        caller_destination=_text(row.get("caller_destination")) or destination,
        destination_number=destination,
        start=_start(row.get("start_stamp"), zone),
        billsec=parse_seconds(row.get("billsec")),
    )
    return CollectedCdr(
        call,
        domain=_text(row.get("domain_name")).lower(),
        leg=_text(row.get("leg")).lower() or "a",
        hangup_cause=_text(row.get("hangup_cause")),
        caller_name=_text(row.get("caller_id_name")),
    )


def recorded_at(row: Mapping[str, object], *, zone: tzinfo = UTC) -> datetime:
    """Return when FusionPBX recorded an exported row (its ``recorded`` field), in UTC."""
    value = row.get("recorded")
    try:
        return _start(value, zone)
    except InvalidCdr:
        raise InvalidCdr(f"recorded {str(value)[:40]!r} is not a date and time") from None


def read_row(row: Mapping[str, object], *, zone: tzinfo = UTC) -> Intake:
    """Map one row as :func:`cdr_from_row` does, or return it rejected with why it cannot be."""
    try:
        return cdr_from_row(row, zone=zone)
    except InvalidCdr as exc:
        log.warning("fusionpbx.cdr_rejected uuid=%r reason=%r", _text(row.get("xml_cdr_uuid")), exc)
        return RejectedCdr(
            uuid=_text(row.get("xml_cdr_uuid")),
            reason=exc.message,
            record=json.dumps(dict(row), default=str)[:2000],
            domain=_text(row.get("domain_name")).lower(),
        )


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _direction(value: object, uuid: str, unknown: Direction | None) -> Direction:
    text = _text(value).lower()
    if not text:
        return Direction.LOCAL
    try:
        return Direction(text)
    except ValueError:
        if unknown is None:
            raise InvalidCdr(f"direction {text[:40]!r} is not inbound, outbound or local") from None
        log.warning("fusionpbx.unknown_direction uuid=%s direction=%r stored=local", uuid, text)
        return unknown


def _start(value: object, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, str) and value.strip():
        try:
            stamp = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidCdr(
                f"start_stamp {value[:40]!r} is not a date and time (e.g. 2025-12-29 10:15:02-05)"
            ) from None
    else:
        raise InvalidCdr(f"start_stamp {value!r} is not a date and time")
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=zone)
    try:
        return stamp.astimezone(UTC)
    except OverflowError:
        raise InvalidCdr(f"start_stamp {value!r} is out of range") from None
