"""Who may see a service's client-area pages: the client WHMCS says is logged in, and no one else.

The shim forwards WHMCS's ``$params`` (``serviceid``) and the client WHMCS has logged in. The
bridge reads the service itself and refuses, with :class:`~bridge.errors.AccessDenied`, a service
that does not exist, is not a service of the calling module, or belongs to another client: the
answer is the same in each case, so a client probing ids learns nothing, and the log keeps both
ids and the reason for the admin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from bridge.errors import AccessDenied, ServiceNotFound
from bridge.whmcs.clients import Client, get_client
from bridge.whmcs.services import Service, get_service, list_voip_services

log = logging.getLogger("bridge.usecases.client_access")

REFUSAL = "This service is not available in your client area."


@dataclass(frozen=True, slots=True)
class ClientService:
    """A service its owner may look at, with the owner and their other VoIP services."""

    service: Service
    client: Client
    services: tuple[Service, ...]


def read_id(value: object) -> int | None:
    """Return a WHMCS id sent as a number or digits, or ``None`` for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
        return number if 0 < number < 2**63 else None
    return None


def open_client_service(
    conn: Connection, *, service_id: object, client_id: object, module: str
) -> ClientService:
    """Return the service if ``client_id`` owns it and ``module`` provides it, else refuse."""
    service_number, client_number = read_id(service_id), read_id(client_id)
    if service_number is None or client_number is None:
        return _refuse(service_id, client_id, "missing or malformed id")
    try:
        service = get_service(conn, service_number)
    except ServiceNotFound:
        return _refuse(service_number, client_number, "no such service")
    if service.client_id != client_number:
        return _refuse(service_number, client_number, f"owned by client {service.client_id}")
    if service.product.module.lower() != module.lower():
        return _refuse(service_number, client_number, f"a {service.product.module} service")
    # The selector lists the client's live VoIP services, and this one even when it is not live.
    services = tuple(
        s for s in list_voip_services(conn, client_number) if s.live or s.id == service.id
    )
    return ClientService(service, get_client(conn, client_number), services)


def _refuse(service_id: object, client_id: object, reason: str) -> ClientService:
    log.warning(
        "client_area.refused service=%.40r client=%.40r reason=%s", service_id, client_id, reason
    )
    raise AccessDenied(REFUSAL)
