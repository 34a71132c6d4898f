"""POST /v1/cron/JOB: signed cron runs of the billing jobs, answering the job's report."""

from __future__ import annotations

import json
from typing import Any

from freezegun import freeze_time
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from starlette.testclient import TestClient

from bridge.store.tables import billed_calls
from tests.jobs.billing_data import seed_billing_data
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
