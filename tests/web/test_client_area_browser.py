"""The client area in a real headless Chromium, against ``bridge demo``'s preview on loopback.

The demo database is built as ``bridge demo`` builds it, given a busy month (130 more calls, two
of them from hostile caller names) on its FusionPBX service, and served by uvicorn on 127.0.0.1
with the preview's routes. Debian's ``chromium`` is driven by Playwright (no browser download);
when it is missing the tests fail and say how to install it. Screenshots go to
``test-artifacts/client-area/`` (git-ignored); their paths are printed.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright
from sqlalchemy import create_engine

from bridge.app import create_app
from bridge.calls import CollectedCdr
from bridge.clock import utc_now, whmcs_today
from bridge.demo import build_demo_database
from bridge.rating import Cdr, Direction
from bridge.settings import Settings
from bridge.store.cdrs import store_cdrs
from bridge.usecases.call_history import list_service_periods
from bridge.usecases.usage import RatePlans, rate_service_usage
from bridge.web.demo_preview import preview_routes
from bridge.whmcs.clients import list_client_ids
from bridge.whmcs.services import Service, list_voip_services
from tests.fakes import serve
from tests.usecases.client_area_data import FORMULA_NAME, HOSTILE_NAME

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "client-area"
UTC_ZONE = ZoneInfo("UTC")
EXTRA_CALLS = 130


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Debian's chromium is not installed; the client-area page tests need it: "
            "apt-get install chromium (scripts/test installs it when run as root)."
        )
    return found


def _demo_service(engine_url: str, module: str) -> Service:
    """Return the demo's first VoIP service of ``module``."""
    engine = create_engine(engine_url)
    try:
        with engine.connect() as conn:
            services = [s for c in list_client_ids(conn) for s in list_voip_services(conn, c)]
    finally:
        engine.dispose()
    return next(s for s in services if s.product.module == module)


def _busy_month(url: str, service: Service) -> None:
    """Store EXTRA_CALLS more calls on the service yesterday and the day before."""
    yesterday = whmcs_today(utc_now(), UTC_ZONE) - timedelta(days=1)
    start = datetime.combine(yesterday, time(8), tzinfo=UTC)
    names = [HOSTILE_NAME, FORMULA_NAME] + [f"Caller {n:03d}" for n in range(EXTRA_CALLS - 2)]
    records = [
        CollectedCdr(
            Cdr(
                uuid=f"busy-{n}",
                direction=Direction.INBOUND if n % 10 == 0 else Direction.OUTBOUND,
                caller_number=f"416555{n:04d}" if n % 10 == 0 else "2112",
                caller_destination="5192229000" if n % 10 == 0 else "",
                destination_number="2112" if n % 10 == 0 else f"613555{n:04d}",
                start=start - timedelta(minutes=7 * n),
                billsec=15 + 11 * n,
            ),
            domain="mcon.wat7.ictvoip.ca",
            caller_name=name,
            hangup_cause="NORMAL_CLEARING",
        )
        for n, name in enumerate(names)
    ]
    _store(url, service, records)


def _trunk_calls(url: str, service: Service) -> None:
    """Store three calls yesterday on the demo's LesNet trunk (the demo stores none for it)."""
    start = datetime.combine(whmcs_today(utc_now(), UTC_ZONE) - timedelta(days=1), time(9), UTC)
    records = [
        CollectedCdr(
            Cdr(
                uuid=f"trunk-{n}",
                direction=Direction.OUTBOUND,
                caller_number="12046664021",
                caller_destination="",
                destination_number=f"1416555{n:04d}",
                start=start + timedelta(minutes=5 * n),
                billsec=60 + 30 * n,
            ),
            domain="D4E3CD2BFC791",
        )
        for n in range(3)
    ]
    _store(url, service, records)


def _store(url: str, service: Service, records: list[CollectedCdr]) -> None:
    """Store ``records`` under ``service`` in the demo database at ``url``."""
    assert service.server is not None
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            store_cdrs(conn, service.server.id, records, now=utc_now(), service_id=service.id)
    finally:
        engine.dispose()


@pytest.fixture(name="site", scope="module")
def _site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Service, str]]:
    """The demo preview served on 127.0.0.1: (base URL, the busy service, database URL)."""
    folder = tmp_path_factory.mktemp("demo")
    url = build_demo_database(folder / "voipbridge.db", today=whmcs_today(utc_now(), UTC_ZONE))
    service = _demo_service(str(url), "fusionpbx")
    _busy_month(str(url), service)
    _trunk_calls(str(url), _demo_service(str(url), "lesnet"))
    settings = Settings(database_url=url, database_configured=True)
    with serve(create_app(settings, extra_routes=preview_routes())) as served:
        yield served.url, service, str(url)


@pytest.fixture(name="browser", scope="module")
def _browser() -> Iterator[Browser]:
    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(name="page")
def _page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    yield page
    context.close()
    assert dialogs == [], "a caller name ran as script"


def _shoot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")  # noqa: T201  (the closing note lists these paths)
    return path


def _column(page: Page, css: str) -> list[str]:
    return [
        text.strip() for text in page.locator(f"table.vb-calls-table tbody {css}").all_inner_texts()
    ]


class TestInTheBrowser:
    def test_page_renders_with_chart_and_inert_names(
        self, page: Page, site: tuple[str, Service, str]
    ) -> None:
        """From the index to the service: table, summary, a visible chart, names as text."""
        base, service, _url = site
        page.goto(f"{base}/demo/client-area")
        page.click(f'a[href="/demo/client-area/{service.id}"]')

        root = page.locator(f'div.voipbridge-client-area[data-service="{service.id}"]')
        expect(root).to_be_visible()
        expect(page.locator(".vb-preview-banner")).to_contain_text("Preview")
        expect(page.locator("svg.vb-chart")).to_be_visible()
        heights = [float(h or 0) for h in page.locator("rect.vb-bar").evaluate_all(
            "bars => bars.map(b => b.getAttribute('height'))")]  # fmt: skip
        assert sum(1 for h in heights if h > 0) >= 2
        expect(page.locator("table.vb-calls-table tbody tr")).to_have_count(50)
        expect(page.locator(".vb-matching")).to_contain_text("page 1 of 3")
        _shoot(page, "calls")

        page.fill("input[name=vbq]", "<script>")
        page.click("button:has-text('Filter')")
        expect(page.locator("td.vb-name")).to_have_text([HOSTILE_NAME])
        _shoot(page, "hostile-name")

    def test_sorting_search_filter_and_pages(
        self, page: Page, site: tuple[str, Service, str]
    ) -> None:
        """Sort links order the rows, the filter and search narrow them, pages move on."""
        base, service, _url = site
        page.goto(f"{base}/demo/client-area/{service.id}")

        page.click("a[data-vb-sort=duration]")
        durations = _column(page, "td.vb-num:nth-child(5)")
        assert page.url.endswith("vbsort=duration") or "vbsort=duration" in page.url
        seconds = [_seconds(d) for d in durations]
        assert seconds == sorted(seconds, reverse=True)
        page.click("a[data-vb-sort=duration]")
        ascending = [_seconds(d) for d in _column(page, "td.vb-num:nth-child(5)")]
        assert ascending == sorted(ascending)

        page.select_option("select[name=vbtype]", "inbound")
        page.click("button:has-text('Filter')")
        assert set(_column(page, "td:nth-child(2)")) == {"Inbound"}

        page.goto(f"{base}/demo/client-area/{service.id}")
        first = _column(page, "td.vb-number")
        page.click("a[rel=next]")
        expect(page.locator(".vb-matching")).to_contain_text("page 2 of 3")
        assert set(_column(page, "td.vb-number")).isdisjoint(first)

        page.fill("input[name=vbq]", "Caller 042")
        page.click("button:has-text('Filter')")
        expect(page.locator("td.vb-name")).to_have_text(["Caller 042"])
        _shoot(page, "search")

    def test_period_selector_submits_itself(
        self, page: Page, site: tuple[str, Service, str]
    ) -> None:
        """Choosing an older period reloads the page for it (JavaScript submits the form)."""
        base, service, _url = site
        page.goto(f"{base}/demo/client-area/{service.id}")
        older = list_service_periods(service, whmcs_today(utc_now(), UTC_ZONE))[1]

        expect(page.locator("[data-vb-submit]")).to_be_hidden()
        with page.expect_navigation():
            page.select_option("select[name=vbperiod]", older.start.isoformat())

        assert f"vbperiod={older.start.isoformat()}" in page.url
        expect(page.locator("select[name=vbperiod]")).to_have_value(older.start.isoformat())

    def test_csv_download_parses_back_to_the_same_rows_and_totals(
        self, page: Page, site: tuple[str, Service, str], tmp_path: Path
    ) -> None:
        """The downloaded CSV has every call of the period and the costs usage computes."""
        base, service, url = site
        page.goto(f"{base}/demo/client-area/{service.id}")
        shown = int(page.locator(".vb-calls").inner_text())

        with page.expect_download() as waiting:
            page.click("a.vb-export")
        download = waiting.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)

        rows = list(csv.DictReader(io.StringIO(saved.read_bytes().decode("utf-8-sig"))))
        assert download.suggested_filename.startswith(f"calls-{service.id}-")
        assert len(rows) == shown
        assert {HOSTILE_NAME, "'" + FORMULA_NAME} <= {row["Caller name"] for row in rows}
        period = list_service_periods(service, whmcs_today(utc_now(), UTC_ZONE))[0]
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                usage = rate_service_usage(conn, service, period, plans=RatePlans(), zone=UTC_ZONE)
        finally:
            engine.dispose()
        assert sum(Decimal(row["Cost"]) for row in rows) == sum(c.cost for c in usage.result.calls)

    @pytest.mark.parametrize("module", ["fusionpbx", "vodia", "lesnet"])
    def test_every_modules_service_in_the_browser(
        self, page: Page, site: tuple[str, Service, str], module: str
    ) -> None:
        """Each VoIP module's demo service: its calls, summary, chart, rates and CSV in Chromium."""
        base, _service, url = site
        service = _demo_service(url, module)
        page.goto(f"{base}/demo/client-area/{service.id}")

        expect(page.locator(f'[data-service="{service.id}"]')).to_be_visible()
        shown = int(page.locator(".vb-calls").inner_text())
        expect(page.locator("table.vb-calls-table tbody tr")).to_have_count(min(shown, 50))
        expect(page.locator("svg.vb-chart")).to_be_visible()
        _shoot(page, f"calls-{module}")
        with page.expect_download() as waiting:
            page.click("a.vb-export")
        saved = waiting.value.path()
        rows = list(csv.DictReader(io.StringIO(saved.read_bytes().decode("utf-8-sig"))))
        page.click("a:has-text('Call Rates')")

        assert shown > 0
        assert len(rows) == shown
        expect(page.locator(".vb-terms")).to_contain_text("Package:")

    def test_a_service_not_shown_is_refused_with_nothing_shown(
        self, page: Page, site: tuple[str, Service, str]
    ) -> None:
        """A service id the preview does not offer (none, or not VoIP) is a 403 with no calls."""
        base, _service, _url = site

        refused = [page.goto(f"{base}/demo/client-area/{number}") for number in (999, 0)]

        assert [response.status if response else None for response in refused] == [403, 403]
        expect(page.locator("table.vb-calls-table")).to_have_count(0)
        expect(page.locator(".voipbridge-client-area[data-service]")).to_have_count(0)

    def test_call_rates_tab(self, page: Page, site: tuple[str, Service, str]) -> None:
        """The Call Rates tab finds a destination by name and shows the package terms."""
        base, service, _url = site
        page.goto(f"{base}/demo/client-area/{service.id}")
        page.click("a.nav-link:has-text('Call Rates')")
        page.fill("input[name=vbrq]", "jamaica")
        page.click("button:has-text('Search')")

        expect(page.locator("table.vb-rates-table tbody tr")).to_have_count(1)
        expect(page.locator("table.vb-rates-table")).to_contain_text("Jamaica")
        expect(page.locator(".vb-terms")).to_contain_text("Free minutes")
        _shoot(page, "call-rates")

    def test_readable_on_a_phone_and_usable_without_javascript(
        self, browser: Browser, site: tuple[str, Service, str]
    ) -> None:
        """At phone width nothing scrolls sideways, costs are in view, links sort without JS."""
        base, service, _url = site
        context = browser.new_context(
            viewport={"width": 375, "height": 800}, java_script_enabled=False
        )
        try:
            page = context.new_page()
            page.goto(f"{base}/demo/client-area/{service.id}")
            width = page.evaluate("document.documentElement.scrollWidth")
            cost = page.locator("td.vb-cost").first.bounding_box()
            frame = page.locator(".vb-calls-table").locator("xpath=..").bounding_box()
            expect(page.locator("[data-vb-submit]")).to_be_visible()
            _shoot(page, "phone-no-js")
            page.click("a[data-vb-sort=cost]")
            assert "vbsort=cost" in page.url
        finally:
            context.close()
        assert width <= 375
        # The cost is what a client looks for: it must show without scrolling the table sideways
        # (the table's scrolling frame would clip it, so the page itself never grows).
        assert cost is not None
        assert frame is not None
        assert cost["x"] + cost["width"] <= frame["x"] + frame["width"]


def _seconds(text: str) -> int:
    parts = [int(p) for p in text.split(":")]
    return sum(value * 60**power for power, value in enumerate(reversed(parts)))
