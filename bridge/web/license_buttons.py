"""The Verify License and Activate License buttons behind the shim (``button/verify-license``,
``button/activate-license``): read the key and server IP from the call, run the license check.

The key is the product's "License Key" module setting, which WHMCS sends as ``configoptionN``; the
IP is ``whmcs.server_ip``, which the PHP shim fills from ``$_SERVER['SERVER_ADDR']``. The result
says whether the license allows provisioning and carries the status line the admin reads, e.g.
``License Active (billing.example.com, expires 2027-06-30)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.clock import utc_now
from bridge.db import Database
from bridge.settings import load_settings
from bridge.usecases.licenses import activate_license, verify_license
from bridge.whmcs.catalog import read_billing_settings

if TYPE_CHECKING:
    from bridge.web.shim import ShimCall


def verify_license_button(call: ShimCall, database: Database) -> dict[str, Any]:
    """Ask the license server about the product's key here and return the status line."""
    report = verify_license(
        database, license_key(call), settings=load_settings(), server_ip=server_ip(call),
        now=utc_now(),
    )  # fmt: skip
    return button_answer(report.allows_provisioning, report.message)


def activate_license_button(call: ShimCall, database: Database) -> dict[str, Any]:
    """Register the product's key to this WHMCS domain and IP and return the status line."""
    report = activate_license(
        database, license_key(call), settings=load_settings(), server_ip=server_ip(call),
        now=utc_now(),
    )  # fmt: skip
    return button_answer(report.allows_provisioning, report.message)


def button_answer(succeeded: bool, message: str) -> dict[str, Any]:
    """Return an admin button's result: the shim shows WHMCS ``'success'`` or the message.

    WHMCS styles every custom-button answer but ``'success'`` as a "Module Command Error", so a
    good outcome must be ``'success'``; its line goes to the module log and the services tab.
    """
    return {"success": succeeded, "message": message}


def license_key(call: ShimCall) -> str:
    """Return the product's License Key from the call's ``configoptionN`` values."""
    values = [call.params.get(f"configoption{n}") for n in range(1, len(call.module.settings) + 1)]
    texts = [value if isinstance(value, str) else None for value in values]
    return read_billing_settings(call.module.read_settings(texts)).license_key


def server_ip(call: ShimCall) -> str:
    """Return the WHMCS server's IP the shim sent (``whmcs.server_ip``), or ``""``."""
    value = call.whmcs.get("server_ip")
    return value if isinstance(value, str) else ""
