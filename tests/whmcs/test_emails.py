"""Email templates by name and language, and the sent-mail log, on real WHMCS tables."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL, Connection

from bridge.errors import EmailTemplateDisabled, EmailTemplateNotFound
from bridge.whmcs.emails import fit_utf8mb3, get_general_template, record_sent_email
from bridge.whmcs.tables import emails
from tests.conftest import throwaway_whmcs_database
from tests.factories.whmcs import make_client, make_email_template

NAME = "Low Balance Alert"


class TestGetGeneralTemplate:
    def test_client_language_row_is_preferred(self, conn: Connection) -> None:
        """A French client gets the French translation of the template."""
        make_email_template(conn, NAME, subject="Low balance")
        make_email_template(conn, NAME, subject="Solde bas", language="french")

        assert get_general_template(conn, NAME, language="French").subject == "Solde bas"

    def test_default_row_when_no_translation_exists(self, conn: Connection) -> None:
        """A German client, with no German row, gets the default-language template."""
        make_email_template(conn, NAME, subject="Low balance")
        make_email_template(conn, NAME, subject="Solde bas", language="french")

        assert get_general_template(conn, NAME, language="german").subject == "Low balance"
        assert get_general_template(conn, NAME).subject == "Low balance"

    def test_missing_template_is_a_clear_error(self, conn: Connection) -> None:
        """No General template of that name: the error names it and says where to create it."""
        make_email_template(conn, NAME, template_type="product")

        with pytest.raises(EmailTemplateNotFound, match=r"Low Balance Alert.*Setup > Email"):
            get_general_template(conn, NAME)

    def test_translation_alone_is_not_a_template(self, conn: Connection) -> None:
        """A French row without its default-language row is reported as missing."""
        make_email_template(conn, NAME, language="french")

        with pytest.raises(EmailTemplateNotFound):
            get_general_template(conn, NAME, language="french")

    def test_disabled_template_is_refused_in_every_language(self, conn: Connection) -> None:
        """Disabling the template (its default row) refuses it for French clients too."""
        make_email_template(conn, NAME, disabled=True)
        make_email_template(conn, NAME, language="french")

        with pytest.raises(EmailTemplateDisabled, match="disabled"):
            get_general_template(conn, NAME, language="french")

    def test_disabled_translation_falls_back_to_the_default(self, conn: Connection) -> None:
        """A switched-off translation is skipped; the client gets the default row."""
        make_email_template(conn, NAME, subject="Low balance")
        make_email_template(conn, NAME, subject="Solde bas", language="french", disabled=True)

        assert get_general_template(conn, NAME, language="french").subject == "Low balance"

    def test_template_details(self, conn: Connection) -> None:
        """Sender, copies, plain-text flag and an entity-encoded subject come back decoded."""
        make_email_template(
            conn,
            NAME,
            subject="Solde &amp; cr&eacute;dit",
            plaintext=True,
            from_name="Billing &amp; Co",
            from_email="billing@example.net",
            copy_to="ops@example.net, , audit@example.net",
        )

        template = get_general_template(conn, NAME)

        assert template.subject == "Solde & crédit"
        assert template.plaintext
        assert (template.from_name, template.from_email) == ("Billing & Co", "billing@example.net")
        assert template.copy_to == ("ops@example.net", "audit@example.net")


class TestRecordSentEmail:
    def test_row_in_the_clients_email_log(self, conn: Connection) -> None:
        """A mail the bridge sent appears in tblemails for the client, as sent."""
        client_id = make_client(conn)

        email_id = record_sent_email(
            conn,
            client_id=client_id,
            to="alex@example.com",
            subject="Low balance",
            message="<p>Hi</p>",
            at=datetime(2026, 3, 1, 9, 30),
            cc=["ops@example.net"],
        )

        row = conn.execute(select(emails).where(emails.c.id == email_id)).mappings().one()
        assert row["userid"] == client_id
        assert (row["to"], row["cc"], row["bcc"]) == ("alex@example.com", "ops@example.net", "")
        assert (row["subject"], row["message"]) == ("Low balance", "<p>Hi</p>")
        assert row["date"] == datetime(2026, 3, 1, 9, 30)
        assert (row["pending"], row["failed"]) == (0, 0)

    def test_four_byte_characters_become_entities(self) -> None:
        """Emoji are written as numeric entities; every other character is kept as is."""
        assert fit_utf8mb3("Zoë 🚀 paid") == "Zoë &#128640; paid"
        assert fit_utf8mb3("plain ascii") == "plain ascii"

    @pytest.mark.parametrize("sql_mode", ["STRICT_TRANS_TABLES", ""])
    def test_emoji_fit_a_utf8mb3_install(self, mariadb_url: URL, sql_mode: str) -> None:
        """On a real install's utf8mb3 tblemails, strict or not, an emoji is stored readably."""
        with throwaway_whmcs_database(mariadb_url, f"mb3_{sql_mode[:6] or 'loose'}") as url:
            engine = create_engine(url)
            try:
                with engine.begin() as conn:
                    conn.execute(
                        text(
                            "ALTER TABLE tblemails CONVERT TO CHARACTER SET utf8mb3 "
                            "COLLATE utf8mb3_unicode_ci"
                        )
                    )
                with engine.begin() as conn:
                    conn.execute(text("SET SESSION sql_mode = :mode"), {"mode": sql_mode})
                    email_id = record_sent_email(
                        conn,
                        client_id=7,
                        to="zoe@example.com",
                        subject="Hi Zoë 🚀",
                        message="<p>Credit 🚀 low</p>",
                        at=datetime(2026, 3, 1, 9, 30),
                    )
                with engine.connect() as conn:
                    row = conn.execute(select(emails).where(emails.c.id == email_id)).one()
            finally:
                engine.dispose()

        assert row.subject == "Hi Zoë &#128640;"
        assert row.message == "<p>Credit &#128640; low</p>"
