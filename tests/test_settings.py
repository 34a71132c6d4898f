"""Settings parsed from the environment, with clear errors and no leaked secrets."""

from __future__ import annotations

import base64

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
