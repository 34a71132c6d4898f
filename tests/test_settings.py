"""Settings parsed from the environment, with clear errors and no leaked secrets."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.settings import DEFAULT_DATABASE_URL, load_settings

SECRET = "s" * 40


class TestLoadSettings:
    def test_defaults_are_the_embedded_demo_setup(self) -> None:
        """With nothing set, the bridge uses SQLite, UTC, 127.0.0.1:8080 and no secret."""
        settings = load_settings({})

        assert settings.database_url.render_as_string() == DEFAULT_DATABASE_URL
        assert settings.is_sqlite
        assert not settings.database_configured
        assert settings.secret is None
        assert str(settings.listen) == "127.0.0.1:8080"
        assert settings.timezone.key == "UTC"

    def test_whmcs_database_url_and_bare_mysql_scheme(self) -> None:
        """A mysql:// URL is taken as PyMySQL and marked as configured."""
        settings = load_settings({"BRIDGE_DATABASE_URL": "mysql://bridge:pw@db.internal/whmcs"})

        assert settings.database_url.drivername == "mysql+pymysql"
        assert settings.database_configured
        assert not settings.is_sqlite

    def test_password_and_secret_never_print(self) -> None:
        """repr() of the settings masks the database password and the shared secret."""
        settings = load_settings(
            {
                "BRIDGE_DATABASE_URL": "mysql+pymysql://bridge:hunter2pass@db/whmcs",
                "BRIDGE_SECRET": SECRET,
            }
        )

        shown = repr(settings)
        assert "hunter2pass" not in shown
        assert SECRET not in shown
        assert "***" in shown
        assert str(settings.secret) == SECRET

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("BRIDGE_DATABASE_URL", "not a url", "not a database URL"),
            ("BRIDGE_DATABASE_URL", "postgresql://u@h/db", "speaks mysql\\+pymysql"),
            ("BRIDGE_DATABASE_URL", "mysql+pymysql://u@h/", "names no database"),
            ("BRIDGE_SECRET", "short", "too short"),
            ("BRIDGE_LISTEN", "8080", "HOST:PORT"),
            ("BRIDGE_LISTEN", "0.0.0.0:99999", "HOST:PORT"),
            ("BRIDGE_TIMEZONE", "Mars/Olympus", "IANA timezone"),
            ("BRIDGE_DB_LOCK_TIMEOUT", "0", "1 to 3600"),
            ("BRIDGE_LOG_LEVEL", "chatty", "one of"),
        ],
    )
    def test_bad_values_name_the_variable(self, name: str, value: str, message: str) -> None:
        """Each malformed variable gives an error naming it and the expected form."""
        with pytest.raises(ConfigError, match=message) as caught:
            load_settings({name: value})
        assert name in caught.value.message

    def test_bad_url_error_does_not_echo_a_password(self) -> None:
        """A URL that fails to parse is not repeated back, since it may hold a password."""
        with pytest.raises(ConfigError) as caught:
            load_settings({"BRIDGE_DATABASE_URL": "mysql+pymysql://u:pa ss@@/"})
        assert "pa ss" not in caught.value.message

    def test_ipv6_listen_address(self) -> None:
        """An IPv6 listen address in brackets is accepted and printed back the same way."""
        assert str(load_settings({"BRIDGE_LISTEN": "[::1]:9000"}).listen) == "[::1]:9000"


class TestLicenseSettings:
    def test_defaults(self) -> None:
        """By default the license server is the local reference one, with no key and 7 days."""
        settings = load_settings({})

        assert settings.license_url == "http://127.0.0.1:8090"
        assert settings.license_public_key is None
        assert settings.license_grace_days == 7

    def test_configured(self) -> None:
        """A license URL loses its trailing slash; a 32-byte base64 public key is accepted."""
        key = base64.b64encode(b"p" * 32).decode()
        settings = load_settings(
            {
                "BRIDGE_LICENSE_URL": "https://licenses.example.com/voipbridge/",
                "BRIDGE_LICENSE_PUBLIC_KEY": key,
                "BRIDGE_LICENSE_GRACE_DAYS": "14",
            }
        )

        assert settings.license_url == "https://licenses.example.com/voipbridge"
        assert settings.license_public_key == key
        assert settings.license_grace_days == 14

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("BRIDGE_LICENSE_URL", "licenses.example.com", "base URL"),
            ("BRIDGE_LICENSE_URL", "ftp://licenses.example.com", "base URL"),
            ("BRIDGE_LICENSE_URL", "https://u:p@licenses.example.com", "base URL"),
            ("BRIDGE_LICENSE_PUBLIC_KEY", "not-base64!", "Ed25519 public key"),
            ("BRIDGE_LICENSE_PUBLIC_KEY", base64.b64encode(b"short").decode(), "32 bytes"),
            ("BRIDGE_LICENSE_GRACE_DAYS", "365", "0 to 90"),
        ],
    )
    def test_bad_values(self, name: str, value: str, message: str) -> None:
        """Each malformed license setting is refused naming the variable."""
        with pytest.raises(ConfigError, match=message) as caught:
            load_settings({name: value})
        assert name in caught.value.message

    def test_license_url_with_password_is_not_echoed(self) -> None:
        """A license URL carrying credentials is refused without repeating them."""
        with pytest.raises(ConfigError) as caught:
            load_settings({"BRIDGE_LICENSE_URL": "https://admin:hunter2pass@licenses.example.com"})
        assert "hunter2pass" not in caught.value.message


class TestMailSettings:
    def test_defaults(self) -> None:
        """By default mail goes through WHMCS's API (not configured yet), SMTP would use 587."""
        mail = load_settings({}).mail

        assert mail.transport == "whmcs-api"
        assert mail.whmcs_api_url == ""
        assert mail.whmcs_api_secret is None
        assert (mail.smtp_security, mail.smtp_port) == ("starttls", 587)
        assert str(mail.outbox_dir) == "voipbridge-mail"

    def test_whmcs_api(self) -> None:
        """WHMCS's System URL is taken to mean its includes/api.php; credentials are secrets."""
        settings = load_settings(
            {
                "BRIDGE_WHMCS_API_URL": "https://billing.example.com/whmcs/",
                "BRIDGE_WHMCS_API_IDENTIFIER": "ident-0123456789",
                "BRIDGE_WHMCS_API_SECRET": "api-secret-0123456789",
                "BRIDGE_WHMCS_API_ACCESS_KEY": "access-key-0123456789",
            }
        )

        mail = settings.mail
        assert mail.whmcs_api_url == "https://billing.example.com/whmcs/includes/api.php"
        assert str(mail.whmcs_api_secret) == "api-secret-0123456789"
        shown = repr(settings)
        for secret in ("ident-0123456789", "api-secret-0123456789", "access-key-0123456789"):
            assert secret not in shown

    def test_explicit_api_endpoint_is_kept(self) -> None:
        """A URL already naming a .php endpoint is used as given."""
        url = "https://billing.example.com/includes/api.php"

        assert load_settings({"BRIDGE_WHMCS_API_URL": url}).mail.whmcs_api_url == url

    def test_smtp(self) -> None:
        """Implicit TLS defaults to port 465; the login's password never prints."""
        settings = load_settings(
            {
                "BRIDGE_MAIL_TRANSPORT": "SMTP",
                "BRIDGE_SMTP_HOST": "mail.example.com",
                "BRIDGE_SMTP_SECURITY": "ssl",
                "BRIDGE_SMTP_USERNAME": "billing",
                "BRIDGE_SMTP_PASSWORD": "smtp-pass-0123",
                "BRIDGE_SMTP_FROM": "Example Billing <billing@example.com>",
                "BRIDGE_MAIL_OUTBOX_DIR": "/var/spool/voipbridge",
            }
        )

        mail = settings.mail
        assert (mail.transport, mail.smtp_host, mail.smtp_port) == ("smtp", "mail.example.com", 465)
        assert mail.smtp_from == "Example Billing <billing@example.com>"
        assert str(mail.outbox_dir) == "/var/spool/voipbridge"
        assert "smtp-pass-0123" not in repr(settings)

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("BRIDGE_MAIL_TRANSPORT", "pigeon", "one of whmcs-api, smtp, file"),
            ("BRIDGE_SMTP_SECURITY", "tls", "one of starttls, ssl, none"),
            ("BRIDGE_SMTP_PORT", "70000", "1 to 65535"),
            ("BRIDGE_SMTP_FROM", "billing", "not a mail address"),
            ("BRIDGE_WHMCS_API_URL", "billing.example.com", "WHMCS's address"),
            ("BRIDGE_WHMCS_API_URL", "https://admin:pw@billing.example.com", "WHMCS's address"),
        ],
    )
    def test_bad_values(self, name: str, value: str, message: str) -> None:
        """Each malformed mail setting is refused naming the variable, never echoing a password."""
        with pytest.raises(ConfigError, match=message) as caught:
            load_settings({name: value})
        assert name in caught.value.message
        assert "pw@" not in caught.value.message


def test_env_example_lists_every_variable_the_bridge_reads() -> None:
    """Each BRIDGE_* name bridge/settings.py reads has a line in .env.example."""
    root = Path(__file__).resolve().parents[1]
    read = set(re.findall(r'"(BRIDGE_[A-Z_]+)"', (root / "bridge" / "settings.py").read_text()))
    listed = set(re.findall(r"^#? ?(BRIDGE_[A-Z_]+)=", (root / ".env.example").read_text(), re.M))

    assert "BRIDGE_SMTP_PASSWORD" in read
    assert read - listed == set()
