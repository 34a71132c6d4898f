"""WHMCS services (``tblhosting``) with their product, module settings and server."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection, RowMapping

from bridge.errors import InvalidRequest, ServiceNotFound
from bridge.whmcs.catalog import (
    VOIP_MODULES,
    BillingSettings,
    get_module,
    read_billing_settings,
)
from bridge.whmcs.charsets import fit_text
from bridge.whmcs.tables import hosting, product_groups, products, servers

_CHUNK = 1000


class ServiceStatus(StrEnum):
    """The values of ``tblhosting.domainstatus``."""

    PENDING = "Pending"
    ACTIVE = "Active"
    SUSPENDED = "Suspended"
    TERMINATED = "Terminated"
    CANCELLED = "Cancelled"
    FRAUD = "Fraud"
    COMPLETED = "Completed"


@dataclass(frozen=True, slots=True)
class Server:
    """A WHMCS server (``tblservers``). The password stays as WHMCS encrypted it."""

    id: int
    name: str
    module: str
    hostname: str
    ip_address: str
    port: int | None
    secure: bool
    username: str
    password_encrypted: str = field(repr=False)
    access_hash: str = field(repr=False)
    disabled: bool


@dataclass(frozen=True, slots=True)
class Product:
    """A WHMCS product with its module settings under the module's own setting names."""

    id: int
    name: str
    group_id: int
    group_name: str
    module: str
    settings: Mapping[str, str]

    @property
    def billing(self) -> BillingSettings:
        """Return the billing settings (package, Special Number Billing, license key), typed."""
        return read_billing_settings(self.settings)


@dataclass(frozen=True, slots=True)
class Service:
    """A WHMCS service. Zero dates are ``None``; text is decoded from HTML entities."""

    id: int
    client_id: int
    status: ServiceStatus
    domain: str
    username: str
    billing_cycle: str
    recurring_amount: Decimal
    registered_on: date | None
    next_due_date: date | None
    next_invoice_date: date | None
    termination_date: date | None
    suspend_reason: str
    override_auto_suspend: bool
    override_suspend_until: date | None
    product: Product
    server: Server | None

    @property
    def live(self) -> bool:
        """Tell whether WHMCS still provides the service (Active or Suspended)."""
        return self.status in (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)


def get_service(conn: Connection, service_id: int) -> Service:
    """Return service ``service_id`` with product and server, or raise :class:`ServiceNotFound`."""
    row = conn.execute(_service_query().where(hosting.c.id == service_id)).mappings().first()
    if row is None:
        raise ServiceNotFound(f"WHMCS has no service #{service_id}.")
    return _service_from_row(row)


def get_services(conn: Connection, service_ids: Iterable[int]) -> list[Service]:
    """Return the services with these ids that exist, by id (queried in chunks)."""
    wanted = sorted(set(service_ids))
    found: list[Service] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = _service_query().where(hosting.c.id.in_(chunk)).order_by(hosting.c.id)
        found.extend(_service_from_row(row) for row in conn.execute(query).mappings())
    return found


def list_live_voip_services(conn: Connection, client_ids: Iterable[int]) -> list[Service]:
    """Return the live (Active or Suspended) VoIP services of these clients, by id."""
    wanted = sorted(set(client_ids))
    found: list[Service] = []
    for start in range(0, len(wanted), _CHUNK):
        query = (
            _service_query()
            .where(hosting.c.userid.in_(wanted[start : start + _CHUNK]))
            .where(hosting.c.domainstatus.in_((ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)))
            .where(func.lower(products.c.servertype).in_(VOIP_MODULES))
            .order_by(hosting.c.id)
        )
        found.extend(_service_from_row(row) for row in conn.execute(query).mappings())
    return found


@dataclass(frozen=True, slots=True)
class ServiceState:
    """What the autosuspend pass needs to know about a VoIP service: whose, and how it stands."""

    id: int
    client_id: int
    status: ServiceStatus
    suspend_reason: str


def list_voip_service_states(conn: Connection) -> dict[int, list[ServiceState]]:
    """Return every live VoIP service's state, grouped by client (one narrow query)."""
    query = (
        select(hosting.c.id, hosting.c.userid, hosting.c.domainstatus, hosting.c.suspendreason)
        .select_from(hosting.join(products, products.c.id == hosting.c.packageid))
        .where(hosting.c.domainstatus.in_((ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)))
        .where(func.lower(products.c.servertype).in_(VOIP_MODULES))
        .order_by(hosting.c.id)
    )
    states: dict[int, list[ServiceState]] = {}
    for row in conn.execute(query):
        state = ServiceState(
            row.id, row.userid, ServiceStatus(row.domainstatus), html.unescape(row.suspendreason)
        )
        states.setdefault(row.userid, []).append(state)
    return states


def list_voip_services(conn: Connection, client_id: int) -> list[Service]:
    """Return the client's services whose product uses a VoIP module (fusionpbx, vodia, lesnet)."""
    query = (
        _service_query()
        .where(hosting.c.userid == client_id)
        .where(func.lower(products.c.servertype).in_(VOIP_MODULES))
        .order_by(hosting.c.id)
    )
    return [_service_from_row(row) for row in conn.execute(query).mappings()]


def list_server_services(conn: Connection, server_id: int) -> list[Service]:
    """Return the live (Active or Suspended) VoIP services assigned to server ``server_id``."""
    query = (
        _service_query()
        .where(hosting.c.server == server_id)
        .where(hosting.c.domainstatus.in_((ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)))
        .where(func.lower(products.c.servertype).in_(VOIP_MODULES))
        .order_by(hosting.c.id)
    )
    return [_service_from_row(row) for row in conn.execute(query).mappings()]


def list_voip_servers(conn: Connection) -> list[Server]:
    """Return the enabled WHMCS servers whose module is a VoIP module, by id."""
    rows = conn.execute(
        select(*_server_columns())
        .where(func.lower(servers.c.type).in_(VOIP_MODULES), servers.c.disabled == 0)
        .order_by(servers.c.id)
    ).mappings()
    return [server for row in rows if (server := _server_from_row(row)) is not None]


def find_server(conn: Connection, server_id: int) -> Server | None:
    """Return WHMCS's server ``server_id`` (whatever its module, enabled or not), if it exists."""
    row = conn.execute(select(*_server_columns()).where(servers.c.id == server_id)).mappings()
    found = row.first()
    return None if found is None else _server_from_row(found)


def set_service_status(
    conn: Connection, service_id: int, status: ServiceStatus, *, suspend_reason: str = ""
) -> None:
    """Set the service's WHMCS status; the suspend reason is kept only while Suspended."""
    if status is not ServiceStatus.SUSPENDED and suspend_reason:
        raise InvalidRequest("A suspend reason only applies to status Suspended.")
    result = conn.execute(
        hosting.update()
        .where(hosting.c.id == service_id)
        .values(
            domainstatus=status.value,
            suspendreason=fit_text(conn, hosting.c.suspendreason, suspend_reason),
        )
    )
    if result.rowcount == 0:
        raise ServiceNotFound(f"WHMCS has no service #{service_id}.")


def _service_query() -> Select[tuple[object, ...]]:
    configoptions = [products.c[f"configoption{n}"] for n in range(1, 25)]
    return select(
        hosting,
        products.c.name.label("product_name"),
        products.c.gid.label("product_gid"),
        products.c.servertype.label("product_module"),
        product_groups.c.name.label("group_name"),
        *configoptions,
        *_server_columns(),
    ).select_from(
        hosting.join(products, products.c.id == hosting.c.packageid)
        .outerjoin(product_groups, product_groups.c.id == products.c.gid)
        .outerjoin(servers, servers.c.id == hosting.c.server)
    )


def _server_columns() -> list[Any]:
    """Return the tblservers columns a :class:`Server` is built from, labelled ``server_*``."""
    return [
        servers.c.id.label("server_id"),
        servers.c.name.label("server_name"),
        servers.c.type.label("server_type"),
        servers.c.hostname.label("server_hostname"),
        servers.c.ipaddress.label("server_ip"),
        servers.c.port.label("server_port"),
        servers.c.secure.label("server_secure"),
        servers.c.username.label("server_username"),
        servers.c.password.label("server_password"),
        servers.c.accesshash.label("server_accesshash"),
        servers.c.disabled.label("server_disabled"),
    ]


def _service_from_row(row: RowMapping) -> Service:
    module = (row["product_module"] or "").strip().lower()
    spec = get_module(module)
    configoptions = [row[f"configoption{n}"] for n in range(1, 25)]
    settings = spec.read_settings(configoptions) if spec else {}
    product = Product(
        id=row["packageid"],
        name=html.unescape(row["product_name"]),
        group_id=row["product_gid"],
        group_name=html.unescape(row["group_name"] or ""),
        module=module,
        settings=settings,
    )
    return Service(
        id=row["id"],
        client_id=row["userid"],
        status=ServiceStatus(row["domainstatus"]),
        domain=html.unescape(row["domain"]),
        username=html.unescape(row["username"]),
        billing_cycle=row["billingcycle"],
        recurring_amount=Decimal(row["amount"]),
        registered_on=row["regdate"],
        next_due_date=row["nextduedate"],
        next_invoice_date=row["nextinvoicedate"],
        termination_date=row["termination_date"],
        suspend_reason=html.unescape(row["suspendreason"]),
        override_auto_suspend=bool(row["overideautosuspend"]),
        override_suspend_until=row["overidesuspenduntil"],
        product=product,
        server=_server_from_row(row),
    )


def _server_from_row(row: RowMapping) -> Server | None:
    if row["server_id"] is None:
        return None
    return Server(
        id=row["server_id"],
        name=html.unescape(row["server_name"]),
        module=(row["server_type"] or "").strip().lower(),
        hostname=row["server_hostname"],
        ip_address=row["server_ip"],
        port=row["server_port"] or None,
        secure=row["server_secure"] == "on",
        username=html.unescape(row["server_username"]),
        password_encrypted=row["server_password"],
        access_hash=row["server_accesshash"],
        disabled=bool(row["server_disabled"]),
    )
