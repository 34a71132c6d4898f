"""autosuspend: the truth table, the PBX asked first, WHMCS changed only once it confirmed."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.jobs.base import JobReport
from bridge.settings import Settings
from bridge.store.servers import save_server_settings
from bridge.usecases.autosuspend import Target, decide
from bridge.usecases.mail import list_outbox
from bridge.usecases.voip_state import MANUAL_REASON, ZERO_BALANCE_REASON
from bridge.whmcs import seeding
from bridge.whmcs.customfields import get_client_field
from bridge.whmcs.services import ServiceStatus, get_service
from bridge.whmcs.standings import Standing
from bridge.whmcs.tables import clients, hosting, servers
from tests.factories.whmcs import make_field_value, make_voip_client_fields
from tests.fakes import Switchboard
from tests.fakes.fusionpbx import FakeFusionPbx
from tests.jobs.billing_data import BillingData
from tests.jobs.conftest import RunJob

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
KEY = Secret(base64.urlsafe_b64encode(b"s" * 32).decode())


def _standing(credit: str, due: str = "0", **fields: str) -> Standing:
    return Standing(1, Decimal(credit), Decimal(due), "CAD", fields)


class TestTruthTable:
    @pytest.mark.parametrize(
        ("credit", "due", "fields", "target"),
        [
            ("50.00", "0", {"Manual VoIP Suspend": "Yes"}, Target.SUSPENDED),
            (
                "0.00",
                "90",
                {"Manual VoIP Suspend": "Yes", "VoIP Suspended": "No"},
                Target.SUSPENDED,
            ),
            ("0.00", "90", {"VoIP Suspended": "No"}, Target.ACTIVE),
            ("-5.00", "0", {"Manual VoIP Suspend": "No", "VoIP Suspended": "No"}, Target.ACTIVE),
            ("0.00", "0", {}, Target.SUSPENDED),
            ("-0.01", "0", {"VoIP Suspended": "None"}, Target.SUSPENDED),
            ("10.00", "10.01", {"VoIP Suspended": "Yes"}, Target.SUSPENDED),
            ("0.01", "0", {"VoIP Suspended": "Yes"}, Target.ACTIVE),
            ("10.00", "0", {}, Target.ACTIVE),
            ("10.00", "10.00", {"VoIP Suspended": "Yes"}, Target.KEEP),
            ("10.00", "0.01", {}, Target.KEEP),
        ],
    )
    def test_every_row(self, credit: str, due: str, fields: dict[str, str], target: Target) -> None:
        """Manual first, then the admin's override, then credit and due balance, with a band."""
        assert decide(_standing(credit, due, **fields)).target is target


@pytest.fixture(name="pbx")
def _pbx(
    conn: Connection, data: BillingData, switchboard: Switchboard, settings: Settings
) -> Iterator[FakeFusionPbx]:
    """The data set's FusionPBX served by a fake, with each client's tenant on it."""
    fake = FakeFusionPbx()
    for name in data.clients:
        fake.add_tenant(f"{name}.pbx.test", ("2112",))
    with switchboard.plug(fake.app) as served:
        conn.execute(
            servers.update()
            .where(servers.c.id == data.server)
            .values(hostname=served.host, port=served.port, secure="", username=fake.username)
        )
        save_server_settings(
            conn, data.server, key=KEY, now=NOW, secret_values={"api_password": fake.password}
        )
        yield fake


@pytest.fixture(name="voip")
def _voip(conn: Connection, data: BillingData) -> dict[str, int]:
    """The four VoIP client fields, "Has VoIP Service" Yes for everyone, and the two templates."""
    fields = make_voip_client_fields(conn)
    for client in data.clients.values():
        make_field_value(conn, fields["Has VoIP Service"], client, "Yes")
    for name in ("VoIP Zero Balance", "Low Balance Alert"):
        seeding.insert_email_template(conn, name=name, subject=name, message="Hello {$client_name}")
    return fields


@pytest.fixture(name="keyed")
def _keyed(run: RunJob, settings: Settings) -> RunJob:
    """Run jobs with the encryption key the PBX password is stored under."""
    keyed_settings = dataclasses.replace(settings, encryption_key=KEY)

    def run_keyed(name: str, now: datetime, **options: object) -> JobReport:
        return run(name, now, settings=keyed_settings, **options)

    return run_keyed


def _status(conn: Connection, service: int) -> tuple[ServiceStatus, str]:
    found = get_service(conn, service)
    return found.status, found.suspend_reason


def _zero_balance_mail(conn: Connection, client: int) -> list[str]:
    return [
        e.dedupe_key for e in list_outbox(conn, client_id=client) if "zero-balance" in e.dedupe_key
    ]


class TestAutosuspend:
    def test_a_client_without_credit_is_suspended_on_the_pbx_then_in_whmcs_mailed_once(
        self,
        conn: Connection,
        data: BillingData,
        pbx: FakeFusionPbx,
        voip: dict[str, int],
        keyed: RunJob,
    ) -> None:
        """Eve has 0.00: her extension and gateway are disabled, then WHMCS says so, one mail."""
        eve, service = data.clients["eve"], data.services["eve"]

        first = keyed("autosuspend", NOW)
        second = keyed("autosuspend", NOW + timedelta(minutes=5))

        assert pbx.extensions[("eve.pbx.test", "2112")] is False
        assert pbx.gateways[("eve.pbx.test", "eve.pbx.test")] is False
        assert _status(conn, service) == (ServiceStatus.SUSPENDED, ZERO_BALANCE_REASON)
        assert get_client_field(conn, eve, "VoIP Suspended") == "Yes"
        assert len(_zero_balance_mail(conn, eve)) == 1
        assert first.counts["services_suspended"] == 1
        assert first.emails_queued == 1
        assert second.counts.get("services_suspended", 0) == 0

    def test_a_pbx_that_fails_leaves_whmcs_unchanged_and_the_next_run_succeeds(
        self,
        conn: Connection,
        data: BillingData,
        pbx: FakeFusionPbx,
        voip: dict[str, int],
        keyed: RunJob,
    ) -> None:
        """While the PBX answers 500 the service stays Active in WHMCS; once it is back, done."""
        service = data.services["eve"]
        pbx.failure = "error_500"

        failed = keyed("autosuspend", NOW)
        during = _status(conn, service)
        pbx.failure = None
        keyed("autosuspend", NOW + timedelta(minutes=5))

        assert during == (ServiceStatus.ACTIVE, "")
        assert failed.errors[0].subject == f"service #{service} (client #{data.clients['eve']})"
        assert "will retry" in failed.errors[0].message
        assert _status(conn, service) == (ServiceStatus.SUSPENDED, ZERO_BALANCE_REASON)
        assert len(_zero_balance_mail(conn, data.clients["eve"])) == 1

    def test_a_client_who_tops_up_is_unsuspended_and_a_new_suspension_mails_again(
        self,
        conn: Connection,
        data: BillingData,
        pbx: FakeFusionPbx,
        voip: dict[str, int],
        keyed: RunJob,
    ) -> None:
        """After a top-up it is enabled again and the field cleared; the next zero mails again."""
        eve, service = data.clients["eve"], data.services["eve"]
        keyed("autosuspend", NOW)
        conn.execute(clients.update().where(clients.c.id == eve).values(credit=Decimal("25.00")))

        keyed("autosuspend", NOW + timedelta(minutes=5))
        back = (_status(conn, service), get_client_field(conn, eve, "VoIP Suspended"))
        conn.execute(clients.update().where(clients.c.id == eve).values(credit=Decimal("0.00")))
        keyed("autosuspend", NOW + timedelta(minutes=10))

        assert back == ((ServiceStatus.ACTIVE, ""), "None")
        assert pbx.extensions[("eve.pbx.test", "2112")] is False
        assert len(_zero_balance_mail(conn, eve)) == 2

    def test_manual_suspend_suspends_a_paying_client_without_mail(
        self,
        conn: Connection,
        data: BillingData,
        pbx: FakeFusionPbx,
        voip: dict[str, int],
        keyed: RunJob,
    ) -> None:
        """Manual VoIP Suspend = Yes suspends Anna (50.00 credit) with its own reason, no mail."""
        anna = data.clients["anna"]
        make_field_value(conn, voip["Manual VoIP Suspend"], anna, "Yes")

        keyed("autosuspend", NOW)

        assert _status(conn, data.services["anna"]) == (ServiceStatus.SUSPENDED, MANUAL_REASON)
        assert _zero_balance_mail(conn, anna) == []

    def test_the_admins_override_unsuspends_and_keeps_the_field(
        self,
        conn: Connection,
        data: BillingData,
        pbx: FakeFusionPbx,
        voip: dict[str, int],
        keyed: RunJob,
    ) -> None:
        """VoIP Suspended = No (an admin) unsuspends Eve despite 0.00 credit; the No stays."""
        eve, service = data.clients["eve"], data.services["eve"]
        keyed("autosuspend", NOW)
        conn.execute(
            text("UPDATE tblcustomfieldsvalues SET value = 'No' WHERE fieldid = :f AND relid = :c"),
            {"f": voip["VoIP Suspended"], "c": eve},
        )

        keyed("autosuspend", NOW + timedelta(minutes=5))

        assert _status(conn, service) == (ServiceStatus.ACTIVE, "")
        assert get_client_field(conn, eve, "VoIP Suspended") == "No"

    def test_services_suspended_for_other_reasons_are_left_alone(
        self,
        conn: Connection,
        data: BillingData,
        pbx: FakeFusionPbx,
        voip: dict[str, int],
        keyed: RunJob,
    ) -> None:
        """Anna pays, but WHMCS suspended her service for an overdue invoice: it stays suspended."""
        service = data.services["anna"]
        conn.execute(
            hosting.update()
            .where(hosting.c.id == service)
            .values(domainstatus="Suspended", suspendreason="Overdue on Payment")
        )

        keyed("autosuspend", NOW)

        assert _status(conn, service) == (ServiceStatus.SUSPENDED, "Overdue on Payment")
        assert not [r for r in pbx.requests if "anna" in r.form.get("domain", "")]

    def test_a_dry_run_asks_no_pbx_and_writes_nothing(
        self,
        conn: Connection,
        data: BillingData,
        pbx: FakeFusionPbx,
        voip: dict[str, int],
        keyed: RunJob,
    ) -> None:
        """--dry-run reports who would be suspended; the PBX and WHMCS are untouched."""
        report = keyed("autosuspend", NOW, dry_run=True)

        assert report.counts["services_suspended"] == 1
        assert _status(conn, data.services["eve"]) == (ServiceStatus.ACTIVE, "")
        assert pbx.requests == []
        assert (
            conn.execute(
                select(text("count(*)")).select_from(text("mod_voipbridge_outbox"))
            ).scalar_one()
            == 0
        )
