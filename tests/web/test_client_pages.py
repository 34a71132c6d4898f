"""The client area through the signed shim endpoint: the page, the CSV, and who may see them."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from freezegun import freeze_time
from sqlalchemy.engine import Connection
from starlette.testclient import TestClient

from bridge.app import create_app
from bridge.db import BoundDatabase
from bridge.settings import Settings
from bridge.web.demo_preview import is_loopback, preview_routes
from bridge.whmcs.seeding import insert_setting
from tests.factories.whmcs import make_product, make_service
from tests.licensing.harness import LicenseServer, running_license_server
from tests.usecases.client_area_data import (
    DUE,
    FORMULA_NAME,
    HOSTILE_NAME,
    NOW,
    make_cad_client,
    make_metered_service,
    make_voip_product,
    seed_plans,
)
from tests.web.signing_helpers import signing_headers

IP = "203.0.113.10"


@pytest.fixture(name="server", scope="module")
def _server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LicenseServer]:
    with running_license_server(tmp_path_factory.mktemp("license")) as server:
        yield server


@pytest.fixture(name="license_key")
def _license_key(
    conn: Connection, server: LicenseServer, monkeypatch: pytest.MonkeyPatch, http: TestClient
) -> str:
    """A key activated for this WHMCS (domain and IP), as the admin's button does."""
    insert_setting(conn, "SystemURL", "https://billing.example.net/")
    monkeypatch.setenv("BRIDGE_LICENSE_URL", server.url)
    monkeypatch.setenv("BRIDGE_LICENSE_PUBLIC_KEY", server.public_key)
    key = server.create_key()
    answer = _post(http, "button/activate-license", {"configoption1": key}, {})
    assert answer.json()["result"]["message"].startswith("License Activated")
    return key


@pytest.fixture(name="owner")
def _owner(conn: Connection) -> int:
    seed_plans(conn)
    return make_cad_client(conn)


def _post(
    http: TestClient,
    action: str,
    params: dict[str, Any],
    query: dict[str, str],
    *,
    client_id: int | None = None,
    module: str = "fusionpbx",
) -> httpx2.Response:
    """Send the call the PHP shim sends for a client-area page."""
    path = f"/v1/whmcs/{module}/{action}"
    whmcs: dict[str, Any] = {"version": "8.13.1", "server_ip": IP}
    if client_id is not None:
        whmcs["client_id"] = client_id
    body = json.dumps({"params": params, "whmcs": whmcs, "query": query}).encode()
    return http.post(path, content=body, headers=signing_headers(path, body))


def _page(
    http: TestClient, service: int, client: int, query: dict[str, str] | None = None
) -> httpx2.Response:
    with freeze_time(NOW):
        return _post(http, "client-area", {"serviceid": service, "userid": client}, query or {},
                     client_id=client)  # fmt: skip


class TestClientAreaPage:
    def test_page_renders_inside_its_root_with_hostile_names_inert(
        self, http: TestClient, owner: int, conn: Connection, license_key: str
    ) -> None:
        """The HTML opens with the contract's root; markup in caller names is escaped text."""
        service = make_metered_service(conn, owner, license_key=license_key)

        response = _page(http, service, owner)

        assert response.status_code == 200
        html = response.json()["result"]["html"]
        assert html.startswith(f'<div class="voipbridge-client-area" data-service="{service}">')
        assert HOSTILE_NAME not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;click&#34;)" in html
        assert "<svg" in html

    @pytest.mark.parametrize("module", ["fusionpbx", "vodia", "lesnet"])
    def test_every_module_shows_its_services_calls(
        self, http: TestClient, owner: int, conn: Connection, license_key: str, module: str
    ) -> None:
        """Each VoIP module's shim gets the same page for its own services."""
        service = make_metered_service(conn, owner, module=module, license_key=license_key)

        with freeze_time(NOW):
            response = _post(http, "client-area", {"serviceid": service}, {}, client_id=owner,
                             module=module)  # fmt: skip

        assert response.status_code == 200
        assert "8 calls" in response.json()["result"]["html"]

    def test_every_link_and_form_goes_through_whmcs(
        self, http: TestClient, owner: int, conn: Connection, license_key: str
    ) -> None:
        """Links point at the service's productdetails page; forms GET clientarea.php."""
        service = make_metered_service(conn, owner, license_key=license_key)

        html = _page(http, service, owner, {"vbsort": "cost"}).json()["result"]["html"]

        links = re.findall(r'href="([^"]*)"', html)
        assert links
        assert all(
            link.startswith(f"clientarea.php?action=productdetails&amp;id={service}")
            for link in links
        ), links
        assert f"id={service}&amp;modop=custom&amp;a=exportCalls&amp;vbperiod=2026-11-01" in html
        assert set(re.findall(r'<form [^>]*action="([^"]*)"', html)) == {"clientarea.php"}
        assert f'<input type="hidden" name="id" value="{service}">' in html

    def test_sort_links_toggle_and_start_sensibly(
        self, http: TestClient, owner: int, conn: Connection, license_key: str
    ) -> None:
        """The sorted column links to the other direction; names start at A, costs at the top."""
        service = make_metered_service(conn, owner, license_key=license_key)

        html = _page(http, service, owner, {"vbsort": "cost"}).json()["result"]["html"]

        def link(key: str) -> str:
            found = re.search(rf'<a href="([^"]*)" data-vb-sort="{key}">', html)
            assert found is not None
            return found.group(1)

        assert 'aria-sort="descending"' in html
        assert link("cost").endswith("vbsort=cost&amp;vbdir=asc")
        assert link("name").endswith("vbsort=name&amp;vbdir=asc")
        assert link("date").endswith("vbsort=date")

    def test_bad_page_parameters_fall_back(
        self, http: TestClient, owner: int, conn: Connection, license_key: str
    ) -> None:
        """Nonsense sort, page, period and type values show the default page."""
        service = make_metered_service(conn, owner, license_key=license_key)
        query = {"vbsort": "x", "vbpage": "-4", "vbperiod": "never", "vbtype": "fax", "vbdir": "x"}

        response = _page(http, service, owner, query)

        assert response.status_code == 200
        assert "8 calls" in response.json()["result"]["html"]

    def test_several_services_get_a_selector(
        self, http: TestClient, owner: int, conn: Connection, license_key: str
    ) -> None:
        """A client with two VoIP services can switch to the other one's page in WHMCS."""
        service = make_metered_service(conn, owner, license_key=license_key)
        other = make_metered_service(conn, owner, license_key=license_key)

        html = _page(http, service, owner).json()["result"]["html"]

        assert f'href="clientarea.php?action=productdetails&amp;id={other}"' in html

    def test_special_rate_products_show_their_rules_on_the_rates_tab(
        self, http: TestClient, owner: int, conn: Connection, license_key: str
    ) -> None:
        """The rates tab of a Special Number Billing product lists its rules and prices."""
        product = make_voip_product(conn, "UK Special", special=True, license_key=license_key)
        seed_plans(conn, special_product=product)
        service = make_service(conn, owner, product_id=product, next_due=DUE)

        html = _page(http, service, owner, {"vbtab": "rates"}).json()["result"]["html"]

        assert "Freephone" in html
        assert "0800*" in html
        assert "$0.00 CAD" in html
        assert "$0.05 CAD" in html

    def test_rates_tab(
        self, http: TestClient, owner: int, conn: Connection, license_key: str
    ) -> None:
        """The Call Rates tab lists the marked-up rates matching the search."""
        service = make_metered_service(conn, owner, license_key=license_key)

        html = _page(http, service, owner, {"vbtab": "rates", "vbrq": "united"}).json()
        html = html["result"]["html"]

        assert "United Kingdom Mobile" in html
        assert "$0.092 CAD" in html
        assert "USA/Canada" not in html

    def test_a_product_without_a_package_shows_a_plain_notice(
        self,
        http: TestClient,
        owner: int,
        conn: Connection,
        license_key: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """The client reads that the page is unavailable; the admin's reason goes to the log."""
        product = make_voip_product(conn, "No Such Package", license_key=license_key)
        service = make_service(conn, owner, product_id=product, next_due=DUE)

        with caplog.at_level(logging.WARNING):
            html = _page(http, service, owner).json()["result"]["html"]

        assert html.startswith(f'<div class="voipbridge-client-area" data-service="{service}">')
        assert "not available for this service yet" in html
        assert "No Such Package" not in html
        assert "No VoIP package named 'No Such Package'" in caplog.text

        export = _post(http, "client-area/export", {"serviceid": service}, {}, client_id=owner)
        assert export.status_code == 404
        assert export.json()["error"]["code"] == "not_found"


class TestRefusals:
    def test_another_clients_service_is_refused_with_nothing_shown(
        self,
        http: TestClient,
        owner: int,
        conn: Connection,
        license_key: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A client naming someone else's service gets a 403 and no page; the log has both ids."""
        service = make_metered_service(conn, owner, license_key=license_key)
        intruder = make_cad_client(conn)

        with caplog.at_level(logging.WARNING):
            page = _page(http, service, intruder)
            export = _post(http, "client-area/export", {"serviceid": service}, {},
                           client_id=intruder)  # fmt: skip

        for response in (page, export):
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "access_denied"
            assert "html" not in response.text
        assert f"service={service} client={intruder}" in caplog.text

    def test_an_invalid_license_refuses_the_view(
        self, http: TestClient, owner: int, conn: Connection, license_key: str
    ) -> None:
        """A product whose key is not activated here gets a clear license message, no page."""
        service = make_metered_service(conn, owner, license_key="VB-NOPE0-NOPE0-NOPE0-NOPE0")

        response = _page(http, service, owner)

        assert response.status_code == 403
        assert response.json()["error"]["code"] == "license_refused"
        assert "Invalid License" in response.json()["error"]["message"]


class TestCsvDownload:
    def test_export_streams_a_csv_attachment_that_parses_back(
        self, http: TestClient, owner: int, conn: Connection, license_key: str
    ) -> None:
        """The export is a UTF-8 CSV attachment named after service and period, formulas inert."""
        service = make_metered_service(conn, owner, license_key=license_key)

        with freeze_time(NOW):
            response = _post(http, "client-area/export", {"serviceid": service},
                             {"vbperiod": "2026-11-01"}, client_id=owner)  # fmt: skip

        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == (
            f'attachment; filename="calls-{service}-2026-11-01.csv"'
        )
        assert response.content.startswith("\ufeff".encode())
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(rows) == 8
        assert {row["Caller name"] for row in rows} >= {HOSTILE_NAME, "'" + FORMULA_NAME}


class TestDemoPreview:
    @pytest.fixture(name="preview")
    def _preview(self, settings: Settings, database: BoundDatabase) -> Iterator[TestClient]:
        with TestClient(
            create_app(settings, database=database, extra_routes=preview_routes())
        ) as client:
            yield client

    def test_preview_pages_stay_in_the_preview(
        self, preview: TestClient, owner: int, conn: Connection
    ) -> None:
        """The index lists the services; a page is marked preview and links to itself."""
        service = make_metered_service(conn, owner)

        index = preview.get("/demo/client-area")
        with freeze_time(NOW):
            page = preview.get(f"/demo/client-area/{service}?vbsort=cost&vbdir=asc&id=9")
            export = preview.get(f"/demo/client-area/{service}/export?vbtype=inbound")

        assert f'href="/demo/client-area/{service}"' in index.text
        assert "Preview of the WHMCS client area" in page.text
        links = re.findall(r'href="([^"]*)"', page.text)
        assert all(link.startswith("/demo/client-area") for link in links), links
        assert export.headers["content-type"] == "text/csv; charset=utf-8"
        assert len(export.text.splitlines()) == 2

    def test_an_unknown_or_foreign_service_is_refused(
        self, preview: TestClient, conn: Connection, owner: int
    ) -> None:
        """A service id the demo does not have, or not a VoIP one, is a 403, not a crash."""
        hosting = make_service(conn, owner, product_id=make_product(conn, module="cpanel"))

        assert preview.get("/demo/client-area/999999").status_code == 403
        assert preview.get(f"/demo/client-area/{hosting}").status_code == 403

    def test_the_bridge_serves_no_preview_by_itself(self, http: TestClient) -> None:
        """Without bridge demo's routes there is no preview."""
        assert http.get("/demo/client-area").status_code == 404

    @pytest.mark.parametrize(
        ("host", "loopback"),
        [("127.0.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
         ("0.0.0.0", False), ("192.0.2.7", False), ("example.net", False)],  # noqa: S104
    )  # fmt: skip
    def test_preview_only_on_loopback(self, host: str, loopback: bool) -> None:
        """Only loopback addresses count as safe for a preview without a login."""
        assert is_loopback(host) is loopback
