"""How a queued message leaves the bridge: WHMCS's API, SMTP, or a folder (the demo).

A :class:`Transport` sends one :class:`OutgoingMail` or raises a bridge error that says whether
trying again can help (DESIGN.md §7, the outbox in :mod:`bridge.usecases.mail`):

- :class:`WhmcsApiTransport` asks WHMCS to send its template by name (``SendEmail``): WHMCS renders
  it with its own Smarty, in the client's language, and logs it; the bridge passes its merge
  fields as ``customvars``. It needs nothing rendered.
- :class:`SmtpTransport` sends the template the bridge rendered itself (``renders``), and the
  mail is then logged in WHMCS's ``tblemails`` (``logs_in_whmcs``) like one WHMCS sent.
- :class:`FileTransport` writes each rendered message as an ``.eml`` file into a folder, for the
  demo: it never touches the network.

Failures: :class:`~bridge.errors.ProviderUnavailable` (unreachable, timeout, a 4xx SMTP reply) and
:class:`~bridge.errors.ProviderRejected` (credentials, a sender the server refuses) keep the
message queued; :class:`~bridge.errors.MessageRejected` (a refused recipient, a 5xx reply to this
message) gives it up. No secret appears in an error.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from html import unescape
from pathlib import Path
from typing import Protocol

from bridge.errors import (
    MessageRejected,
    NotConfigured,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from bridge.mail.messages import Message, RenderedMail
from bridge.modules.whmcs_api import WhmcsApiClient, WhmcsApiCredentials
from bridge.redact import redact
from bridge.settings import MailSettings

log = logging.getLogger("bridge.mail")

SMTP_TIMEOUT = 30.0
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_BREAKS = re.compile(r"<br\s*/?>|</p\s*>|</div\s*>|</tr\s*>|</h[1-6]\s*>", re.I)
_TAGS = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """One outbox message on its way: its key, the message, and its rendering when needed."""

    key: str
    message: Message
    sent_at: datetime
    rendered: RenderedMail | None = None


class Transport(Protocol):
    """Sends one message, or raises a bridge error saying whether a retry can help."""

    @property
    def name(self) -> str:
        """Return a short name for reports (``whmcs-api``, ``smtp``, ``file``)."""
        ...

    @property
    def renders(self) -> bool:
        """Tell whether the bridge must render the template before :meth:`send`."""
        ...

    @property
    def logs_in_whmcs(self) -> bool:
        """Tell whether a sent mail must be logged in ``tblemails`` (WHMCS did not see it)."""
        ...

    def send(self, mail: OutgoingMail) -> None:
        """Send ``mail`` or raise."""
        ...


class WhmcsApiTransport:
    """Sends through WHMCS's API ``SendEmail``: WHMCS renders, sends and logs the mail."""

    name = "whmcs-api"
    renders = False
    logs_in_whmcs = False

    def __init__(self, credentials: WhmcsApiCredentials) -> None:
        self.credentials = credentials

    def send(self, mail: OutgoingMail) -> None:
        """Ask WHMCS to send the message's template to its client with its merge fields."""
        message = mail.message
        with WhmcsApiClient(self.credentials) as api:
            api.send_email(message.template_name, message.client_id, message.merge_fields)


class SmtpTransport:
    """Sends the bridge's rendering of the template to an SMTP server."""

    name = "smtp"
    renders = True
    logs_in_whmcs = True

    def __init__(
        self,
        host: str,
        *,
        port: int,
        security: str,
        sender: str,
        username: str = "",
        password: str = "",
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.sender = sender
        self.username = username
        self._password = password
        self._tls = tls_context or ssl.create_default_context()

    def send(self, mail: OutgoingMail) -> None:
        """Connect, secure and log in as configured, and hand the message over."""
        email = build_email(mail, default_sender=self.sender)
        where = f"SMTP server {self.host}:{self.port}"
        try:
            refused = self._deliver(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refusal(where, exc.recipients) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise ProviderRejected(
                f"{where} refused the login ({self._reply(exc.smtp_code, exc.smtp_error)}); "
                "check BRIDGE_SMTP_USERNAME and BRIDGE_SMTP_PASSWORD."
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            raise ProviderRejected(
                f"{where} refused the sender {exc.sender} "
                f"({self._reply(exc.smtp_code, exc.smtp_error)}); check BRIDGE_SMTP_FROM or the "
                "template's From Email."
            ) from None
        except smtplib.SMTPDataError as exc:
            reply = self._reply(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code >= 500:
                raise MessageRejected(f"{where} refused the message ({reply}).") from None
            raise ProviderUnavailable(
                f"{where} deferred the message ({reply}); will retry."
            ) from None
        except smtplib.SMTPResponseException as exc:
            # Refusals of the session (greeting, HELO), not of this message.
            reply = self._reply(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code >= 500:
                raise ProviderRejected(f"{where} refused the session ({reply}).") from None
            raise ProviderUnavailable(f"{where} answered {reply}; will retry.") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ProviderRejected(
                f"{where}: {self._scrub(str(exc))}; check BRIDGE_SMTP_SECURITY."
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise ProviderRejected(
                f"{where}: its TLS certificate is not trusted ({exc.verify_message}); check "
                "BRIDGE_SMTP_HOST (it must be the name on the certificate)."
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            reason = self._scrub(str(exc) or type(exc).__name__)
            raise ProviderUnavailable(f"{where}: cannot deliver ({reason}); will retry.") from None
        if refused:
            # Some copies (Cc, Bcc) were refused while the client's own address was accepted.
            log.warning("mail.smtp %s refused copies to %s", where, ", ".join(sorted(refused)))

    def _deliver(self, email: EmailMessage) -> dict[str, tuple[int, bytes]]:
        smtp = self._connect()
        try:
            if self.security == "starttls":
                smtp.starttls(context=self._tls)
            if self.username:
                smtp.login(self.username, self._password)
            return smtp.send_message(email)
        finally:
            # The message is the server's once DATA was accepted; a failed goodbye must not turn
            # that into a retry (a second copy).
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT, context=self._tls)
        return smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)

    def _reply(self, code: int, text: bytes | str) -> str:
        decoded = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        return self._scrub(f"{code} {decoded}".strip())

    def _scrub(self, text: str) -> str:
        return redact(text, (self._password,), min_length=4)


class FileTransport:
    """Writes each rendered message to ``folder`` as ``<key>.eml`` (the demo's outbox)."""

    name = "file"
    renders = True
    logs_in_whmcs = False

    def __init__(self, folder: Path, *, sender: str = "") -> None:
        self.folder = folder
        self.sender = sender or "WHMCS <noreply@example.invalid>"

    def send(self, mail: OutgoingMail) -> None:
        """Write the message; sending it again overwrites the same file."""
        email = build_email(mail, default_sender=self.sender)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{_SAFE_NAME.sub('_', mail.key)}.eml"
            path.write_bytes(email.as_bytes())
        except OSError as exc:
            raise ProviderUnavailable(f"Cannot write mail to {self.folder}: {exc}") from None


def make_transport(settings: MailSettings) -> Transport:
    """Return the transport ``settings`` choose; :class:`NotConfigured` says what is missing."""
    if settings.transport == "file":
        return FileTransport(settings.outbox_dir, sender=settings.smtp_from)
    if settings.transport == "smtp":
        if not settings.smtp_host or not settings.smtp_from:
            raise NotConfigured(
                "Mail goes out over SMTP (BRIDGE_MAIL_TRANSPORT=smtp) but BRIDGE_SMTP_HOST or "
                "BRIDGE_SMTP_FROM is not set; queued mail waits until they are."
            )
        return SmtpTransport(
            settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=str(settings.smtp_password or ""),
        )
    identifier, secret = settings.whmcs_api_identifier, settings.whmcs_api_secret
    if not settings.whmcs_api_url or identifier is None or secret is None:
        raise NotConfigured(
            "Mail goes out through WHMCS's API (BRIDGE_MAIL_TRANSPORT=whmcs-api) but "
            "BRIDGE_WHMCS_API_URL, BRIDGE_WHMCS_API_IDENTIFIER or BRIDGE_WHMCS_API_SECRET is not "
            "set; queued mail waits until they are."
        )
    return WhmcsApiTransport(
        WhmcsApiCredentials(
            url=settings.whmcs_api_url,
            identifier=str(identifier),
            secret=str(secret),
            access_key=str(settings.whmcs_api_access_key or ""),
        )
    )


def build_email(mail: OutgoingMail, *, default_sender: str) -> EmailMessage:
    """Return the RFC 5322 message for a rendered mail (HTML with a plain-text alternative)."""
    rendered = mail.rendered
    if rendered is None:
        raise ValueError("this transport sends rendered mail; render the template first")
    sender = default_sender
    if rendered.sender_email:
        sender = formataddr((rendered.sender_name, rendered.sender_email))
    email = EmailMessage()
    email["From"] = sender
    email["To"] = Address(display_name=rendered.to_name, addr_spec=rendered.to_email)
    if rendered.cc:
        email["Cc"] = ", ".join(rendered.cc)
    if rendered.bcc:
        email["Bcc"] = ", ".join(rendered.bcc)
    email["Subject"] = rendered.subject
    email["Date"] = format_datetime(mail.sent_at)
    email["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    if rendered.html:
        email.set_content(html_to_text(rendered.body))
        email.add_alternative(rendered.body, subtype="html")
    else:
        email.set_content(rendered.body)
    return email


def html_to_text(markup: str) -> str:
    """Return a readable plain-text version of an HTML mail body (tags dropped, breaks kept)."""
    text = unescape(_TAGS.sub("", _BREAKS.sub("\n", markup)))
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"


def _refusal(where: str, recipients: dict[str, tuple[int, bytes]]) -> ProviderError:
    codes = [code for code, _text in recipients.values()]
    details = "; ".join(
        f"{address}: {code} {text.decode('utf-8', 'replace')}"
        for address, (code, text) in sorted(recipients.items())
    )
    if codes and all(code >= 500 for code in codes):
        return MessageRejected(f"{where} refused every recipient ({details}).")
    return ProviderUnavailable(f"{where} refused every recipient for now ({details}); will retry.")
