"""The client-area pages behind the shim's ClientArea and exportCalls (placeholders).

The call history view (DESIGN.md §9) replaces this file; until then the page says it is coming
and the export is a CSV with just its header row. The contract the shim relies on stays: the
page is ``{"html": ...}`` whose root element is
``<div class="voipbridge-client-area" data-service="{serviceid}">``, and the export is a whole
CSV response with a ``Content-Disposition`` attachment name.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from starlette.responses import Response

from bridge.db import Database

if TYPE_CHECKING:
    from bridge.web.shim import ShimCall

EXPORT_HEADER = "start,direction,caller,destination,duration_seconds,billed_seconds,cost\r\n"


def show_client_area(call: ShimCall, database: Database) -> dict[str, str]:
    """Return the client area's HTML for the service WHMCS is showing."""
    service = html.escape(str(call.params.get("serviceid", "")), quote=True)
    note = html.escape("Your call history is coming here soon.")
    return {
        "html": f'<div class="voipbridge-client-area" data-service="{service}"><p>{note}</p></div>'
    }


def export_calls(call: ShimCall, database: Database) -> Response:
    """Return the selected period's calls as a CSV download (for now, the header row)."""
    service = "".join(ch for ch in str(call.params.get("serviceid", "")) if ch.isdigit())
    filename = f"calls-{service or 'service'}.csv"
    return Response(
        EXPORT_HEADER.encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
