"""daily: the Low Balance Alert, at most once per WHMCS calendar day, per client at or below."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Connection

from bridge.jobs.daily import parse_threshold
from bridge.settings import MailSettings, Settings
from bridge.usecases.mail import list_outbox
from bridge.whmcs import seeding
from tests.factories.whmcs import make_field_value, make_voip_client_fields
from tests.jobs.billing_data import BillingData
from tests.jobs.conftest import RunJob

MORNING = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)


@pytest.fixture(name="thresholds")
def _thresholds(conn: Connection, data: BillingData) -> dict[str, int]:
    """Dev (5.00 credit) and Eve (0.00) have a threshold of 10; Anna (50.00) too; Ben has none."""
    fields = make_voip_client_fields(conn)
    for name in ("anna", "dev", "eve"):
        make_field_value(conn, fields["Low Balance Threshold"], data.clients[name], "10")
    seeding.insert_email_template(
        conn, name="Low Balance Alert", subject="Low balance", message="{$client_credit}"
    )
    return fields


def _alerts(conn: Connection) -> list[str]:
    return sorted(entry.dedupe_key for entry in list_outbox(conn))


class TestDaily:
    def test_clients_at_or_below_their_threshold_get_one_alert_a_day(
        self, conn: Connection, data: BillingData, thresholds: dict[str, int], run: RunJob
    ) -> None:
        """Dev and Eve are alerted once today, however often it runs, and again tomorrow."""
        first = run("daily", MORNING)
        run("daily", MORNING + timedelta(hours=3))
        run("daily", MORNING + timedelta(days=1))

        dev, eve = data.clients["dev"], data.clients["eve"]
        assert _alerts(conn) == sorted(
            f"low-balance:{client}:{day}"
            for client in (dev, eve)
            for day in ("2026-11-20", "2026-11-21")
        )
        assert first.emails_queued == 2

    def test_the_day_is_whmcs_calendar_day(
        self,
        conn: Connection,
        data: BillingData,
        thresholds: dict[str, int],
        run: RunJob,
        settings: Settings,
    ) -> None:
        """At 02:00 UTC it is still the day before in Toronto; the key says Toronto's date."""
        toronto = dataclasses.replace(settings, timezone=ZoneInfo("America/Toronto"))

        run("daily", datetime(2026, 11, 21, 2, 0, tzinfo=UTC), settings=toronto)

        assert {key.rsplit(":", 1)[1] for key in _alerts(conn)} == {"2026-11-20"}

    def test_a_threshold_that_is_not_an_amount_is_reported_and_the_rest_alerted(
        self, conn: Connection, data: BillingData, thresholds: dict[str, int], run: RunJob
    ) -> None:
        """Ben's "ten" is named in the report; Dev and Eve are still alerted."""
        make_field_value(conn, thresholds["Low Balance Threshold"], data.clients["ben"], "ten")

        report = run("daily", MORNING)

        assert [error.subject for error in report.errors] == [f"client #{data.clients['ben']}"]
        assert "'ten' is not an amount" in report.errors[0].message
        assert report.emails_queued == 2

    def test_a_missing_template_is_one_reported_error(
        self, conn: Connection, data: BillingData, run: RunJob
    ) -> None:
        """Without a "Low Balance Alert" template the run says so once and queues nothing."""
        fields = make_voip_client_fields(conn)
        for name in ("dev", "eve"):
            make_field_value(conn, fields["Low Balance Threshold"], data.clients[name], "10")

        report = run("daily", MORNING)

        assert [error.subject for error in report.errors] == ["template 'Low Balance Alert'"]
        assert _alerts(conn) == []

    def test_queued_alerts_are_delivered_after_the_run(
        self,
        conn: Connection,
        data: BillingData,
        thresholds: dict[str, int],
        run: RunJob,
        settings: Settings,
        tmp_path: Path,
    ) -> None:
        """With the file transport, the two alerts are written out once the run committed."""
        mail = dataclasses.replace(
            settings, mail=MailSettings(transport="file", outbox_dir=tmp_path)
        )

        report = run("daily", MORNING, settings=mail)

        assert report.counts["emails_sent"] == 2
        assert len(list(tmp_path.glob("*.eml"))) == 2

    @pytest.mark.parametrize(
        ("text", "amount"),
        [
            ("10", "10"),
            ("10.50", "10.50"),
            ("$10", "10"),
            ("£ 1,000.00", "1000.00"),
            ("ten", None),
            ("-5", None),
            ("1e9", None),
        ],
    )
    def test_thresholds_as_admins_type_them(self, text: str, amount: str | None) -> None:
        """Plain amounts, with a currency sign or thousands commas, are read; the rest refused."""
        assert parse_threshold(text) == (Decimal(amount) if amount else None)
