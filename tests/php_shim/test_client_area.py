"""The client area's pipe through the real PHP modules: ClientArea's page and the CSV export.

Only what holds whatever the bridge's page looks like is checked: the WHMCS array and its
template, the root element naming the service, the vb… parameters forwarded, the exported bytes
and headers passed through unchanged, and errors shown escaped or returned.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import text

from bridge.whmcs.catalog import MODULES
from tests.factories.pbx_service import World
from tests.fakes import Served
from tests.php_shim.harness import SERVER_IP, PhpShim
from tests.usecases.client_area_data import seed_plans
from tests.web.signing_helpers import signing_headers

ROOT = '<div class="voipbridge-client-area" data-service="{}"'


def _sent_payload(result_log: list[dict[str, str]]) -> str:
    """Return the logged request of the client-area call (print_r of the JSON body)."""
    return next(entry["request"] for entry in result_log if entry["action"] == "client-area")


class TestClientArea:
    def test_the_page_is_the_bridges_html_in_the_module_template(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """A licensed page: the template 'clientarea' with the bridge's HTML for this service."""
        php.call("fusionpbx_activateLicense", world.params)

        page = php.call(
            "fusionpbx_ClientArea",
            world.params,
            get={"vbperiod": "2026-11", "vbsort": "start", "other": "x", "vbbig": "9" * 201},
            session={"uid": world.client_id},
        )

        assert (page.type, page.warnings, page.value["templatefile"]) == ("array", "", "clientarea")
        assert page.value["vars"]["voipbridge_html"].startswith(ROOT.format(world.service_id))
        sent = _sent_payload(page.log)
        assert "[vbperiod] => 2026-11" in sent
        assert "[vbsort] => start" in sent
        assert "[other]" not in sent
        assert "[vbbig]" not in sent
        assert f"[client_id] => {world.client_id}" in sent
        template = php.whmcs / "modules/servers/fusionpbx/clientarea.tpl"
        assert "{$voipbridge_html nofilter}" in template.read_text(encoding="utf-8")

    def test_without_a_session_the_services_owner_is_the_client(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """With no logged-in client in the session, whmcs.client_id is $params['userid']."""
        page = php.call("fusionpbx_ClientArea", {**world.params, "userid": 4242})

        assert "[client_id] => 4242" in _sent_payload(page.log)

    def test_an_invalid_license_shows_the_message_escaped(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """Without a license the same template shows the bridge's message, HTML-escaped."""
        page = php.call("fusionpbx_ClientArea", {**world.params, "configoption1": "<b>KEY</b>"})

        assert page.value["templatefile"] == "clientarea"
        html = page.value["vars"]["voipbridge_html"]
        assert html.startswith('<div class="alert alert-danger voipbridge-error">Invalid License')
        assert "<b>" not in html
        assert page.value["vars"]["voipbridge_error"].startswith("Invalid License")


class TestExport:
    def test_the_download_passes_through_unchanged(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """The browser gets the bridge's status, type, disposition and bytes, and nothing else."""
        _rate_with_a_package(world)
        php.call("fusionpbx_activateLicense", world.params)
        query = {"vbperiod": "2026-11"}
        session = {"uid": world.client_id}
        expected = _ask_bridge(bridge, world.params, query, world.client_id)

        php.prepare_web("fusionpbx_exportCalls", world.params, session=session)
        with php.serve_web() as web:
            got = httpx.get(f"{web.url}/harness.php", params=query, timeout=60)

        assert expected.status_code == 200
        assert got.status_code == expected.status_code
        for header in ("content-type", "content-disposition"):
            assert got.headers[header] == expected.headers[header]
        assert got.headers["content-disposition"].startswith("attachment; filename=")
        assert got.content == expected.content
        assert php.warnings_file.read_text(encoding="utf-8") == ""

    def test_a_json_error_is_returned_as_the_string(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """Without a license, exportCalls returns the bridge's message instead of a file."""
        php.prepare_web("fusionpbx_exportCalls", world.params)
        with php.serve_web() as web:
            got = httpx.get(f"{web.url}/harness.php", timeout=60)

        assert got.json()["return"].startswith("Invalid License")
        assert got.json()["type"] == "string"


def _rate_with_a_package(world: World) -> None:
    """Give the world's product a stored package, so its calls can be exported."""
    seed_plans(world.conn)
    spec = MODULES["fusionpbx"]
    number = next(n for n, f in enumerate(spec.settings, 1) if f.name == "VoIP Package")
    world.conn.execute(
        text(f"UPDATE tblproducts SET configoption{number} = 'Metered' WHERE id = :id"),
        {"id": world.product_id},
    )
    world.params[f"configoption{number}"] = "Metered"


def _ask_bridge(
    bridge: Served, params: dict[str, Any], query: dict[str, str], client_id: int
) -> httpx.Response:
    """Send the export call the shim sends, straight to the bridge, for what it answers."""
    path = "/v1/whmcs/fusionpbx/client-area/export"
    whmcs = {
        "version": "8.13.1",
        "system_url": "https://billing.example.net/",
        "server_ip": SERVER_IP,
        "client_id": client_id,
    }
    body = json.dumps({"params": params, "whmcs": whmcs, "query": query}).encode()
    return httpx.post(
        f"{bridge.url}{path}", content=body, headers=signing_headers(path, body), timeout=60
    )
