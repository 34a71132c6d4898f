"""Module calls from the PHP shims: meta, config-options, unknown names, bad bodies."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzzing
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from starlette.testclient import TestClient

from bridge.store.tables import nonces
from bridge.whmcs.catalog import MODULES
from tests.hostile import hostile_json, json_bodies
from tests.web.signing_helpers import call_module, signing_headers


class TestMeta:
    def test_each_module_describes_itself(self, http: TestClient) -> None:
        """Every VoIP module answers meta with WHMCS's MetaData keys."""
        for name, spec in MODULES.items():
            response = call_module(http, name, "meta")

            assert response.status_code == 200
            result = response.json()["result"]
            assert result["DisplayName"] == spec.display_name
            assert result["APIVersion"] == "1.1"
            assert result["RequiresServer"] is True


class TestConfigOptions:
    def test_fields_come_in_configoption_order(self, http: TestClient) -> None:
        """The product settings list keeps catalog order, which fixes configoption1..N."""
        response = call_module(http, "vodia", "config-options")

        options = response.json()["result"]
        assert list(options) == [field.name for field in MODULES["vodia"].settings]
        assert options["License Key"]["Type"] == "text"
        assert options["Special Number Billing"]["Type"] == "yesno"
        assert options["Mailbox"]["Options"] == "no,email without attachment,email with attachment"

    def test_catalog_fits_in_whmcs_24_settings(self) -> None:
        """No module declares more settings than WHMCS can store."""
        assert all(len(spec.settings) <= 24 for spec in MODULES.values())


class TestBadCalls:
    def test_unknown_module(self, http: TestClient, conn: Connection) -> None:
        """A module the bridge does not serve is a 404 naming it; the nonce is not spent."""
        response = call_module(http, "cpanel", "meta")

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "unknown_action"
        assert "'cpanel'" in response.json()["error"]["message"]
        assert conn.execute(select(func.count()).select_from(nonces)).scalar_one() == 0

    def test_unknown_action(self, http: TestClient) -> None:
        """An action the bridge does not offer is a 404 naming it."""
        response = call_module(http, "fusionpbx", "reboot-everything")

        assert response.status_code == 404
        assert "'reboot-everything'" in response.json()["error"]["message"]

    def test_body_that_is_not_json(self, http: TestClient, conn: Connection) -> None:
        """A signed body that is not JSON is a 422 and spends no nonce."""
        path = "/v1/whmcs/fusionpbx/meta"
        body = b"params=1&whmcs=2"

        response = http.post(path, content=body, headers=signing_headers(path, body))

        assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_request")
        assert conn.execute(select(func.count()).select_from(nonces)).scalar_one() == 0

    @pytest.mark.parametrize(
        "body",
        [
            b'{"params": {"n": ' + b"9" * 5000 + b"}}",
            b"[" * 100_000 + b"]" * 100_000,
            b'{"params": {"name": "\\ud800"}}',
            b'{"params": {"n": NaN}}',
            b"\xff\xfe{}",
        ],
        ids=["5000-digit integer", "100000-deep", "lone surrogate", "NaN", "not UTF-8"],
    )
    def test_json_python_refuses_oddly_is_a_422(
        self, http: TestClient, conn: Connection, body: bytes
    ) -> None:
        """What json.loads meets with ValueError or RecursionError is a 422, never a 500."""
        path = "/v1/whmcs/fusionpbx/meta"

        response = http.post(path, content=body, headers=signing_headers(path, body))

        assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_request")
        assert conn.execute(select(func.count()).select_from(nonces)).scalar_one() == 0

    def test_params_must_be_an_object(self, http: TestClient) -> None:
        """params sent as a list (other than PHP's empty []) is refused."""
        path = "/v1/whmcs/fusionpbx/meta"
        body = json.dumps({"params": [1, 2]}).encode()

        response = http.post(path, content=body, headers=signing_headers(path, body))

        assert response.status_code == 422

    def test_php_empty_array_params_are_accepted(self, http: TestClient) -> None:
        """WHMCS's empty-$params test call arrives as [] from json_encode and still works."""
        path = "/v1/whmcs/lesnet/meta"
        body = b'{"params": [], "whmcs": []}'

        response = http.post(path, content=body, headers=signing_headers(path, body))

        assert response.status_code == 200

    def test_query_must_name_only_page_parameters(self, http: TestClient) -> None:
        """A client-area query naming anything but vb… parameters, or not text, is refused."""
        path = "/v1/whmcs/fusionpbx/meta"
        refused = []
        for query in ({"id": "7"}, {"vbperiod": 3}, {"vbq": "x" * 201}, ["vbq"]):
            body = json.dumps({"params": {}, "query": query}).encode()
            refused.append(http.post(path, content=body, headers=signing_headers(path, body)))

        assert [r.status_code for r in refused] == [422, 422, 422, 422]
        assert "'id'" in refused[0].json()["error"]["message"]

    def test_page_parameters_are_accepted(self, http: TestClient) -> None:
        """The vb… parameters of a client-area page, or PHP's empty [], pass."""
        path = "/v1/whmcs/vodia/meta"
        answers = []
        queries: list[object] = [{"vbperiod": "2026-11-05", "vbsort": "cost"}, []]
        for query in queries:
            body = json.dumps({"params": {}, "query": query}).encode()
            answers.append(http.post(path, content=body, headers=signing_headers(path, body)))

        assert [a.status_code for a in answers] == [200, 200]


class TestHostileBodies:
    @fuzzing(
        max_examples=200,
        deadline=timedelta(seconds=2),
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        body=json_bodies
        | st.fixed_dictionaries(
            {}, optional={"params": hostile_json, "whmcs": hostile_json, "query": hostile_json}
        ).map(lambda payload: json.dumps(payload).encode())
    )
    def test_any_signed_body_is_answered_or_refused_without_spending_a_nonce(
        self, http: TestClient, conn: Connection, body: bytes
    ) -> None:
        """Any signed bytes or hostile JSON: a quick 200, or a 422 that spends no nonce."""
        path = "/v1/whmcs/fusionpbx/meta"
        spent = conn.execute(select(func.count()).select_from(nonces)).scalar_one()

        response = http.post(path, content=body, headers=signing_headers(path, body))

        assert response.status_code in (200, 422), response.text
        now_spent = conn.execute(select(func.count()).select_from(nonces)).scalar_one()
        assert now_spent == spent + (1 if response.status_code == 200 else 0)
