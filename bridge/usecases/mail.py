"""Alerts by WHMCS template name through a durable outbox (DESIGN.md §7).

**Queue** (:func:`queue_mail`), inside the job's own transaction: the job decides to alert a client
and queues the message under a dedupe key it builds from what makes the alert unique
(``low-balance:<client>:<YYYY-MM-DD>``, ``zero-balance:<client>:<suspension id>``). The message
exists if and only if the job's transaction commits, and a key already queued (or sent, or given
up) is never queued again, so reruns, retries after a crash and two bridge instances send each
alert once. The template is checked first: a missing or disabled General template raises
:class:`~bridge.errors.EmailTemplateNotFound` / :class:`~bridge.errors.EmailTemplateDisabled`
before anything is written, for the job to report. The merge fields are a snapshot of the
client's facts at the decision (credit, balance due, custom fields).

**Deliver** (:func:`deliver_outbox`), after the job committed: each due message is claimed for a
lease in its own transaction, sent, and marked sent in another (logged in WHMCS's email log when
the bridge sent it over SMTP). A failure that a retry may cure (the server is down, WHMCS refused
the bridge's credentials, a setting is missing) keeps it queued and retries it with exponential
backoff, 1 minute doubling to 1 hour; one about the message itself (WHMCS has no such template,
the recipient is refused) marks it failed at once; a message still undelivered after
:data:`GIVE_UP_AFTER` is failed too. Every failure is in the :class:`DeliveryReport`.

Delivery is at least once: a crash after the transport took a message and before it was marked
sent sends it again when the lease ends (docs/decisions.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from bridge.clock import to_whmcs_time
from bridge.db import Database
from bridge.errors import BridgeError, ClientNotFound, InvalidRequest, MessageRejected, NotFound
from bridge.mail.messages import ClientFacts, Message, RenderedMail, build_message, render_template
from bridge.mail.transports import OutgoingMail, Transport, make_transport
from bridge.settings import Settings
from bridge.store import outbox
from bridge.store.outbox import OutboxEntry
from bridge.whmcs.clients import get_client, get_clients, get_due_balances
from bridge.whmcs.customfields import get_clients_fields
from bridge.whmcs.emails import get_general_template, record_sent_email

log = logging.getLogger("bridge.mail")

CENT = Decimal("0.01")
DEFAULT_BATCH = 100
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=3)
# Longer than any send can take (HTTP and SMTP time out well before): while it runs, another
# instance leaves the message alone; after a crash, the message is due again when it ends.
LEASE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """A message that did not go out this run, and whether it will be tried again."""

    outbox_id: int
    dedupe_key: str
    template_name: str
    client_id: int
    attempts: int
    code: str
    error: str
    will_retry: bool


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery run did (JSON-able with ``dataclasses.asdict``)."""

    transport: str
    sent: tuple[str, ...] = ()
    failures: tuple[DeliveryFailure, ...] = ()
    # Set when nothing could be tried at all (the transport is not configured).
    error: str = ""

    @property
    def retrying(self) -> int:
        """Return how many messages failed this run and stay queued."""
        return sum(1 for failure in self.failures if failure.will_retry)

    @property
    def given_up(self) -> int:
        """Return how many messages were marked failed for good this run."""
        return sum(1 for failure in self.failures if not failure.will_retry)


def read_client_facts(conn: Connection, client_id: int) -> ClientFacts:
    """Return what the merge fields say about the client now (raises ClientNotFound)."""
    facts = read_clients_facts(conn, [client_id])
    if client_id not in facts:
        raise ClientNotFound(f"WHMCS has no client #{client_id}.")
    return facts[client_id]


def queue_mail(
    conn: Connection, template_name: str, client_id: int, dedupe_key: str, *, now: datetime
) -> bool:
    """Queue the template for the client under ``dedupe_key``; ``False`` if that key was queued."""
    if not 0 < len(dedupe_key) <= outbox.MAX_KEY_LENGTH or not dedupe_key.isascii():
        raise InvalidRequest(
            f"An outbox key is 1 to {outbox.MAX_KEY_LENGTH} ASCII characters, not {dedupe_key!r}."
        )
    if outbox.has_key(conn, dedupe_key):
        return False
    # Raises before anything is written: the job reports it and its transaction stays usable.
    get_general_template(conn, template_name)
    message = build_message(template_name, read_client_facts(conn, client_id))
    return outbox.add_entry(
        conn,
        dedupe_key=dedupe_key,
        template_name=message.template_name,
        client_id=message.client_id,
        merge_fields=message.merge_fields,
        now=now,
    )


def queue_mails(
    conn: Connection, template_name: str, wanted: Sequence[tuple[int, str]], *, now: datetime
) -> int:
    """Queue the template for many clients, each under its key; return how many were queued.

    :func:`queue_mail` for a daily pass over every client: the template is checked once and the
    clients' facts read in a few set queries. Keys already queued and clients gone are skipped.
    """
    for _client_id, key in wanted:
        if not 0 < len(key) <= outbox.MAX_KEY_LENGTH or not key.isascii():
            raise InvalidRequest(
                f"An outbox key is 1 to {outbox.MAX_KEY_LENGTH} ASCII characters, not {key!r}."
            )
    known = outbox.known_keys(conn, [key for _client, key in wanted])
    fresh = [(client_id, key) for client_id, key in wanted if key not in known]
    if not fresh:
        return 0
    get_general_template(conn, template_name)
    facts = read_clients_facts(conn, [client_id for client_id, _key in fresh])
    entries = [
        outbox.NewEntry(
            key,
            template_name,
            client_id,
            build_message(template_name, facts[client_id]).merge_fields,
        )
        for client_id, key in fresh
        if client_id in facts
    ]
    # A key queued meanwhile by another run is skipped by the insert, so the count is exact.
    return outbox.add_entries(conn, entries, now=now)


def read_clients_facts(conn: Connection, client_ids: list[int]) -> dict[int, ClientFacts]:
    """Return :func:`read_client_facts` for many clients at once (those that exist), by id."""
    clients = get_clients(conn, client_ids)
    due = get_due_balances(conn, client_ids)
    fields = get_clients_fields(conn, client_ids, skip_passwords=True)
    return {
        client.id: ClientFacts(
            id=client.id,
            first_name=client.first_name,
            last_name=client.last_name,
            company_name=client.company_name,
            email=client.email,
            language=client.language,
            credit=client.credit,
            due_invoices_balance=due.get(client.id, Decimal(0)).quantize(CENT),
            currency=client.currency,
            custom_fields=fields[client.id],
        )
        for client in clients.values()
    }


def render_message(conn: Connection, message: Message) -> RenderedMail:
    """Render ``message``'s template in its client's language (else the default) for them."""
    client = get_client(conn, message.client_id)
    if not client.email.strip():
        raise MessageRejected(f"Client #{client.id} has no email address in WHMCS.")
    template = get_general_template(conn, message.template_name, language=client.language)
    fields = message.merge_fields
    return RenderedMail(
        to_name=client.full_name,
        to_email=client.email.strip(),
        subject=render_template(template.subject, fields),
        body=render_template(template.message, fields, escape_html=not template.plaintext),
        html=not template.plaintext,
        sender_name=template.from_name,
        sender_email=template.from_email,
        cc=template.copy_to,
        bcc=template.blind_copy_to,
    )


def deliver_mail(
    database: Database, settings: Settings, *, now: datetime, limit: int = DEFAULT_BATCH
) -> DeliveryReport:
    """Deliver due outbox mail with the transport ``settings`` configure (see deliver_outbox)."""
    try:
        transport = make_transport(settings.mail)
    except BridgeError as exc:
        log.warning("mail.outbox not delivered: %s", exc.message)
        return DeliveryReport(transport=settings.mail.transport, error=exc.message)
    return deliver_outbox(database, transport, now=now, zone=settings.timezone, limit=limit)


def deliver_outbox(
    database: Database,
    transport: Transport,
    *,
    now: datetime,
    zone: ZoneInfo,
    limit: int = DEFAULT_BATCH,
) -> DeliveryReport:
    """Send up to ``limit`` due messages one by one, each marked in its own transaction.

    ``zone`` is WHMCS's timezone, for the email log entries of mail sent over SMTP.
    """
    with database.transaction() as conn:
        due = outbox.list_due_ids(conn, now=now, limit=limit)
    sent: list[str] = []
    failures: list[DeliveryFailure] = []
    for entry_id in due:
        with database.transaction() as conn:
            entry = outbox.claim_entry(conn, entry_id, now=now, lease=LEASE)
        if entry is None:
            continue  # another instance took it, or it went out meanwhile
        try:
            mail = _prepare(database, transport, entry, now=now)
            transport.send(mail)
        except BridgeError as exc:
            failures.append(_record_failure(database, entry, exc, now=now))
            continue
        # Past this point the transport has the message: a failure to record that (the database
        # went away) must not count as a failed send, so it propagates and the lease brings the
        # message back later (the at-least-once window).
        _record_sent(database, transport, entry, mail, now=now, zone=zone)
        sent.append(entry.dedupe_key)
    return DeliveryReport(transport=transport.name, sent=tuple(sent), failures=tuple(failures))


def list_outbox(
    conn: Connection, *, status: str | None = None, client_id: int | None = None
) -> list[OutboxEntry]:
    """Return the outbox's messages, oldest first (``status``: queued, sent or failed)."""
    return outbox.list_entries(conn, status=status, client_id=client_id)


def render_entry(conn: Connection, entry: OutboxEntry) -> RenderedMail:
    """Render a queued message as SMTP would send it now (the demo shows its alerts so)."""
    return render_message(conn, _message(entry))


def _message(entry: OutboxEntry) -> Message:
    return Message(entry.template_name, entry.client_id, entry.merge_fields)


def _prepare(
    database: Database, transport: Transport, entry: OutboxEntry, *, now: datetime
) -> OutgoingMail:
    message = _message(entry)
    rendered = None
    if transport.renders:
        with database.transaction() as conn:
            rendered = render_message(conn, message)
    return OutgoingMail(entry.dedupe_key, message, sent_at=now, rendered=rendered)


def _record_sent(
    database: Database,
    transport: Transport,
    entry: OutboxEntry,
    mail: OutgoingMail,
    *,
    now: datetime,
    zone: ZoneInfo,
) -> None:
    rendered = mail.rendered
    with database.transaction() as conn:
        outbox.mark_sent(conn, entry.id, now=now)
        if rendered is not None and transport.logs_in_whmcs:
            record_sent_email(
                conn,
                client_id=entry.client_id,
                to=rendered.to_email,
                subject=rendered.subject,
                message=rendered.body,
                at=to_whmcs_time(now, zone),
                cc=rendered.cc,
                bcc=rendered.bcc,
            )
    log.info(
        "mail.sent %s %r to client #%s", entry.dedupe_key, entry.template_name, entry.client_id
    )


def _record_failure(
    database: Database, entry: OutboxEntry, exc: BridgeError, *, now: datetime
) -> DeliveryFailure:
    # A refusal of this very message, or a template or client that no longer exists, cannot be
    # cured by waiting; everything else (down, credentials, settings) can.
    permanent = isinstance(exc, MessageRejected | NotFound | InvalidRequest)
    error = exc.message
    if not permanent and now - entry.created_at >= GIVE_UP_AFTER:
        permanent = True
        error = f"Gave up after {entry.attempts} attempts over {GIVE_UP_AFTER.days} days: {error}"
    with database.transaction() as conn:
        if permanent:
            outbox.mark_failed(conn, entry.id, error=error)
        else:
            outbox.mark_retry(conn, entry.id, error=error, retry_at=now + backoff(entry.attempts))
    log.warning("mail.failed %s (%s): %s", entry.dedupe_key, exc.code, error)
    return DeliveryFailure(
        outbox_id=entry.id,
        dedupe_key=entry.dedupe_key,
        template_name=entry.template_name,
        client_id=entry.client_id,
        attempts=entry.attempts,
        code=exc.code,
        error=error,
        will_retry=not permanent,
    )


def backoff(attempts: int) -> timedelta:
    """Return the wait after failed attempt number ``attempts``: 1, 2, 4 ... minutes, up to 1 h."""
    doublings = min(max(attempts - 1, 0), 6)  # 2**6 minutes is past the cap already
    return min(FIRST_RETRY * (1 << doublings), LONGEST_RETRY)
