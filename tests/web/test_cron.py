"""POST /v1/cron/JOB: signed cron runs of the billing jobs, answering the job's report."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun import freeze_time
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from starlette.testclient import TestClient

from bridge.app import create_app
from bridge.db import BoundDatabase
from bridge.settings import Settings
from bridge.store.tables import billed_calls, cdrs, postings
from bridge.store.tariffs import import_tariff
from bridge.usecases.mail import list_outbox
from bridge.whmcs import seeding
from bridge.whmcs.tables import billable_items
from tests.factories.pbx_service import KEY, fusionpbx_cdr, fusionpbx_world
from tests.factories.whmcs import make_field_value, make_voip_client_fields
from tests.fakes import Switchboard
from tests.jobs.billing_data import RATE_CARD, seed_billing_data
from tests.web.signing_helpers import signing_headers


def _cron(http: TestClient, job: str, payload: Any = None) -> Any:
    path = f"/v1/cron/{job}"
    body = b"" if payload is None else json.dumps(payload).encode()
    return http.post(path, content=body, headers=signing_headers(path, body))


class TestCron:
    def test_a_signed_cron_call_runs_the_job_and_answers_its_report(
        self, http: TestClient, conn: Connection
    ) -> None:
        """autobill on the due date bills the due services; the answer is the job's report."""
        seed_billing_data(conn)
        with freeze_time("2026-12-01 00:55:00"):
            answer = _cron(http, "autobill")

        report = answer.json()["result"]
        assert answer.status_code == 200
        assert (report["job"], report["ok"], report["dry_run"]) == ("autobill", True, False)
        assert report["counts"]["services_billed"] == 4
        assert set(report["money"]) == {"CAD", "GBP"}
        billed = conn.execute(select(func.count()).select_from(billed_calls)).scalar_one()
        assert billed > 0

    def test_a_dry_run_writes_nothing(self, http: TestClient, conn: Connection) -> None:
        """{"dry_run": true} reports the money and leaves the ledger empty."""
        seed_billing_data(conn)
        with freeze_time("2026-12-01 00:55:00"):
            answer = _cron(http, "autobill", {"dry_run": True})

        assert answer.json()["result"]["summary"].startswith("dry run, nothing written")
        assert conn.execute(select(func.count()).select_from(billed_calls)).scalar_one() == 0

    def test_php_empty_array_and_options_are_accepted(self, http: TestClient) -> None:
        """An empty PHP array ([]) is no options; a service id narrows the run."""
        assert _cron(http, "realtime", []).status_code == 200
        assert _cron(http, "realtime", {"service": 99}).json()["result"]["ok"] is True

    def test_unknown_job_and_bad_options_are_refused(self, http: TestClient) -> None:
        """An unknown job is a 404 and bad options a 422, each with a message."""
        unknown = _cron(http, "payroll")
        bad = _cron(http, "autobill", {"dry_run": "yes"})

        assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_action")
        assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_request")

    def test_unsigned_calls_are_refused(self, http: TestClient) -> None:
        """Without the shim's signature no job runs."""
        answer = http.post("/v1/cron/autobill", content=b"")

        assert answer.status_code == 401


class TestCronJobs:
    def test_collect_stores_the_pbxs_new_calls_once(
        self, settings: Settings, conn: Connection, switchboard: Switchboard
    ) -> None:
        """collect pulls the fake FusionPBX's calls into the store; a second call adds none."""
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        keyed = dataclasses.replace(settings, encryption_key=KEY)
        with fusionpbx_world(conn, switchboard, "") as world:
            world.pbx.cdrs = [
                fusionpbx_cdr(f"collect-{n}", an_hour_ago + timedelta(minutes=n)) for n in range(3)
            ]
            with TestClient(create_app(keyed, database=BoundDatabase(conn))) as http:
                first = _cron(http, "collect").json()["result"]
                second = _cron(http, "collect").json()["result"]

        stored = conn.execute(
            select(func.count()).select_from(cdrs).where(cdrs.c.service_id == world.service_id)
        ).scalar_one()
        assert (first["job"], first["ok"], second["ok"]) == ("collect", True, True)
        assert (first["counts"]["calls_stored"], second["counts"]["calls_stored"]) == (3, 0)
        assert first["summary"].startswith("3 new call(s) stored")
        assert stored == 3

    def test_daily_queues_the_low_balance_alert(self, http: TestClient, conn: Connection) -> None:
        """daily queues one Low Balance Alert per client at or below the threshold, once a day."""
        data = seed_billing_data(conn)
        fields = make_voip_client_fields(conn)
        for name in ("anna", "dev", "eve"):
            make_field_value(conn, fields["Low Balance Threshold"], data.clients[name], "10")
        seeding.insert_email_template(
            conn, name="Low Balance Alert", subject="Low balance", message="{$client_credit}"
        )
        with freeze_time("2026-11-20 13:00:00"):
            first = _cron(http, "daily").json()["result"]
            again = _cron(http, "daily").json()["result"]

        keys = sorted(entry.dedupe_key for entry in list_outbox(conn))
        assert (first["job"], first["ok"], first["emails_queued"]) == ("daily", True, 2)
        assert again["emails_queued"] == 0
        assert keys == sorted(
            f"low-balance:{data.clients[name]}:2026-11-20" for name in ("dev", "eve")
        )

    def test_rerate_posts_the_difference_once(self, http: TestClient, conn: Connection) -> None:
        """rerate after a rate rise posts one billable item for the difference, and no more."""
        data = seed_billing_data(conn)
        anna, period = data.services["anna"], "2026-11-01..2026-12-01"
        with freeze_time("2026-12-01 00:55:00"):
            assert _cron(http, "autobill").json()["result"]["ok"] is True
        card = RATE_CARD.replace("USA/Canada,1,0.0100,6", "USA/Canada,1,0.0170,6")
        import_tariff(
            conn, "Test Tariff", card.splitlines(keepends=True), source="fix", now=datetime.now(UTC)
        )
        items_before = self._items(conn, data.clients["anna"])
        with freeze_time("2026-12-03 10:00:00"):
            first = _cron(http, "rerate", {"service": anna, "period": period}).json()["result"]
            second = _cron(http, "rerate", {"service": anna, "period": period}).json()["result"]

        items = self._items(conn, data.clients["anna"])
        posted = (
            conn.execute(select(postings.c.amount).where(postings.c.job == "rerate"))
            .scalars()
            .all()
        )
        assert (first["job"], first["ok"]) == ("rerate", True)
        assert " billed " in first["summary"]
        assert second["summary"].endswith("nothing to post CAD")
        assert len(items) == len(items_before) + 1
        assert "(adjusts tblbillableitems #" in items[-1]
        assert [str(amount) for amount in posted] == [first["money"]["CAD"]]

    @staticmethod
    def _items(conn: Connection, client_id: int) -> list[str]:
        return list(
            conn.execute(
                select(billable_items.c.description)
                .where(billable_items.c.userid == client_id)
                .order_by(billable_items.c.id)
            ).scalars()
        )
