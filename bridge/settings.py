"""Settings: the only module that reads the process environment.

Every variable has the ``BRIDGE_`` prefix and is listed, with its default, in ``.env.example``.
Values are parsed and checked once, in :func:`load_settings`; a bad value raises
:class:`~bridge.errors.ConfigError` naming the variable and the expected form. Secrets are wrapped
in :class:`starlette.datastructures.Secret` and the database URL is only ever shown with its
password masked, so printing a ``Settings`` never leaks one.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from starlette.datastructures import Secret

from bridge.clock import parse_timezone
from bridge.errors import ConfigError, InvalidRequest

DEFAULT_DATABASE_URL = "sqlite:///voipbridge.db"
DEFAULT_LISTEN = "127.0.0.1:8080"
DEFAULT_LICENSE_URL = "http://127.0.0.1:8090"
DEFAULT_LICENSE_GRACE_DAYS = 7
MIN_SECRET_LENGTH = 32
MAIL_TRANSPORTS = ("whmcs-api", "smtp", "file")
# Each SMTP security mode and its usual port: submission with STARTTLS, implicit TLS, plain.
SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
DEFAULT_MAIL_OUTBOX_DIR = "voipbridge-mail"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_INVOICE_ACTION = "next-cron"
INVOICE_ACTIONS = ("next-cron", "next-invoice", "due-date", "no-invoice")


@dataclass(frozen=True, slots=True)
class Listen:
    """Where ``bridge serve`` binds."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class MailSettings:
    """How the billing jobs' alerts leave the bridge (DESIGN.md §7); ``BRIDGE_MAIL_*`` and friends.

    Which pieces are needed depends on ``transport``; one that is missing is reported when mail
    is delivered (the messages stay queued), never at start-up.
    """

    transport: str = "whmcs-api"
    whmcs_api_url: str = ""
    whmcs_api_identifier: Secret | None = None
    whmcs_api_secret: Secret | None = None
    whmcs_api_access_key: Secret | None = None
    smtp_host: str = ""
    smtp_port: int = SMTP_PORTS["starttls"]
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: Secret | None = None
    smtp_from: str = ""
    outbox_dir: Path = Path(DEFAULT_MAIL_OUTBOX_DIR)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the bridge is configured with, parsed and validated."""

    database_url: URL = field(default_factory=lambda: make_url(DEFAULT_DATABASE_URL))
    secret: Secret | None = None
    encryption_key: Secret | None = None
    listen: Listen = field(default_factory=lambda: _parse_listen(DEFAULT_LISTEN))
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    db_lock_timeout: int = 10
    log_level: str = "INFO"
    database_configured: bool = False
    license_url: str = DEFAULT_LICENSE_URL
    # Public, so not a Secret: the Ed25519 key license tokens must be signed with (base64).
    license_public_key: str | None = None
    license_grace_days: int = DEFAULT_LICENSE_GRACE_DAYS
    # How autobill's billable items reach an invoice (tblbillableitems.invoiceaction).
    invoice_action: str = DEFAULT_INVOICE_ACTION
    mail: MailSettings = field(default_factory=lambda: MailSettings())

    def __repr__(self) -> str:
        return (
            f"Settings(database_url={self.database_display!r}, secret={self.secret!r}, "
            f"encryption_key={self.encryption_key!r}, "
            f"listen='{self.listen}', timezone='{self.timezone.key}', "
            f"db_lock_timeout={self.db_lock_timeout}, log_level={self.log_level!r}, "
            f"license_url={self.license_url!r}, license_grace_days={self.license_grace_days}, "
            f"invoice_action={self.invoice_action!r}, mail={self.mail!r})"
        )

    @property
    def database_display(self) -> str:
        """Return the database URL with its password masked, safe to print and log."""
        return self.database_url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        """Tell whether the bridge runs on the embedded SQLite default rather than WHMCS's MySQL."""
        return self.database_url.get_backend_name() == "sqlite"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``environ`` (the process environment by default)."""
    env = os.environ if environ is None else environ
    raw_url = env.get("BRIDGE_DATABASE_URL", "").strip()
    return Settings(
        database_url=_parse_database_url(raw_url or DEFAULT_DATABASE_URL),
        secret=_parse_secret(env.get("BRIDGE_SECRET", "")),
        encryption_key=_parse_encryption_key(env.get("BRIDGE_ENCRYPTION_KEY", "").strip()),
        listen=_parse_listen(env.get("BRIDGE_LISTEN", "").strip() or DEFAULT_LISTEN),
        timezone=_parse_timezone(env.get("BRIDGE_TIMEZONE", "").strip() or "UTC"),
        db_lock_timeout=_parse_int(env, "BRIDGE_DB_LOCK_TIMEOUT", default=10, low=1, high=3600),
        log_level=_parse_log_level(env.get("BRIDGE_LOG_LEVEL", "").strip() or "INFO"),
        database_configured=bool(raw_url),
        license_url=_parse_license_url(
            env.get("BRIDGE_LICENSE_URL", "").strip() or DEFAULT_LICENSE_URL
        ),
        license_public_key=_parse_public_key(env.get("BRIDGE_LICENSE_PUBLIC_KEY", "").strip()),
        license_grace_days=_parse_int(
            env, "BRIDGE_LICENSE_GRACE_DAYS", default=DEFAULT_LICENSE_GRACE_DAYS, low=0, high=90
        ),
        invoice_action=_parse_choice(
            env, "BRIDGE_INVOICE_ACTION", INVOICE_ACTIONS, default=DEFAULT_INVOICE_ACTION
        ),
        mail=_parse_mail(env),
    )


def _parse_database_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError:
        # The raw value may hold a password, so it is not echoed back.
        raise ConfigError(
            "BRIDGE_DATABASE_URL is not a database URL; expected "
            "mysql+pymysql://USER:PASSWORD@HOST:3306/WHMCS_DB or sqlite:///PATH"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite":
        return url
    if backend in ("mysql", "mariadb") and driver in ("", "pymysql"):
        # PyMySQL is the only MySQL driver installed, so a bare mysql:// means it.
        url = url.set(drivername="mysql+pymysql")
        if not url.database:
            raise ConfigError(
                "BRIDGE_DATABASE_URL names no database; add the WHMCS database name after the "
                "host, e.g. mysql+pymysql://bridge:PASSWORD@127.0.0.1:3306/whmcs"
            )
        return url
    raise ConfigError(
        f"BRIDGE_DATABASE_URL uses {url.drivername!r}; the bridge speaks mysql+pymysql "
        "(WHMCS's MySQL/MariaDB) or sqlite (the embedded demo database)"
    )


def _parse_secret(raw: str) -> Secret | None:
    if not raw:
        return None
    if len(raw) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"BRIDGE_SECRET is too short ({len(raw)} characters); use at least "
            f"{MIN_SECRET_LENGTH}, e.g. the output of: python3 -c 'import secrets; "
            "print(secrets.token_hex(32))'"
        )
    return Secret(raw)


def _parse_encryption_key(raw: str) -> Secret | None:
    if not raw:
        return None
    try:
        decoded = base64.urlsafe_b64decode(raw.encode())
    except (ValueError, binascii.Error):
        decoded = b""
    if len(decoded) != 32:
        raise ConfigError(
            "BRIDGE_ENCRYPTION_KEY must be a Fernet key (32 bytes, URL-safe base64), e.g. the "
            "output of: python3 -c 'import base64, os; print(base64.urlsafe_b64encode("
            "os.urandom(32)).decode())'"
        )
    return Secret(raw)


def _parse_license_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.username:
        # A URL with user info may hold a password, so only a plain one is echoed back.
        shown = "BRIDGE_LICENSE_URL" if "@" in raw else f"BRIDGE_LICENSE_URL={raw!r}"
        raise ConfigError(
            f"{shown} is not the license server's base URL (http or https, no user name or "
            "query), e.g. https://licenses.example.com or http://127.0.0.1:8090"
        )
    return raw.rstrip("/")


def _parse_public_key(raw: str) -> str | None:
    if not raw:
        return None
    try:
        decoded = base64.b64decode(raw.encode(), validate=True)
    except (ValueError, binascii.Error):
        decoded = b""
    if len(decoded) != 32:
        raise ConfigError(
            "BRIDGE_LICENSE_PUBLIC_KEY must be the license server's Ed25519 public key (32 bytes, "
            "base64) as printed by: bridge license-server public-key"
        )
    return raw


def _parse_listen(raw: str) -> Listen:
    host, sep, port_text = raw.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"BRIDGE_LISTEN={raw!r} is not HOST:PORT, e.g. 127.0.0.1:8080")
    return Listen(host=host, port=int(port_text))


def _parse_timezone(raw: str) -> ZoneInfo:
    try:
        return parse_timezone(raw)
    except InvalidRequest:
        raise ConfigError(
            f"BRIDGE_TIMEZONE={raw!r} is not an IANA timezone; use the timezone WHMCS runs in, "
            "e.g. America/Toronto or Europe/London"
        ) from None


def _parse_int(env: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name}={raw!r} must be a whole number from {low} to {high}")
    return int(raw)


def _parse_choice(
    env: Mapping[str, str], name: str, choices: tuple[str, ...], *, default: str
) -> str:
    raw = env.get(name, "").strip().lower() or default
    if raw not in choices:
        raise ConfigError(f"{name}={raw!r} must be one of {', '.join(choices)}")
    return raw


def _parse_log_level(raw: str) -> str:
    level = raw.upper()
    if level not in _LOG_LEVELS:
        raise ConfigError(f"BRIDGE_LOG_LEVEL={raw!r} must be one of {', '.join(_LOG_LEVELS)}")
    return level


def _parse_mail(env: Mapping[str, str]) -> MailSettings:
    transport = _parse_choice(
        env, "BRIDGE_MAIL_TRANSPORT", MAIL_TRANSPORTS, default=MAIL_TRANSPORTS[0]
    )
    security = _parse_choice(env, "BRIDGE_SMTP_SECURITY", tuple(SMTP_PORTS), default="starttls")
    port = _parse_int(env, "BRIDGE_SMTP_PORT", default=SMTP_PORTS[security], low=1, high=65535)
    return MailSettings(
        transport=transport,
        whmcs_api_url=_parse_whmcs_api_url(env.get("BRIDGE_WHMCS_API_URL", "").strip()),
        whmcs_api_identifier=_optional_secret(env, "BRIDGE_WHMCS_API_IDENTIFIER"),
        whmcs_api_secret=_optional_secret(env, "BRIDGE_WHMCS_API_SECRET"),
        whmcs_api_access_key=_optional_secret(env, "BRIDGE_WHMCS_API_ACCESS_KEY"),
        smtp_host=env.get("BRIDGE_SMTP_HOST", "").strip(),
        smtp_port=port,
        smtp_security=security,
        smtp_username=env.get("BRIDGE_SMTP_USERNAME", "").strip(),
        smtp_password=_optional_secret(env, "BRIDGE_SMTP_PASSWORD"),
        smtp_from=_parse_sender(env.get("BRIDGE_SMTP_FROM", "").strip()),
        outbox_dir=Path(env.get("BRIDGE_MAIL_OUTBOX_DIR", "").strip() or DEFAULT_MAIL_OUTBOX_DIR),
    )


def _parse_whmcs_api_url(raw: str) -> str:
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.username:
        # A URL with user info may hold a password, so only a plain one is echoed back.
        shown = "BRIDGE_WHMCS_API_URL" if "@" in raw else f"BRIDGE_WHMCS_API_URL={raw!r}"
        raise ConfigError(
            f"{shown} is not WHMCS's address (http or https, no user name or query), e.g. "
            "https://billing.example.com/ or https://billing.example.com/includes/api.php"
        )
    # WHMCS's System URL is accepted too: its API is includes/api.php below it.
    return raw if parts.path.endswith(".php") else raw.rstrip("/") + "/includes/api.php"


def _parse_sender(raw: str) -> str:
    if raw and "@" not in parseaddr(raw)[1]:
        raise ConfigError(
            f"BRIDGE_SMTP_FROM={raw!r} is not a mail address, e.g. billing@example.com or "
            "'Example Billing <billing@example.com>'"
        )
    return raw


def _optional_secret(env: Mapping[str, str], name: str) -> Secret | None:
    raw = env.get(name, "").strip()
    return Secret(raw) if raw else None
