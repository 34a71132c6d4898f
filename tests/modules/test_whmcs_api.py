"""WHMCS's API over real HTTP: SendEmail's parameters, customvars, and what each failure means."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import phpserialize
import pytest

from bridge.errors import MessageRejected, ProviderRejected, ProviderUnavailable
from bridge.modules.whmcs_api import WhmcsApiClient, WhmcsApiCredentials, encode_custom_vars
from bridge.redact import MASK
from tests.fakes import Served, Switchboard, free_port
from tests.fakes.whmcs_api import API_PATH, IDENTIFIER, SECRET, FakeWhmcsApi, SentEmail

FIELDS = {
    "client_id": "12",
    "client_first_name": "Zoë 🚀",
    "client_credit": "3.20",
    "client_custom_field_lowbalancethreshold": "5",
}


@pytest.fixture(name="whmcs")
def _whmcs() -> FakeWhmcsApi:
    return FakeWhmcsApi(clients={12})


@pytest.fixture(name="served")
def _served(switchboard: Switchboard, whmcs: FakeWhmcsApi) -> Iterator[Served]:
    with switchboard.plug(whmcs.app()) as served:
        yield served


def _client(served: Served, *, secret: str = SECRET, access_key: str = "") -> WhmcsApiClient:
    credentials = WhmcsApiCredentials(
        url=served.url + API_PATH, identifier=IDENTIFIER, secret=secret, access_key=access_key
    )
    return WhmcsApiClient(credentials)


class TestSendEmail:
    def test_template_client_and_merge_fields_reach_whmcs(
        self, served: Served, whmcs: FakeWhmcsApi
    ) -> None:
        """WHMCS gets the template name, the client id and every field, emoji intact."""
        with _client(served) as api:
            api.send_email("Low Balance Alert", 12, FIELDS)

        assert whmcs.sent == [SentEmail("Low Balance Alert", 12, FIELDS)]

    def test_access_key_is_sent_when_configured(self, served: Served, whmcs: FakeWhmcsApi) -> None:
        """With an access key WHMCS lets the bridge past its API IP allow-list."""
        whmcs.access_key = "allow-me-through"

        with _client(served, access_key="allow-me-through") as api:
            api.send_email("VoIP Zero Balance", 12, FIELDS)

        assert [sent.messagename for sent in whmcs.sent] == ["VoIP Zero Balance"]

    def test_missing_access_key_is_a_refusal_to_fix_not_a_bad_message(
        self, served: Served, whmcs: FakeWhmcsApi
    ) -> None:
        """WHMCS's 'Invalid IP' 403 is shown, and it is not a refusal of the message itself."""
        whmcs.access_key = "allow-me-through"

        with _client(served) as api, pytest.raises(ProviderRejected) as caught:
            api.send_email("Low Balance Alert", 12, FIELDS)

        assert not isinstance(caught.value, MessageRejected)
        assert "Invalid IP 127.0.0.1" in caught.value.message

    def test_wrong_credentials_never_show_the_secret(
        self, served: Served, whmcs: FakeWhmcsApi
    ) -> None:
        """Even when WHMCS (or a proxy) echoes the secret it got, the error masks it."""
        whmcs.echo_secret = True
        wrong = "wrong-secret-0123456789"

        with _client(served, secret=wrong) as api, pytest.raises(ProviderRejected) as caught:
            api.send_email("Low Balance Alert", 12, FIELDS)

        assert "Authentication Failed" in caught.value.message
        assert wrong not in caught.value.message
        assert MASK in caught.value.message
        assert whmcs.sent == []

    @pytest.mark.parametrize(
        ("template", "client_id", "message"),
        [
            ("No Such Template", 12, "Email Template not found"),
            ("VoIP Zero Balance", 12, "Email Template is disabled"),
        ],
    )
    def test_refusals_of_the_message_itself(
        self,
        served: Served,
        whmcs: FakeWhmcsApi,
        template: str,
        client_id: int,
        message: str,
    ) -> None:
        """A missing or disabled template cannot be cured by retrying: MessageRejected."""
        whmcs.disabled = {"VoIP Zero Balance"}

        with _client(served) as api, pytest.raises(MessageRejected, match=message):
            api.send_email(template, client_id, FIELDS)

    def test_whmcs_mailer_failure_may_be_retried(self, served: Served, whmcs: FakeWhmcsApi) -> None:
        """'Sending Failed' (WHMCS's own mailer broke) is a refusal worth retrying."""
        whmcs.fault = "sending_failed"

        with _client(served) as api, pytest.raises(ProviderRejected) as caught:
            api.send_email("Low Balance Alert", 12, FIELDS)

        assert not isinstance(caught.value, MessageRejected)
        assert "Sending Failed" in caught.value.message

    def test_whmcs_down_is_temporary(self, served: Served, whmcs: FakeWhmcsApi) -> None:
        """A 503 from WHMCS's web server is ProviderUnavailable."""
        whmcs.fault = "down"

        with _client(served) as api, pytest.raises(ProviderUnavailable, match="503"):
            api.send_email("Low Balance Alert", 12, FIELDS)

    def test_nothing_listening_is_temporary(self) -> None:
        """WHMCS unreachable is ProviderUnavailable."""
        url = f"http://127.0.0.1:{free_port()}{API_PATH}"
        credentials = WhmcsApiCredentials(url=url, identifier=IDENTIFIER, secret=SECRET)

        with WhmcsApiClient(credentials) as api, pytest.raises(ProviderUnavailable):
            api.send_email("Low Balance Alert", 12, FIELDS)

    def test_an_html_page_names_the_setting_to_check(
        self, served: Served, whmcs: FakeWhmcsApi
    ) -> None:
        """A login page instead of JSON says BRIDGE_WHMCS_API_URL is probably wrong."""
        whmcs.fault = "html"

        with _client(served) as api, pytest.raises(ProviderRejected, match="WHMCS_API_URL"):
            api.send_email("Low Balance Alert", 12, FIELDS)


class TestCustomVars:
    def test_base64_of_a_php_serialized_array_with_byte_lengths(self) -> None:
        """Strings are serialized with their UTF-8 byte length, as PHP's unserialize needs."""
        encoded = encode_custom_vars({"client_first_name": "Zoë 🚀"})

        raw = base64.b64decode(encoded)

        assert raw == b'a:1:{s:17:"client_first_name";s:9:"Zo\xc3\xab \xf0\x9f\x9a\x80";}'
        assert phpserialize.loads(raw, decode_strings=True) == {"client_first_name": "Zoë 🚀"}
