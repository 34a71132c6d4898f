"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and a test TLS pair.

:func:`smtp_server` runs an :class:`Inbox` under aiosmtpd's threaded controller on 127.0.0.1,
plain, with STARTTLS, or with implicit TLS, optionally demanding a login. The inbox can refuse
senders (553) and recipients (550, or 450 for now), defer mail (451) and reject it (554), as real
servers do. :func:`make_tls`
writes a self-signed certificate for 127.0.0.1 and returns the server's and a trusting client's
SSL contexts.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fakes import free_port


@dataclass
class Received:
    """One mail as the server got it: envelope and parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """The aiosmtpd handler: stores mail, refusing or deferring it when told to."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    refuse_reply: str = "550 5.1.1 no such mailbox"  # or a temporary "450 4.2.1 mailbox busy"
    refuse_senders: set[str] = field(default_factory=set)
    data_reply: str = ""  # e.g. "451 4.3.0 try later" or "554 5.7.1 rejected"

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Accept a sender unless it is in :attr:`refuse_senders`."""
        if address in self.refuse_senders:
            return "553 5.7.1 sender not allowed"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Accept a recipient unless it is in :attr:`refuse`."""
        if address in self.refuse:
            return self.refuse_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message, or answer :attr:`data_reply` instead."""
        if self.data_reply:
            return self.data_reply
        content = cast(bytes, envelope.original_content or envelope.content)
        # On the wire lines end in CRLF; parsed with Python's line ends, bodies compare as written.
        message = message_from_bytes(content.replace(b"\r\n", b"\n"), policy=policy.default)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), message))
        return "250 2.0.0 queued"


@dataclass(frozen=True)
class Tls:
    """A self-signed certificate for 127.0.0.1: the server's context and a client that trusts it."""

    server: ssl.SSLContext
    client: ssl.SSLContext


def make_tls(folder: Path) -> Tls:
    """Write a key and a self-signed certificate for 127.0.0.1 into ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return Tls(server=server, client=ssl.create_default_context(cafile=str(cert_path)))


@contextmanager
def smtp_server(
    inbox: Inbox,
    *,
    port: int | None = None,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    login: tuple[str, str] | None = None,
) -> Iterator[int]:
    """Serve ``inbox`` on 127.0.0.1 (on ``port``, or a free one) and yield the port."""
    options: dict[str, Any] = {}
    if starttls is not None:
        options.update(tls_context=starttls, require_starttls=True)
    if login is not None:
        options.update(authenticator=_Authenticator(*login), auth_required=True)
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port or free_port(),
        ssl_context=implicit_tls,
        server_hostname="127.0.0.1",
        **options,
    )
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


class _Authenticator:
    def __init__(self, username: str, password: str) -> None:
        self.expected = (username.encode(), password.encode())

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == self.expected
        return AuthResult(success=ok, handled=False)
