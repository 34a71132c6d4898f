"""Transports against real servers on loopback: SMTP (plain, STARTTLS, TLS), a folder, settings."""

from __future__ import annotations

import ssl
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from starlette.datastructures import Secret

from bridge.errors import MessageRejected, NotConfigured, ProviderRejected, ProviderUnavailable
from bridge.mail.messages import Message, RenderedMail
from bridge.mail.transports import (
    FileTransport,
    OutgoingMail,
    SmtpTransport,
    WhmcsApiTransport,
    html_to_text,
    make_transport,
)
from bridge.settings import MailSettings
from tests.fakes import free_port
from tests.fakes.smtp import Inbox, Tls, make_tls, smtp_server

SENDER = "Example Billing <billing@example.net>"
RENDERED = RenderedMail(
    to_name="Zoë Client",
    to_email="zoe@customer.example",
    subject="Low balance 🚀",
    body="<p>Dear Zoë 🚀,</p><p>Your credit is 3.20.<br>Top up &amp; stay online.</p>",
    html=True,
)
MAIL = OutgoingMail(
    key="low-balance:12:2026-03-01",
    message=Message("Low Balance Alert", 12, {"client_id": "12"}),
    sent_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    rendered=RENDERED,
)


@pytest.fixture(scope="module", name="tls")
def _tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("smtp-tls"))


def _smtp(port: int, security: str = "none", **options: object) -> SmtpTransport:
    return SmtpTransport("127.0.0.1", port=port, security=security, sender=SENDER, **options)  # type: ignore[arg-type]


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


class TestSmtpTransport:
    def test_plain_smtp_delivers_html_with_a_text_alternative(self) -> None:
        """The client gets the HTML body, a readable text version, and the emoji intact."""
        inbox = Inbox()
        with smtp_server(inbox) as port:
            _smtp(port).send(MAIL)

        (received,) = inbox.received
        assert received.rcpt_tos == ["zoe@customer.example"]
        assert received.mail_from == "billing@example.net"
        message = received.message
        assert message["Subject"] == "Low balance 🚀"
        assert message["To"] == "Zoë Client <zoe@customer.example>"
        assert message["From"] == SENDER
        assert "Dear Zoë 🚀" in _body(message, "html")
        assert _body(message, "plain") == (
            "Dear Zoë 🚀,\nYour credit is 3.20.\nTop up & stay online.\n"
        )

    def test_template_sender_and_copies(self) -> None:
        """The template's From overrides the default; Cc and Bcc get copies, Bcc unseen."""
        inbox = Inbox()
        rendered = replace(
            RENDERED,
            sender_name="VoIP Desk",
            sender_email="voip@example.net",
            cc=("ops@example.net",),
            bcc=("audit@example.net",),
        )
        mail = OutgoingMail(MAIL.key, MAIL.message, MAIL.sent_at, rendered)
        with smtp_server(inbox) as port:
            _smtp(port).send(mail)

        (received,) = inbox.received
        assert received.mail_from == "voip@example.net"
        assert sorted(received.rcpt_tos) == [
            "audit@example.net",
            "ops@example.net",
            "zoe@customer.example",
        ]
        assert received.message["Cc"] == "ops@example.net"
        assert received.message["Bcc"] is None

    def test_plain_text_templates_are_sent_as_text(self) -> None:
        """A template marked plain text goes out as text/plain only."""
        inbox = Inbox()
        rendered = RenderedMail("Zoë", "zoe@customer.example", "Hi", "Credit: 3.20\n", html=False)
        with smtp_server(inbox) as port:
            _smtp(port).send(OutgoingMail(MAIL.key, MAIL.message, MAIL.sent_at, rendered))

        message = inbox.received[0].message
        assert message.get_content_type() == "text/plain"
        assert message.get_content() == "Credit: 3.20\n"

    def test_starttls_with_login(self, tls: Tls) -> None:
        """STARTTLS, then the login, then the mail: a server demanding all three accepts it."""
        inbox = Inbox()
        with smtp_server(inbox, starttls=tls.server, login=("mailer", "pa55-word")) as port:
            transport = _smtp(
                port, "starttls", username="mailer", password="pa55-word", tls_context=tls.client
            )
            transport.send(MAIL)

        assert len(inbox.received) == 1

    def test_implicit_tls(self, tls: Tls) -> None:
        """SMTPS (port 465 style): TLS from the first byte."""
        inbox = Inbox()
        with smtp_server(inbox, implicit_tls=tls.server) as port:
            _smtp(port, "ssl", tls_context=tls.client).send(MAIL)

        assert len(inbox.received) == 1

    def test_untrusted_certificate_is_refused_not_retried_blindly(self, tls: Tls) -> None:
        """A certificate the bridge does not trust is a configuration problem, said so."""
        with (
            smtp_server(Inbox(), starttls=tls.server) as port,
            pytest.raises(ProviderRejected, match="certificate is not trusted"),
        ):
            _smtp(port, "starttls", tls_context=ssl.create_default_context()).send(MAIL)

    def test_wrong_password_is_refused_and_never_shown(self, tls: Tls) -> None:
        """A refused login names the settings to check and does not print the password."""
        with (
            smtp_server(Inbox(), starttls=tls.server, login=("mailer", "right-pass")) as port,
            pytest.raises(ProviderRejected, match="BRIDGE_SMTP_PASSWORD") as caught,
        ):
            _smtp(
                port, "starttls", username="mailer", password="wrong-pass", tls_context=tls.client
            ).send(MAIL)

        assert not isinstance(caught.value, MessageRejected)
        assert "wrong-pass" not in caught.value.message

    def test_refused_recipient_rejects_the_message(self) -> None:
        """A 550 for the client's address cannot be cured by retrying."""
        inbox = Inbox(refuse={"zoe@customer.example"})
        with smtp_server(inbox) as port, pytest.raises(MessageRejected, match="550"):
            _smtp(port).send(MAIL)

    def test_recipient_refused_for_now_is_temporary(self) -> None:
        """A 450 for the client's address (mailbox busy) keeps the message for a retry."""
        inbox = Inbox(refuse={"zoe@customer.example"}, refuse_reply="450 4.2.1 mailbox busy")
        with smtp_server(inbox) as port, pytest.raises(ProviderUnavailable, match="450"):
            _smtp(port).send(MAIL)

    def test_a_refused_copy_does_not_stop_the_clients_mail(self) -> None:
        """When only the template's Cc address is refused, the client still gets the mail."""
        inbox = Inbox(refuse={"ops@example.net"})
        mail = OutgoingMail(
            MAIL.key, MAIL.message, MAIL.sent_at, replace(RENDERED, cc=("ops@example.net",))
        )
        with smtp_server(inbox) as port:
            _smtp(port).send(mail)

        assert [received.rcpt_tos for received in inbox.received] == [["zoe@customer.example"]]

    def test_refused_sender_names_the_setting_and_may_be_retried(self) -> None:
        """A sender the server does not accept is a configuration refusal, not the message's."""
        inbox = Inbox(refuse_senders={"billing@example.net"})
        with smtp_server(inbox) as port, pytest.raises(ProviderRejected) as caught:
            _smtp(port).send(MAIL)

        assert not isinstance(caught.value, MessageRejected)
        assert "BRIDGE_SMTP_FROM" in caught.value.message

    def test_starttls_on_a_server_without_it_names_the_setting(self) -> None:
        """Asking a plain server for STARTTLS says to check BRIDGE_SMTP_SECURITY."""
        with (
            smtp_server(Inbox()) as port,
            pytest.raises(ProviderRejected, match="BRIDGE_SMTP_SECURITY"),
        ):
            _smtp(port, "starttls").send(MAIL)

    @pytest.mark.parametrize(
        ("reply", "error"),
        [("451 4.3.0 try again later", ProviderUnavailable), ("554 5.7.1 spam", MessageRejected)],
    )
    def test_data_replies(self, reply: str, error: type[Exception]) -> None:
        """A 4xx after DATA is temporary; a 5xx refuses this message."""
        inbox = Inbox(data_reply=reply)
        with smtp_server(inbox) as port, pytest.raises(error, match=reply[:3]):
            _smtp(port).send(MAIL)

    def test_server_down_is_temporary(self) -> None:
        """Nothing listening: ProviderUnavailable, to retry."""
        with pytest.raises(ProviderUnavailable, match="will retry"):
            _smtp(free_port()).send(MAIL)

    def test_unrendered_mail_is_a_programming_error(self) -> None:
        """SMTP needs the rendering; a message without one never reaches the network."""
        with pytest.raises(ValueError, match="render"):
            _smtp(free_port()).send(OutgoingMail(MAIL.key, MAIL.message, MAIL.sent_at))


class TestFileTransport:
    def test_each_message_is_an_eml_file_named_after_its_key(self, tmp_path: Path) -> None:
        """The demo's outbox holds one readable .eml per message; resending overwrites it."""
        transport = FileTransport(tmp_path / "outbox")

        transport.send(MAIL)
        transport.send(MAIL)

        (path,) = (tmp_path / "outbox").iterdir()
        assert path.name == "low-balance_12_2026-03-01.eml"
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert message["Subject"] == "Low balance 🚀"
        assert "Your credit is 3.20." in _body(message, "plain")

    def test_unwritable_folder_is_temporary(self, tmp_path: Path) -> None:
        """A folder that cannot be created keeps the message queued."""
        blocker = tmp_path / "file"
        blocker.write_text("not a folder")

        with pytest.raises(ProviderUnavailable, match="Cannot write mail"):
            FileTransport(blocker / "outbox").send(MAIL)


class TestMakeTransport:
    def test_whmcs_api_needs_its_url_and_credentials(self) -> None:
        """The default transport without credentials is NotConfigured, naming the variables."""
        with pytest.raises(NotConfigured, match="BRIDGE_WHMCS_API_SECRET"):
            make_transport(MailSettings())

    def test_whmcs_api_from_settings(self) -> None:
        """Configured, the WHMCS API transport carries the URL and credentials."""
        settings = MailSettings(
            whmcs_api_url="https://billing.example.net/includes/api.php",
            whmcs_api_identifier=Secret("ident"),
            whmcs_api_secret=Secret("shh-secret"),
        )

        transport = make_transport(settings)

        assert isinstance(transport, WhmcsApiTransport)
        assert transport.credentials.secret == "shh-secret"
        assert "shh-secret" not in repr(transport.credentials)

    def test_smtp_needs_host_and_sender(self) -> None:
        """SMTP without a host or a From address is NotConfigured."""
        with pytest.raises(NotConfigured, match="BRIDGE_SMTP_HOST"):
            make_transport(MailSettings(transport="smtp", smtp_host="mail.example.net"))

    def test_smtp_from_settings(self) -> None:
        """Configured, the SMTP transport uses the host, security, port, login and sender."""
        settings = MailSettings(
            transport="smtp",
            smtp_host="mail.example.net",
            smtp_port=2525,
            smtp_security="none",
            smtp_username="billing",
            smtp_password=Secret("pw-0123"),
            smtp_from="billing@example.net",
        )

        transport = make_transport(settings)

        assert isinstance(transport, SmtpTransport)
        assert (transport.host, transport.port, transport.security) == (
            "mail.example.net",
            2525,
            "none",
        )
        assert (transport.username, transport.sender) == ("billing", "billing@example.net")

    def test_file_transport_for_the_demo(self, tmp_path: Path) -> None:
        """The file transport writes where BRIDGE_MAIL_OUTBOX_DIR says."""
        transport = make_transport(MailSettings(transport="file", outbox_dir=tmp_path))

        assert isinstance(transport, FileTransport)
        assert transport.folder == tmp_path


def test_html_to_text_keeps_line_breaks_and_decodes_entities() -> None:
    """Paragraphs and <br> become lines; entities become characters; tags vanish."""
    assert html_to_text("<p>A &amp; B</p><p>C<br/>D</p>") == "A & B\nC\nD\n"
