"""The health endpoint and the index."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.engine import URL, Connection
from starlette.datastructures import Secret
from starlette.testclient import TestClient

from bridge import __version__
from bridge.app import create_app
from bridge.db import BoundDatabase, EngineDatabase, make_engine
from bridge.settings import Settings
from bridge.store.servers import save_server_settings
from bridge.whmcs.tables import servers
from tests.factories.whmcs import make_server
from tests.fakes import Switchboard, free_port
from tests.fakes.fusionpbx import FakeFusionPbx


class TestHealth:
    def test_healthy_database(self, http: TestClient) -> None:
        """With the database answering, /healthz is 200 with the check's latency."""
        response = http.get("/healthz")

        assert response.status_code == 200
        check = response.json()["result"]["checks"]["database"]
        assert check["ok"] is True
        assert check["backend"] == "mysql"
        assert check["latency_ms"] >= 0

    def test_unreachable_database(self, mariadb_url: URL) -> None:
        """With the database down, /healthz is 503 and names the failed check, not the host."""
        settings = Settings(database_url=mariadb_url.set(port=1))
        app = create_app(settings, database=EngineDatabase(make_engine(settings)))
        with TestClient(app) as http:
            response = http.get("/healthz")

        assert response.status_code == 503
        body = response.json()
        assert body["ok"] is False
        assert body["result"]["checks"]["database"]["error"] == "database_unavailable"
        assert "127.0.0.1" not in response.text


class TestIndexAndRouting:
    def test_index_names_the_service(self, http: TestClient) -> None:
        """GET / says what this is and its version."""
        result = http.get("/").json()["result"]

        assert (result["service"], result["version"]) == ("voipbridge", __version__)

    def test_unknown_path_is_a_json_404(self, http: TestClient) -> None:
        """Unknown paths get the same JSON error envelope as everything else."""
        response = http.get("/nowhere")

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    def test_wrong_method_is_a_json_405(self, http: TestClient) -> None:
        """A GET on the module endpoint is a 405 in the envelope."""
        response = http.get("/v1/whmcs/fusionpbx/meta")

        assert response.status_code == 405
        assert response.json()["ok"] is False


KEY = Secret(base64.urlsafe_b64encode(b"h" * 32).decode())


class TestPbxHealth:
    def test_each_configured_pbx_is_reported(
        self,
        settings: Settings,
        database: BoundDatabase,
        conn: Connection,
        switchboard: Switchboard,
    ) -> None:
        """With ?pbx=1 each VoIP server is asked over HTTP; a down one makes the answer 503."""
        fake = FakeFusionPbx()
        with switchboard.plug(fake.app) as served:
            up = make_server(conn, module="fusionpbx", hostname=served.host)
            conn.execute(
                servers.update().where(servers.c.id == up).values(port=served.port, secure="")
            )
            save_server_settings(
                conn, up, key=KEY, now=datetime.now(UTC),
                secret_values={"api_password": fake.password},
            )  # fmt: skip
            conn.execute(servers.update().where(servers.c.id == up).values(username=fake.username))
            down = make_server(conn, module="fusionpbx", hostname="127.0.0.1")
            conn.execute(servers.update().where(servers.c.id == down).values(port=free_port()))
            app = create_app(replace(settings, encryption_key=KEY), database=database)
            with TestClient(app) as http:
                plain = http.get("/healthz")
                response = http.get("/healthz?pbx=1")

        assert plain.status_code == 200
        assert "pbx" not in plain.json()["result"]["checks"]
        checks = response.json()["result"]["checks"]["pbx"]
        assert response.status_code == 503
        assert checks[str(up)]["ok"] is True
        assert checks[str(down)]["ok"] is False
        assert response.json()["error"]["message"] == f"failed: pbx {down}"
        assert fake.password not in response.text

    def test_a_secret_under_another_key_fails_only_its_server(
        self, settings: Settings, database: BoundDatabase, conn: Connection
    ) -> None:
        """A server whose secret cannot be decrypted is one failed check, not a 500."""
        broken = make_server(conn, module="fusionpbx", hostname="127.0.0.1")
        other = Secret(base64.urlsafe_b64encode(b"o" * 32).decode())
        save_server_settings(
            conn, broken, key=other, now=datetime.now(UTC), secret_values={"api_password": "x"}
        )
        app = create_app(replace(settings, encryption_key=KEY), database=database)
        with TestClient(app) as http:
            response = http.get("/healthz?pbx=1")

        assert response.status_code == 503
        assert response.json()["result"]["checks"]["pbx"][str(broken)]["ok"] is False
        assert response.json()["error"]["message"] == f"failed: pbx {broken}"

    def test_one_round_of_checks_answers_every_caller_for_a_while(
        self,
        settings: Settings,
        database: BoundDatabase,
        conn: Connection,
        switchboard: Switchboard,
    ) -> None:
        """Three ?pbx=1 calls in a row ask the PBX once; the later ones say how old it is."""
        fake = FakeFusionPbx()
        with switchboard.plug(fake.app) as served:
            up = make_server(conn, module="fusionpbx", hostname=served.host)
            conn.execute(
                servers.update()
                .where(servers.c.id == up)
                .values(port=served.port, secure="", username=fake.username)
            )
            save_server_settings(
                conn, up, key=KEY, now=datetime.now(UTC),
                secret_values={"api_password": fake.password},
            )  # fmt: skip
            app = create_app(replace(settings, encryption_key=KEY), database=database)
            with TestClient(app) as http:
                answers = [http.get("/healthz?pbx=1") for _ in range(3)]

        assert [answer.status_code for answer in answers] == [200, 200, 200]
        assert len(fake.requests) == 1
        assert all(a.json()["result"]["pbx_checked_seconds_ago"] >= 0 for a in answers)
