"""WHMCS custom fields (``tblcustomfields`` / ``tblcustomfieldsvalues``), addressed by field name.

WHMCS keys custom fields by their display name, and admins often name them ``key|Friendly Name``;
a field matches a requested name when either its whole name or the part before ``|`` equals it
(case-insensitively). Client fields have ``type = 'client'`` and values keyed by client id; product
fields have ``type = 'product'``, ``relid`` = the product id, and values keyed by service id.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bridge.errors import CustomFieldNotFound
from bridge.whmcs.charsets import fit_text
from bridge.whmcs.tables import custom_field_values, custom_fields, hosting


@dataclass(frozen=True, slots=True)
class CustomField:
    """A custom field definition."""

    id: int
    name: str
    field_type: str
    options: tuple[str, ...]

    @property
    def key(self) -> str:
        """Return the name WHMCS merge fields and lookups use (the part before ``|``)."""
        return self.name.split("|", 1)[0].strip()


def get_client_field(conn: Connection, client_id: int, name: str) -> str | None:
    """Return the client's value of client custom field ``name`` (``None`` when never set)."""
    field = _find_field(conn, "client", 0, name)
    return _get_value(conn, field.id, client_id)


def get_client_fields(
    conn: Connection, client_id: int, *, skip_passwords: bool = False
) -> dict[str, str]:
    """Return every client custom field of the client by key, unset ones as ``""``.

    With ``skip_passwords`` fields of type password are left out: WHMCS stores their values
    encrypted with its own key, so they mean nothing to anyone reading them here.
    """
    fields = _list_fields(conn, "client", 0)
    if skip_passwords:
        fields = [field for field in fields if field.field_type != "password"]
    values = _get_values(conn, [field.id for field in fields], client_id)
    return {field.key: values.get(field.id, "") for field in fields}


def get_clients_fields(
    conn: Connection, client_ids: list[int], *, skip_passwords: bool = False
) -> dict[int, dict[str, str]]:
    """Return :func:`get_client_fields` for many clients at once, by client id."""
    fields = _list_fields(conn, "client", 0)
    if skip_passwords:
        fields = [field for field in fields if field.field_type != "password"]
    by_id = {field.id: field.key for field in fields}
    found = {client: dict.fromkeys(by_id.values(), "") for client in client_ids}
    if not by_id:
        return found
    for start in range(0, len(client_ids), 1000):
        rows = conn.execute(
            select(
                custom_field_values.c.relid,
                custom_field_values.c.fieldid,
                custom_field_values.c.value,
            )
            .where(
                custom_field_values.c.fieldid.in_(by_id),
                custom_field_values.c.relid.in_(client_ids[start : start + 1000]),
            )
            # Descending id so the oldest row wins when WHMCS left duplicates, as for one client.
            .order_by(custom_field_values.c.id.desc())
        )
        for row in rows:
            found[row.relid][by_id[row.fieldid]] = html.unescape(row.value)
    return found


def set_client_field(
    conn: Connection, client_id: int, name: str, value: str, *, at: datetime
) -> None:
    """Set client custom field ``name`` of the client to ``value`` (``at``: WHMCS local time)."""
    field = _find_field(conn, "client", 0, name)
    fitted = fit_text(conn, custom_field_values.c.value, value)
    # Lock the value row (or, in InnoDB, the index gap where it would go) so two writers never
    # both insert: WHMCS has no unique key on (fieldid, relid).
    existing = (
        conn.execute(
            select(custom_field_values.c.id)
            .where(
                custom_field_values.c.fieldid == field.id, custom_field_values.c.relid == client_id
            )
            .order_by(custom_field_values.c.id)
            .with_for_update()
        )
        .scalars()
        .first()
    )
    if existing is None:
        conn.execute(
            custom_field_values.insert().values(
                fieldid=field.id, relid=client_id, value=fitted, created_at=at, updated_at=at
            )
        )
    else:
        conn.execute(
            custom_field_values.update()
            .where(custom_field_values.c.id == existing)
            .values(value=fitted, updated_at=at)
        )


def get_service_fields(conn: Connection, service_id: int) -> dict[str, str]:
    """Return the service's product custom fields by key, unset ones as ``""``."""
    product_id = conn.execute(
        select(hosting.c.packageid).where(hosting.c.id == service_id)
    ).scalar_one_or_none()
    if product_id is None:
        return {}
    fields = _list_fields(conn, "product", product_id)
    values = _get_values(conn, [field.id for field in fields], service_id)
    return {field.key: values.get(field.id, "") for field in fields}


def get_service_field(conn: Connection, service_id: int, name: str) -> str | None:
    """Return the service's value of product custom field ``name`` (``None`` when unset)."""
    product_id = conn.execute(
        select(hosting.c.packageid).where(hosting.c.id == service_id)
    ).scalar_one_or_none()
    field = _find_field(conn, "product", product_id or 0, name)
    return _get_value(conn, field.id, service_id)


def client_field_ids(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    """Return the ids of the client custom fields among ``names`` that exist, by name asked."""
    fields = _list_fields(conn, "client", 0)
    found: dict[str, int] = {}
    for name in names:
        wanted = name.strip().lower()
        for field in fields:
            if wanted in (field.name.lower(), field.key.lower()):
                found[name] = field.id
                break
    return found


def find_client_ids_by_field(conn: Connection, name: str, value: str) -> list[int]:
    """Return ids of clients whose client custom field ``name`` equals ``value``."""
    field = _find_field(conn, "client", 0, name)
    rows = conn.execute(
        select(custom_field_values.c.relid, custom_field_values.c.value)
        .where(custom_field_values.c.fieldid == field.id)
        .order_by(custom_field_values.c.relid)
    )
    # Compared in Python so the match is exact whatever the column's collation says.
    return sorted({row.relid for row in rows if html.unescape(row.value).strip() == value})


def _list_fields(conn: Connection, field_type: str, relid: int) -> list[CustomField]:
    query = select(custom_fields).where(custom_fields.c.type == field_type)
    if field_type == "product":
        query = query.where(custom_fields.c.relid == relid)
    rows = conn.execute(query.order_by(custom_fields.c.sortorder, custom_fields.c.id)).mappings()
    return [
        CustomField(
            id=row["id"],
            name=html.unescape(row["fieldname"]),
            field_type=row["fieldtype"],
            options=tuple(o.strip() for o in (row["fieldoptions"] or "").split(",") if o.strip()),
        )
        for row in rows
    ]


def _find_field(conn: Connection, field_type: str, relid: int, name: str) -> CustomField:
    wanted = name.strip().lower()
    for field in _list_fields(conn, field_type, relid):
        if wanted in (field.name.lower(), field.key.lower()):
            return field
    where = "client custom field" if field_type == "client" else f"product #{relid} custom field"
    raise CustomFieldNotFound(
        f"WHMCS has no {where} named {name!r}. Create it under Setup > Custom Fields "
        "(exact name; 'key|Friendly Name' also works)."
    )


def _get_value(conn: Connection, field_id: int, relid: int) -> str | None:
    value = (
        conn.execute(
            select(custom_field_values.c.value)
            .where(custom_field_values.c.fieldid == field_id, custom_field_values.c.relid == relid)
            .order_by(custom_field_values.c.id)
        )
        .scalars()
        .first()
    )
    return None if value is None else html.unescape(value)


def _get_values(conn: Connection, field_ids: list[int], relid: int) -> dict[int, str]:
    if not field_ids:
        return {}
    rows = conn.execute(
        select(custom_field_values.c.fieldid, custom_field_values.c.value)
        .where(custom_field_values.c.fieldid.in_(field_ids), custom_field_values.c.relid == relid)
        .order_by(custom_field_values.c.id.desc())
    )
    # Descending id so the oldest row wins when WHMCS has left duplicates behind.
    return {row.fieldid: html.unescape(row.value) for row in rows}
