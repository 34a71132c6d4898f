"""The module actions behind the shim that act on a service or a server (DESIGN.md §3).

``create``, ``suspend``, ``unsuspend``, ``terminate``, ``change-package``, ``test-connection``,
``buttons``, ``button/collect-cdrs`` and ``services-tab``: each reads WHMCS's ``$params`` out of
the call and hands them to a use case (:mod:`bridge.usecases.provisioning`,
:mod:`bridge.usecases.service_admin`). A provisioning action answers the PBX's own message; the
shim turns any ``ok`` answer into WHMCS's ``'success'``, and an error into its message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bridge.clock import utc_now
from bridge.db import Database
from bridge.errors import InvalidRequest
from bridge.usecases.provisioning import PbxAction, ServiceCall, change_package, run_pbx_action
from bridge.usecases.service_admin import (
    ServerForm,
    check_server_connection,
    collect_service_calls,
    describe_service,
)
from bridge.web.license_buttons import button_answer, license_key, server_ip
from bridge.whmcs.catalog import read_billing_settings

if TYPE_CHECKING:
    from bridge.web.shim import ShimCall

# Admin buttons: label → the PHP function suffix (``<module>_<suffix>``), which forwards to
# ``button/<name>``. The shim defines one PHP function per suffix.
BUTTONS = {
    "Verify License": "verifyLicense",
    "Activate License": "activateLicense",
    "Collect CDRs now": "collectCdrs",
}
# The services tab's labels, in the order the admin reads them.
TAB_LABELS = ("VoIP status", "Last collection", "Usage this period", "License")
_SECRET_PARAMS = ("password", "serverpassword", "serveraccesshash")


def create_account(call: ShimCall, database: Database) -> str:
    """Provision the service on its PBX (the license must be valid here)."""
    return _pbx_action(call, database, PbxAction.CREATE)


def suspend_account(call: ShimCall, database: Database) -> str:
    """Stop the service from placing calls."""
    return _pbx_action(call, database, PbxAction.SUSPEND)


def unsuspend_account(call: ShimCall, database: Database) -> str:
    """Let the service place calls again."""
    return _pbx_action(call, database, PbxAction.UNSUSPEND)


def terminate_account(call: ShimCall, database: Database) -> str:
    """Remove the service from its PBX."""
    return _pbx_action(call, database, PbxAction.TERMINATE)


def change_account_package(call: ShimCall, database: Database) -> str:
    """Accept an upgrade or downgrade: from now on the new product's package rates the calls."""
    package = read_billing_settings(call.module.read_settings(_configoptions(call))).package
    outcome = change_package(
        database, _service_call(call), package=package, settings=call.settings, now=utc_now()
    )
    return outcome.message


def try_connection(call: ShimCall, database: Database) -> dict[str, Any]:
    """Test the server of WHMCS's server page: ``{"success": bool, "error": str}``."""
    params = call.params
    form = ServerForm(
        module=call.module.name,
        server_id=_integer(params.get("serverid")) or 0,
        name=_text(params, "servername"),
        hostname=_text(params, "serverhostname"),
        ip_address=_text(params, "serverip"),
        port=_integer(params.get("serverport")),
        secure=params.get("serversecure") in (True, 1, "1", "on", "true"),
        username=_text(params, "serverusername"),
        password=_text(params, "serverpassword"),
        access_hash=_text(params, "serveraccesshash"),
    )
    check = check_server_connection(database, form, settings=call.settings)
    return {"success": check.ok, "error": "" if check.ok else check.message,
            "message": check.message}  # fmt: skip


def list_buttons(call: ShimCall, database: Database) -> dict[str, str]:
    """Return ``_AdminCustomButtonArray``: button label → PHP function suffix."""
    return dict(BUTTONS)


def collect_cdrs_button(call: ShimCall, database: Database) -> dict[str, Any]:
    """Collect the service's server's new calls now and say how many were stored."""
    outcome = collect_service_calls(
        database, _service_id(call), settings=call.settings, now=utc_now()
    )
    return button_answer(outcome.succeeded, outcome.message)


def services_tab(call: ShimCall, database: Database) -> dict[str, str]:
    """Return ``_AdminServicesTabFields``: label → plain text (the shim escapes it)."""
    overview = describe_service(
        database, _service_id(call), license_key=license_key(call), server_ip=server_ip(call),
        settings=call.settings, now=utc_now(),
    )  # fmt: skip
    values = (overview.voip_status, overview.last_collection, overview.usage, overview.license)
    return dict(zip(TAB_LABELS, values, strict=True))


def _pbx_action(call: ShimCall, database: Database, action: PbxAction) -> str:
    outcome = run_pbx_action(
        database, _service_call(call), action, settings=call.settings, now=utc_now()
    )
    return outcome.message


def _service_call(call: ShimCall) -> ServiceCall:
    params = call.params
    fields = params.get("customfields")
    secrets = [_text(params, name) for name in _SECRET_PARAMS]
    key = license_key(call)
    return ServiceCall(
        module=call.module.name,
        service_id=_service_id(call),
        domain=_optional_text(params, "domain"),
        username=_optional_text(params, "username"),
        custom_fields=_text_map(fields) if isinstance(fields, Mapping) else None,
        license_key=key,
        server_ip=server_ip(call),
        secrets=tuple(value for value in (*secrets, key) if len(value) >= 4),
    )


def _service_id(call: ShimCall) -> int:
    service_id = _integer(call.params.get("serviceid"))
    if not service_id:
        raise InvalidRequest(
            "This module call names no service (params.serviceid); WHMCS sends it with every "
            "service action."
        )
    return service_id


def _configoptions(call: ShimCall) -> list[str | None]:
    values = [call.params.get(f"configoption{n}") for n in range(1, len(call.module.settings) + 1)]
    return [value if isinstance(value, str) else None for value in values]


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _optional_text(params: Mapping[str, Any], name: str) -> str | None:
    return _text(params, name) if name in params else None


def _text_map(values: Mapping[Any, Any]) -> dict[str, str]:
    return {str(name): str(value) for name, value in values.items() if value is not None}
