"""WHMCS email templates (``tblemailtemplates``) and the sent-mail log (``tblemails``).

Templates are found by name among the General Messages (``type = 'general'``, whose related id is
a client id). A template's translations are extra rows with the same name and a ``language``
(``french``, ``german``, ...); the row with ``language = ''`` is the default, and whether the
template is enabled is decided there, on the row an admin switches in Setup > Email Templates.

``tblemails`` is WHMCS's log of the mail it sent: inserting a row sends nothing, it only lets the
admin see, on the client's Emails tab, a mail the bridge sent itself over SMTP.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from bridge.errors import EmailTemplateDisabled, EmailTemplateNotFound
from bridge.whmcs.tables import email_templates, emails, inserted_id

GENERAL = "general"
DEFAULT_LANGUAGE = ""
# Characters outside the Basic Multilingual Plane take 4 bytes in UTF-8, which the utf8mb3 tables
# of real WHMCS installs cannot hold: strict mode refuses the row, the default mode stores "?".
_FIRST_ASTRAL = 0x10000


@dataclass(frozen=True, slots=True)
class EmailTemplate:
    """One row of ``tblemailtemplates``: a template in one language."""

    id: int
    name: str
    subject: str
    message: str
    language: str
    disabled: bool
    plaintext: bool
    from_name: str
    from_email: str
    copy_to: tuple[str, ...]
    blind_copy_to: tuple[str, ...]


def get_general_template(conn: Connection, name: str, *, language: str = "") -> EmailTemplate:
    """Return General template ``name`` in ``language`` (else the default), checked enabled.

    Raises :class:`EmailTemplateNotFound` when no default-language row exists and
    :class:`EmailTemplateDisabled` when the template is disabled.
    """
    rows = conn.execute(
        select(email_templates)
        .where(email_templates.c.type == GENERAL, email_templates.c.name == name)
        .order_by(email_templates.c.id)
    ).mappings()
    templates = [_template_from_row(row) for row in rows]
    default = next((t for t in templates if t.language == DEFAULT_LANGUAGE), None)
    if default is None:
        raise EmailTemplateNotFound(
            f"WHMCS has no General Messages email template named {name!r}. Create it under "
            "Setup > Email Templates (type General, exact name) so the bridge can send it."
        )
    if default.disabled:
        raise EmailTemplateDisabled(
            f"The WHMCS email template {name!r} is disabled; enable it under Setup > Email "
            "Templates, or the bridge cannot send it."
        )
    wanted = language.strip().lower()
    if wanted:
        for template in templates:
            if template.language.lower() == wanted and not template.disabled:
                return template
    return default


def record_sent_email(
    conn: Connection,
    *,
    client_id: int,
    to: str,
    subject: str,
    message: str,
    at: datetime,
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
) -> int:
    """Log a mail the bridge sent to the client in ``tblemails`` (``at``: WHMCS local time)."""
    result = conn.execute(
        emails.insert().values(
            userid=client_id,
            subject=fit_utf8mb3(subject),
            message=fit_utf8mb3(message),
            date=at,
            to=to,
            cc=", ".join(cc),
            bcc=", ".join(bcc),
            pending=0,
            failed=0,
            failure_reason="",
        )
    )
    return inserted_id(result)


def fit_utf8mb3(text: str) -> str:
    """Return ``text`` with each 4-byte character as an HTML numeric entity (``&#128512;``).

    WHMCS keeps its text HTML-entity encoded and shows the log's mails as HTML, so the entity
    reads back as the same character, and the row fits a utf8mb3 column under any ``sql_mode``.
    """
    if all(ord(char) < _FIRST_ASTRAL for char in text):
        return text
    return "".join(char if ord(char) < _FIRST_ASTRAL else f"&#{ord(char)};" for char in text)


def _template_from_row(row: RowMapping) -> EmailTemplate:
    return EmailTemplate(
        id=row["id"],
        name=row["name"],
        subject=html.unescape(row["subject"]),
        message=row["message"],
        language=(row["language"] or "").strip(),
        disabled=bool(row["disabled"]),
        plaintext=bool(row["plaintext"]),
        from_name=html.unescape(row["fromname"] or ""),
        from_email=(row["fromemail"] or "").strip(),
        copy_to=_addresses(row["copyto"]),
        blind_copy_to=_addresses(row["blind_copy_to"]),
    )


def _addresses(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())
