"""The URLs the client-area pages print, built in one place.

In WHMCS every link and form goes through WHMCS's own page for the service
(``clientarea.php?action=productdetails&id=N&vb…``), so the client never talks to the bridge;
the export goes through the module's custom action (``&modop=custom&a=exportCalls``), which the
shim streams through. The demo preview swaps in links to its own pages
(:func:`preview_links`). Templates get a :class:`ClientAreaLinks` and never build a URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

PageState = Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class ClientAreaLinks:
    """Builds the page, export and service links of one service's client-area page."""

    service_id: int
    form_action: str
    hidden: tuple[tuple[str, str], ...]
    page_base: str
    export_base: str
    service_pattern: str

    def page(self, state: PageState, /, **changes: str | None) -> str:
        """Return the page's URL for ``state`` with ``changes`` (``None`` drops a parameter)."""
        return self._with(self.page_base, state, changes)

    def export(self, state: PageState, /, **changes: str | None) -> str:
        """Return the CSV export's URL for ``state`` with ``changes``."""
        return self._with(self.export_base, state, changes)

    def service(self, service_id: int) -> str:
        """Return the page of another of the client's services."""
        return self.service_pattern.format(id=service_id)

    @staticmethod
    def _with(base: str, state: PageState, changes: Mapping[str, str | None]) -> str:
        merged = {**state, **changes}
        query = urlencode([(name, value) for name, value in merged.items() if value])
        if not query:
            return base
        return f"{base}{'&' if '?' in base else '?'}{query}"


def whmcs_links(service_id: int) -> ClientAreaLinks:
    """Return the links of a service's page inside WHMCS's client area."""
    page = f"clientarea.php?action=productdetails&id={service_id}"
    return ClientAreaLinks(
        service_id=service_id,
        form_action="clientarea.php",
        hidden=(("action", "productdetails"), ("id", str(service_id))),
        page_base=page,
        export_base=f"{page}&modop=custom&a=exportCalls",
        service_pattern="clientarea.php?action=productdetails&id={id}",
    )


def preview_links(service_id: int, *, root: str = "/demo/client-area") -> ClientAreaLinks:
    """Return the links of a service's page in the demo preview."""
    page = f"{root}/{service_id}"
    return ClientAreaLinks(
        service_id=service_id,
        form_action=page,
        hidden=(),
        page_base=page,
        export_base=f"{page}/export",
        service_pattern=root + "/{id}",
    )
