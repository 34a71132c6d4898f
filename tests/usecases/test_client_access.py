"""Only the logged-in client's own VoIP services of the calling module are shown."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.engine import Connection

from bridge.errors import AccessDenied
from bridge.usecases.client_access import open_client_service, read_id
from tests.factories.whmcs import make_service
from tests.usecases.client_area_data import make_cad_client, make_metered_service, seed_plans


@pytest.fixture(name="owner")
def _owner(conn: Connection) -> int:
    seed_plans(conn)
    return make_cad_client(conn)


class TestClientAccess:
    def test_the_owner_sees_the_service_and_their_other_live_services(
        self, conn: Connection, owner: int
    ) -> None:
        """The owner gets the service, its client and their live VoIP services for the selector."""
        first = make_metered_service(conn, owner)
        second = make_metered_service(conn, owner, module="vodia")
        make_service(conn, owner, status="Terminated")

        access = open_client_service(
            conn, service_id=str(first), client_id=owner, module="fusionpbx"
        )

        assert access.service.id == first
        assert access.client.id == owner
        assert [s.id for s in access.services] == [first, second]

    @pytest.mark.parametrize("case", ["other client", "other module", "missing", "garbage"])
    def test_refusals_say_nothing_and_are_logged(
        self, conn: Connection, owner: int, case: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Another client's service, another module's, a missing or malformed id: one refusal."""
        service = make_metered_service(conn, owner)
        intruder = make_cad_client(conn)
        service_id, client_id, module = {
            "other client": (service, intruder, "fusionpbx"),
            "other module": (service, owner, "vodia"),
            "missing": (service + 1000, owner, "fusionpbx"),
            "garbage": ("1 OR 1=1", owner, "fusionpbx"),
        }[case]

        with (
            caplog.at_level(logging.WARNING, logger="bridge.usecases.client_access"),
            pytest.raises(AccessDenied) as refused,
        ):
            open_client_service(conn, service_id=service_id, client_id=client_id, module=module)

        assert refused.value.message == "This service is not available in your client area."
        assert refused.value.status_code == 403
        (record,) = caplog.records
        assert f"service={service_id!r}" in record.getMessage()
        assert f"client={client_id!r}" in record.getMessage()

    @pytest.mark.parametrize(
        ("value", "read"),
        [(7, 7), ("7", 7), (" 12 ", 12), (0, None), (-3, None), (True, None), ("7a", None),
         (None, None), ("9" * 30, None)],
    )  # fmt: skip
    def test_ids_are_read_strictly(self, value: object, read: int | None) -> None:
        """Ids are positive whole numbers, as numbers or digits; anything else is no id."""
        assert read_id(value) == read
