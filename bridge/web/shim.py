"""The endpoint the PHP module shims call: ``POST /v1/whmcs/{module}/{action}`` (DESIGN.md §3).

Every call is authenticated (:func:`bridge.web.signing.accept_signed`), its module and action looked
up, its JSON body checked, and only then is its nonce spent and the action run. A rejected call
therefore writes nothing. Actions are plain synchronous functions run in Starlette's thread pool;
each takes the call and the database and returns the JSON-able ``result``, or a whole
:class:`~starlette.responses.Response` when the answer is not JSON (the client area's CSV export).

Client-area calls also carry ``query``: the ``vb…`` parameters of the WHMCS page the client is on
(period, sort, search, page), which the shim forwards as they came.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bridge.db import Database
from bridge.errors import InvalidRequest, UnknownAction
from bridge.settings import Settings
from bridge.usecases.product_settings import list_setting_fields
from bridge.web.client_pages import export_calls, show_client_area
from bridge.web.json_body import load_json
from bridge.web.license_buttons import activate_license_button, verify_license_button
from bridge.web.module_actions import (
    change_account_package,
    collect_cdrs_button,
    create_account,
    list_buttons,
    services_tab,
    suspend_account,
    terminate_account,
    try_connection,
    unsuspend_account,
)
from bridge.web.signing import accept_signed
from bridge.web.state import app_state
from bridge.whmcs.catalog import ModuleSpec, get_module

log = logging.getLogger("bridge.web.shim")

# The page parameters a client-area call may forward: short ``vb…`` names with short text values.
_QUERY_NAME = re.compile(r"vb[a-z_]{1,30}", re.ASCII)
_QUERY_VALUE_MAX = 200


@dataclass(frozen=True, slots=True)
class ShimCall:
    """One authenticated module call: WHMCS's ``$params`` and what the shim says about WHMCS."""

    module: ModuleSpec
    action: str
    params: Mapping[str, Any]
    whmcs: Mapping[str, Any]
    query: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # The bridge's settings, for actions that need more than the database (license, timezone).
    settings: Settings = dataclasses.field(default_factory=Settings)


Action = Callable[[ShimCall, Database], Any]


def describe_module(call: ShimCall, database: Database) -> dict[str, Any]:
    """Return the module's ``_MetaData`` array."""
    return {
        "DisplayName": call.module.display_name,
        "APIVersion": "1.1",
        "RequiresServer": True,
        "DefaultSSLPort": call.module.default_ssl_port,
        "DefaultNonSSLPort": 80,
    }


def list_config_options(call: ShimCall, database: Database) -> dict[str, Any]:
    """Return the module's ``_ConfigOptions`` fields, in ``configoptionN`` order."""
    options: dict[str, Any] = {}
    for field in list_setting_fields(database, call.module):
        option: dict[str, Any] = {
            "FriendlyName": field.name,
            "Type": field.type,
            "Description": field.description,
            "Default": field.default,
        }
        if field.type in ("text", "password"):
            option["Size"] = "40"
        if field.options and "" in field.options:
            # A CSV cannot hold an empty choice; WHMCS also takes value → label.
            option["Options"] = {value: value or "(none)" for value in field.options}
        elif field.options:
            option["Options"] = ",".join(field.options)
        options[field.name] = option
    return options


ACTIONS: Mapping[str, Action] = {
    "meta": describe_module,
    "config-options": list_config_options,
    "create": create_account,
    "suspend": suspend_account,
    "unsuspend": unsuspend_account,
    "terminate": terminate_account,
    "change-package": change_account_package,
    "test-connection": try_connection,
    "buttons": list_buttons,
    "services-tab": services_tab,
    "button/verify-license": verify_license_button,
    "button/activate-license": activate_license_button,
    "button/collect-cdrs": collect_cdrs_button,
    "client-area": show_client_area,
    "client-area/export": export_calls,
}


async def handle_module_call(request: Request) -> Response:
    """Authenticate a shim call, run its action and return ``{"ok": true, "result": ...}``."""
    module_name = request.path_params["module"]
    action_name = request.path_params["action"]

    def parse(body: bytes) -> tuple[ShimCall, Action]:
        module = get_module(module_name)
        action = ACTIONS.get(action_name)
        if module is None or action is None:
            what = f"module {module_name!r}" if module is None else f"action {action_name!r}"
            raise UnknownAction(
                f"The bridge has no {what}. Is the WHMCS module newer than the bridge?"
            )
        return _parse_call(body, module, action_name), action

    call, action = await accept_signed(request, parse)
    call = dataclasses.replace(call, settings=app_state(request).settings)
    log.info("shim.call module=%s action=%s", call.module.name, call.action)
    result = await run_in_threadpool(action, call, app_state(request).database)
    if isinstance(result, Response):
        return result
    return JSONResponse({"ok": True, "result": result})


def _parse_call(body: bytes, module: ModuleSpec, action: str) -> ShimCall:
    payload = load_json(body, what="The request body") if body else {}
    if not isinstance(payload, dict):
        raise InvalidRequest('The request body must be a JSON object {"params": {...}}.')
    params = payload.get("params", {})
    whmcs = payload.get("whmcs", {})
    # PHP's json_encode turns an empty array into [], so accept that as "no params".
    params = {} if params == [] else params
    whmcs = {} if whmcs == [] else whmcs
    if not isinstance(params, dict) or not isinstance(whmcs, dict):
        raise InvalidRequest('"params" and "whmcs" must be JSON objects.')
    return ShimCall(
        module=module, action=action, params=params, whmcs=whmcs, query=_parse_query(payload)
    )


def read_page_parameters(query: Mapping[str, str]) -> dict[str, str]:
    """Return the ``vb…`` page parameters of a query string, dropping anything else."""
    return {
        name: value
        for name, value in query.items()
        if _QUERY_NAME.fullmatch(name) and len(value) <= _QUERY_VALUE_MAX
    }


def _parse_query(payload: Mapping[str, Any]) -> dict[str, str]:
    query = payload.get("query", {})
    query = {} if query == [] else query
    if not isinstance(query, dict):
        raise InvalidRequest('"query" must be a JSON object of page parameters.')
    for name, value in query.items():
        if not _QUERY_NAME.fullmatch(name):
            raise InvalidRequest(f'"query" may only name vb… page parameters, not {name[:40]!r}.')
        if not isinstance(value, str) or len(value) > _QUERY_VALUE_MAX:
            raise InvalidRequest(
                f'"query" parameter {name} must be text of at most {_QUERY_VALUE_MAX} characters.'
            )
    return query
