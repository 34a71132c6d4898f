"""Alerts through the outbox: queued once per key, delivered after commit, retried until sent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection

from bridge.db import BoundDatabase
from bridge.demo import LOW_BALANCE_ALERT, VOIP_ZERO_BALANCE
from bridge.errors import (
    ClientNotFound,
    EmailTemplateDisabled,
    EmailTemplateNotFound,
    InvalidRequest,
)
from bridge.mail.transports import SmtpTransport, WhmcsApiTransport
from bridge.modules.whmcs_api import WhmcsApiCredentials
from bridge.settings import MailSettings, Settings
from bridge.store import outbox
from bridge.usecases.mail import (
    GIVE_UP_AFTER,
    backoff,
    deliver_mail,
    deliver_outbox,
    list_outbox,
    queue_mail,
    render_entry,
)
from bridge.whmcs.tables import clients, email_templates, emails
from tests.factories.whmcs import (
    make_client,
    make_client_field,
    make_currency,
    make_email_template,
    make_field_value,
    make_invoice,
    make_voip_client_fields,
)
from tests.fakes import Served, Switchboard, free_port
from tests.fakes.smtp import Inbox, smtp_server
from tests.fakes.whmcs_api import API_PATH, IDENTIFIER, SECRET, FakeWhmcsApi

NOW = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
TORONTO = ZoneInfo("America/Toronto")
LOW = "Low Balance Alert"
ZERO = "VoIP Zero Balance"


@dataclass(frozen=True)
class Alerted:
    """A client who owes more than their credit, with the two alert templates in WHMCS."""

    client_id: int
    key: str


@pytest.fixture(name="dave")
def _dave(conn: Connection) -> Alerted:
    currency = make_currency(conn, code="CAD", prefix="$", suffix=" CAD", number_format=2)
    client_id = make_client(
        conn,
        currency_id=currency,
        firstname="Dave",
        lastname="O&#039;Neil",
        email="dave@customer.example",
        credit=Decimal("3.20"),
    )
    fields = make_voip_client_fields(conn)
    make_field_value(conn, fields["Has VoIP Service"], client_id, "Yes")
    make_field_value(conn, fields["Low Balance Threshold"], client_id, "5")
    make_invoice(conn, client_id, Decimal("15.00"))
    make_email_template(
        conn, LOW, subject="Low balance, {$client_first_name}", message=LOW_BALANCE_ALERT
    )
    make_email_template(
        conn, ZERO, subject="VoIP paused", message=VOIP_ZERO_BALANCE, plaintext=True
    )
    return Alerted(client_id, f"low-balance:{client_id}:2026-03-01")


@pytest.fixture(name="whmcs")
def _whmcs(dave: Alerted) -> FakeWhmcsApi:
    return FakeWhmcsApi(clients={dave.client_id})


@pytest.fixture(name="served")
def _served(switchboard: Switchboard, whmcs: FakeWhmcsApi) -> Iterator[Served]:
    with switchboard.plug(whmcs.app()) as served:
        yield served


def _api(served: Served, secret: str = SECRET) -> WhmcsApiTransport:
    url = served.url + API_PATH
    return WhmcsApiTransport(WhmcsApiCredentials(url=url, identifier=IDENTIFIER, secret=secret))


def _smtp(port: int) -> SmtpTransport:
    return SmtpTransport("127.0.0.1", port=port, security="none", sender="billing@example.net")


def _entry(conn: Connection, key: str) -> outbox.OutboxEntry:
    entry = outbox.get_entry(conn, key)
    assert entry is not None
    return entry


class TestQueueMail:
    def test_queued_with_a_snapshot_of_the_clients_facts(
        self, conn: Connection, dave: Alerted
    ) -> None:
        """The merge fields are those at the decision; a later top-up does not change them."""
        assert queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW)
        conn.execute(
            clients.update().where(clients.c.id == dave.client_id).values(credit=Decimal("50"))
        )

        entry = _entry(conn, dave.key)
        assert entry.template_name == LOW
        assert entry.client_id == dave.client_id
        assert entry.merge_fields["client_name"] == "Dave O'Neil"
        assert entry.merge_fields["client_credit"] == "3.20"
        assert entry.merge_fields["client_due_invoices_balance"] == "$15.00 CAD"
        assert entry.merge_fields["client_custom_field_lowbalancethreshold"] == "5"
        assert entry.merge_fields["client_custom_field_voipsuspended"] == ""

    def test_a_key_is_queued_once_even_after_it_was_sent(
        self, conn: Connection, database: BoundDatabase, dave: Alerted
    ) -> None:
        """Queueing the same alert again is a no-op returning False, before and after delivery."""
        assert queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW)
        assert not queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW + timedelta(hours=1))
        inbox = Inbox()
        with smtp_server(inbox) as port:
            deliver_outbox(database, _smtp(port), now=NOW, zone=TORONTO)

        assert not queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW + timedelta(hours=2))
        assert len(list_outbox(conn)) == 1
        assert len(inbox.received) == 1

    def test_missing_template_is_reported_and_nothing_is_queued(
        self, conn: Connection, dave: Alerted
    ) -> None:
        """A template WHMCS does not have is an error naming it, never a silent skip."""
        with pytest.raises(EmailTemplateNotFound, match="Low Balance Reminder"):
            queue_mail(conn, "Low Balance Reminder", dave.client_id, dave.key, now=NOW)

        assert list_outbox(conn) == []

    def test_disabled_template_is_reported_and_nothing_is_queued(
        self, conn: Connection, dave: Alerted
    ) -> None:
        """A disabled template is an error the job reports."""
        make_email_template(conn, "Credit Warning", disabled=True)

        with pytest.raises(EmailTemplateDisabled, match="Credit Warning"):
            queue_mail(conn, "Credit Warning", dave.client_id, dave.key, now=NOW)

        assert list_outbox(conn) == []

    def test_unknown_client_and_bad_key(self, conn: Connection, dave: Alerted) -> None:
        """A client WHMCS does not have, or a key that could be altered, queues nothing."""
        with pytest.raises(ClientNotFound):
            queue_mail(conn, LOW, dave.client_id + 999, "low-balance:x", now=NOW)
        with pytest.raises(InvalidRequest, match="ASCII"):
            queue_mail(conn, LOW, dave.client_id, "low-balance:Zoë", now=NOW)

        assert list_outbox(conn) == []

    def test_password_fields_are_not_merge_fields(self, conn: Connection, dave: Alerted) -> None:
        """A password-type client field (stored encrypted by WHMCS) never goes into a mail."""
        field = make_client_field(conn, "Portal Password", input_type="password")
        make_field_value(conn, field, dave.client_id, "ZW5jcnlwdGVk")

        queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW)

        assert "client_custom_field_portalpassword" not in _entry(conn, dave.key).merge_fields


class TestDeliverThroughWhmcsApi:
    def test_whmcs_down_keeps_the_mail_queued_and_it_goes_out_once_when_back(
        self,
        conn: Connection,
        database: BoundDatabase,
        dave: Alerted,
        whmcs: FakeWhmcsApi,
        served: Served,
    ) -> None:
        """Down: retried after 1 minute, not before; back: sent once, however often we run."""
        queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW)
        whmcs.fault = "down"

        first = deliver_outbox(database, _api(served), now=NOW, zone=TORONTO)
        early = deliver_outbox(
            database, _api(served), now=NOW + timedelta(seconds=30), zone=TORONTO
        )
        whmcs.fault = ""
        reports = [
            deliver_outbox(database, _api(served), now=NOW + timedelta(minutes=m), zone=TORONTO)
            for m in (1, 2, 60, 600)
        ]

        assert (first.sent, first.retrying, first.given_up) == ((), 1, 0)
        assert "503" in first.failures[0].error
        assert early.failures == ()
        assert early.sent == ()
        assert whmcs.calls == 2
        assert [report.sent for report in reports] == [(dave.key,), (), (), ()]
        (sent,) = whmcs.sent
        entry = _entry(conn, dave.key)
        assert sent.customvars == dict(entry.merge_fields)
        assert (entry.status, entry.attempts, entry.last_error) == (outbox.SENT, 2, "")

    def test_template_missing_in_whmcs_fails_for_good_and_is_reported(
        self,
        conn: Connection,
        database: BoundDatabase,
        dave: Alerted,
        whmcs: FakeWhmcsApi,
        served: Served,
    ) -> None:
        """WHMCS's 'Email Template not found' marks the message failed, with the reason."""
        queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW)
        whmcs.templates = set()

        report = deliver_outbox(database, _api(served), now=NOW, zone=TORONTO)
        later = deliver_outbox(database, _api(served), now=NOW + timedelta(days=1), zone=TORONTO)

        (failure,) = report.failures
        assert (failure.dedupe_key, failure.code, failure.will_retry) == (
            dave.key,
            "message_rejected",
            False,
        )
        assert "Email Template not found" in failure.error
        assert later.failures == ()
        assert whmcs.calls == 1
        assert _entry(conn, dave.key).status == outbox.FAILED

    def test_refused_credentials_keep_retrying_without_showing_the_secret(
        self,
        conn: Connection,
        database: BoundDatabase,
        dave: Alerted,
        whmcs: FakeWhmcsApi,
        served: Served,
    ) -> None:
        """Wrong credentials are fixed once by an admin: the mail waits, the error masks them."""
        queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW)
        whmcs.echo_secret = True
        wrong = "wrong-secret-abcdef0123"

        report = deliver_outbox(database, _api(served, wrong), now=NOW, zone=TORONTO)

        (failure,) = report.failures
        assert failure.will_retry
        assert failure.code == "provider_rejected"
        entry = _entry(conn, dave.key)
        assert entry.status == outbox.QUEUED
        assert "Authentication Failed" in entry.last_error
        assert wrong not in entry.last_error
        assert wrong not in failure.error

    def test_retries_back_off_and_give_up_after_three_days(
        self,
        conn: Connection,
        database: BoundDatabase,
        dave: Alerted,
        whmcs: FakeWhmcsApi,
        served: Served,
    ) -> None:
        """Waits double from 1 minute to at most 1 hour; three days on, the mail is given up."""
        queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW)
        whmcs.fault = "down"
        waits = []
        at = NOW
        for _ in range(8):
            deliver_outbox(database, _api(served), now=at, zone=TORONTO)
            due = _entry(conn, dave.key).next_attempt_at
            waits.append(due - at)
            at = due
        final = deliver_outbox(database, _api(served), now=NOW + GIVE_UP_AFTER, zone=TORONTO)

        assert [wait // timedelta(minutes=1) for wait in waits] == [1, 2, 4, 8, 16, 32, 60, 60]
        (failure,) = final.failures
        assert not failure.will_retry
        assert failure.error.startswith("Gave up after 9 attempts over 3 days")
        assert _entry(conn, dave.key).status == outbox.FAILED

    def test_unconfigured_transport_is_reported_and_mail_waits(
        self, conn: Connection, database: BoundDatabase, dave: Alerted
    ) -> None:
        """Without WHMCS API credentials nothing is tried and the report says what is missing."""
        queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW)
        settings = Settings(mail=MailSettings(whmcs_api_url="https://billing.example.net/x.php"))

        report = deliver_mail(database, settings, now=NOW)

        assert "BRIDGE_WHMCS_API_SECRET" in report.error
        assert report.sent == ()
        assert report.failures == ()
        entry = _entry(conn, dave.key)
        assert (entry.status, entry.attempts) == (outbox.QUEUED, 0)


def test_the_demo_transport_writes_files_and_never_the_network(
    conn: Connection, database: BoundDatabase, dave: Alerted, tmp_path: Path
) -> None:
    """With BRIDGE_MAIL_TRANSPORT=file each alert becomes one .eml file, rendered, sent once."""
    queue_mail(conn, ZERO, dave.client_id, f"zero-balance:{dave.client_id}:7", now=NOW)
    settings = Settings(mail=MailSettings(transport="file", outbox_dir=tmp_path / "outbox"))

    first = deliver_mail(database, settings, now=NOW)
    again = deliver_mail(database, settings, now=NOW + timedelta(hours=1))

    assert (first.transport, len(first.sent), again.sent) == ("file", 1, ())
    (path,) = (tmp_path / "outbox").iterdir()
    assert "Outstanding Balance: $15.00 CAD" in path.read_text()
    assert _entry(conn, f"zero-balance:{dave.client_id}:7").status == outbox.SENT


def test_backoff_is_capped_at_an_hour() -> None:
    """Attempt 1 waits a minute; the wait doubles and never exceeds an hour."""
    assert backoff(1) == timedelta(minutes=1)
    assert backoff(3) == timedelta(minutes=4)
    assert backoff(100) == timedelta(hours=1)


class TestDeliverOverSmtp:
    def test_smtp_down_then_back_delivers_once_and_logs_it_in_whmcs(
        self, conn: Connection, database: BoundDatabase, dave: Alerted
    ) -> None:
        """The bridge renders the template, sends it once the server is up, and logs it."""
        queue_mail(conn, ZERO, dave.client_id, f"zero-balance:{dave.client_id}:7", now=NOW)
        port = free_port()
        down = deliver_outbox(database, _smtp(port), now=NOW, zone=TORONTO)
        inbox = Inbox()
        with smtp_server(inbox, port=port):
            sent = [
                deliver_outbox(database, _smtp(port), now=NOW + timedelta(minutes=m), zone=TORONTO)
                for m in (1, 5, 90)
            ]

        assert down.retrying == 1
        assert "will retry" in down.failures[0].error
        assert [len(report.sent) for report in sent] == [1, 0, 0]
        (received,) = inbox.received
        body = received.message.get_content()
        assert "Dear Dave O'Neil," in body
        assert "Credit Balance: $3.20\n" in body
        assert "Outstanding Balance: $15.00 CAD\n" in body
        assert "Low Balance Threshold: $5.00\n" in body
        logged = conn.execute(select(emails).where(emails.c.userid == dave.client_id)).all()
        assert len(logged) == 1
        assert logged[0].subject == "VoIP paused"
        assert logged[0].to == "dave@customer.example"
        # 13:01 UTC is 08:01 in Toronto, the wall-clock time WHMCS stores.
        assert logged[0].date == datetime(2026, 3, 1, 8, 1)

    def test_french_client_gets_the_french_row_others_the_default(
        self, conn: Connection, database: BoundDatabase, dave: Alerted
    ) -> None:
        """Language picks the translation; a language with none falls back to the default."""
        make_email_template(
            conn,
            LOW,
            subject="Solde bas, {$client_first_name}",
            message="Bonjour",
            language="french",
        )
        currency = make_currency(conn, code="EUR", prefix="", suffix=" €", number_format=3)
        amelie = make_client(
            conn, currency_id=currency, firstname="Amélie", email="a@x.example", language="french"
        )
        hans = make_client(
            conn, currency_id=currency, firstname="Hans", email="h@x.example", language="german"
        )
        for client_id in (amelie, hans):
            queue_mail(conn, LOW, client_id, f"low-balance:{client_id}:2026-03-01", now=NOW)
        inbox = Inbox()
        with smtp_server(inbox) as port:
            deliver_outbox(database, _smtp(port), now=NOW, zone=TORONTO)

        subjects = {r.rcpt_tos[0]: r.message["Subject"] for r in inbox.received}
        assert subjects == {"a@x.example": "Solde bas, Amélie", "h@x.example": "Low balance, Hans"}

    def test_an_emoji_in_a_merge_field_breaks_nothing(
        self, conn: Connection, database: BoundDatabase, dave: Alerted
    ) -> None:
        """A 4-byte name is sent intact over SMTP and logged in WHMCS as an entity."""
        currency = make_currency(conn, code="CAD", prefix="$", suffix=" CAD")
        # WHMCS stores what a client types HTML-encoded; its utf8mb3 tables could not hold the
        # emoji itself.
        zoe = make_client(
            conn, currency_id=currency, firstname="Zo&euml; &#128640;", email="z@x.example"
        )
        queue_mail(conn, LOW, zoe, f"low-balance:{zoe}:2026-03-01", now=NOW)
        inbox = Inbox()
        with smtp_server(inbox) as port:
            report = deliver_outbox(database, _smtp(port), now=NOW, zone=TORONTO)

        assert len(report.sent) == 1
        assert inbox.received[0].message["Subject"] == "Low balance, Zoë 🚀"
        logged = conn.execute(select(emails.c.subject).where(emails.c.userid == zoe)).scalar_one()
        assert logged == "Low balance, Zoë &#128640;"

    def test_queued_mail_renders_for_the_demo(self, conn: Connection, dave: Alerted) -> None:
        """What the demo shows: the rendered Low Balance Alert with credit and threshold."""
        queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW)

        (entry,) = list_outbox(conn, status=outbox.QUEUED)
        rendered = render_entry(conn, entry)

        assert rendered.to_email == "dave@customer.example"
        assert rendered.subject == "Low balance, Dave"
        assert f"Account# {dave.client_id} is: 3.20\n" in rendered.body
        assert "notification is set at $5.00\n" in rendered.body

    def test_client_without_an_address_fails_for_good(
        self, conn: Connection, database: BoundDatabase, dave: Alerted
    ) -> None:
        """A client with a blank email cannot be mailed; the report says why."""
        conn.execute(clients.update().where(clients.c.id == dave.client_id).values(email=""))
        queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW)

        report = deliver_outbox(database, _smtp(free_port()), now=NOW, zone=TORONTO)

        (failure,) = report.failures
        assert not failure.will_retry
        assert "no email address" in failure.error

    def test_template_deleted_before_delivery_fails_for_good(
        self, conn: Connection, database: BoundDatabase, dave: Alerted
    ) -> None:
        """A template removed after queueing is reported as failed, not retried forever."""
        queue_mail(conn, LOW, dave.client_id, dave.key, now=NOW)
        conn.execute(email_templates.delete().where(email_templates.c.name == LOW))

        report = deliver_outbox(database, _smtp(free_port()), now=NOW, zone=TORONTO)

        (failure,) = report.failures
        assert (failure.code, failure.will_retry) == ("email_template_not_found", False)
        assert _entry(conn, dave.key).status == outbox.FAILED
