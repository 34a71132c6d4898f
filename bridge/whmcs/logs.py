"""WHMCS logs: the activity log (``tblactivitylog``) and the module log (``tblmodulelog``).

Admins debug module calls in *System Logs > Module Log*, so the bridge writes there in WHMCS's own
shape. Like WHMCS's ``logModuleCall`` ``$replaceVars``, every secret passed in is masked in the
request, response and processed data before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from bridge.redact import redact
from bridge.whmcs.charsets import fit_text
from bridge.whmcs.tables import activity_log, inserted_id, module_log

BRIDGE_USER = "voipbridge"


def log_activity(
    conn: Connection, description: str, *, at: datetime, client_id: int = 0, user: str = BRIDGE_USER
) -> int:
    """Append an activity log entry (``at`` in WHMCS local time) and return its id."""
    result = conn.execute(
        activity_log.insert().values(
            date=at,
            description=fit_text(conn, activity_log.c.description, description),
            user=user,
            userid=client_id,
            user_id=0,
            admin_id=0,
            ipaddr="",
        )
    )
    return inserted_id(result)


def log_module_call(
    conn: Connection,
    module: str,
    action: str,
    request: str | Mapping[str, Any],
    response: str | Mapping[str, Any],
    *,
    at: datetime,
    processed: str | Mapping[str, Any] = "",
    secrets: Iterable[str] = (),
) -> int:
    """Append a module log entry with ``secrets`` masked everywhere, and return its id."""
    masks = list(secrets)
    result = conn.execute(
        module_log.insert().values(
            date=at,
            module=module,
            action=action,
            request=fit_text(conn, module_log.c.request, redact(_as_text(request), masks)),
            response=fit_text(conn, module_log.c.response, redact(_as_text(response), masks)),
            arrdata=fit_text(conn, module_log.c.arrdata, redact(_as_text(processed), masks)),
        )
    )
    return inserted_id(result)


def _as_text(value: str | Mapping[str, Any]) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)
