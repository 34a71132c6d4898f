"""The admin's service actions through the real PHP modules: what WHMCS receives, what changed.

Each test calls a module function with the $params WHMCS sends, in a ``php`` process, against the
bridge under uvicorn and a fake FusionPBX, then checks WHMCS's return value, the PBX's state, the
WHMCS tables and the module log (with no secret in it).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bridge.calls import CollectedCdr
from bridge.rating.models import Cdr, Direction
from bridge.store.cdrs import store_cdrs
from bridge.store.servers import save_server_settings
from bridge.store.suspensions import open_suspension, start_suspension
from bridge.store.tables import cdrs
from bridge.usecases.voip_state import VOIP_SUSPENDED, ZERO_BALANCE_REASON
from bridge.whmcs.customfields import get_client_field, set_client_field
from bridge.whmcs.services import ServiceStatus, set_service_status
from bridge.whmcs.tables import module_log, products, servers
from tests.factories.pbx_service import EXTENSIONS, KEY, SERVICE_PASSWORD, TENANT, World
from tests.fakes import Served, serve
from tests.fakes.vodia import FakeVodia
from tests.php_shim.harness import PhpShim


def _enabled(world: World) -> set[bool]:
    states = {world.pbx.extensions[(TENANT, ext)] for ext in EXTENSIONS}
    return states | {world.pbx.gateways[(TENANT, TENANT)]}


def _logged(world: World) -> list[tuple[str, str, str]]:
    rows = world.conn.execute(
        select(module_log.c.module, module_log.c.action, module_log.c.response).order_by(
            module_log.c.id
        )
    )
    return [(row.module, row.action, row.response) for row in rows]


class TestCreate:
    def test_activate_then_create_enables_the_tenant(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """Activate License, then Create: 'success', the PBX enabled, both logs written."""
        activated = php.call("fusionpbx_activateLicense", world.params)
        created = php.call("fusionpbx_CreateAccount", world.params)

        assert (activated.value, activated.warnings) == ("success", "")
        assert "License Activated: billing.example.net (203.0.113.10)" in activated.log_text
        assert (created.value, created.type, created.warnings) == ("success", "string", "")
        assert _enabled(world) == {True}
        assert [(m, a) for m, a, _r in _logged(world)] == [("fusionpbx", "create")]
        assert "Enabled for the new service" in _logged(world)[0][2]
        assert [entry["action"] for entry in created.log] == ["create"]
        for secret in (world.pbx.password, world.license_key, SERVICE_PASSWORD):
            assert secret not in created.log_text

    def test_create_files_calls_collected_before_the_service_existed(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """A call of the tenant stored before the service existed is the service's after Create."""
        early = CollectedCdr(
            Cdr(
                uuid="early-call", direction=Direction.OUTBOUND, caller_number="2112",
                caller_destination="", destination_number="4165550100",
                start=datetime.now(UTC), billsec=30,
            ),
            domain=TENANT,
        )  # fmt: skip
        store_cdrs(world.conn, world.server_id, [early], now=datetime.now(UTC), service_id=None)
        php.call("fusionpbx_activateLicense", world.params)

        created = php.call("fusionpbx_CreateAccount", world.params)

        owner = world.conn.execute(select(cdrs.c.service_id).where(cdrs.c.uuid == "early-call"))
        assert created.value == "success"
        assert owner.scalar_one() == world.service_id

    def test_create_without_a_valid_license_is_refused(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """Without Activate, Create answers Invalid License and the PBX is never asked."""
        created = php.call("fusionpbx_CreateAccount", world.params)

        assert created.value.startswith("Invalid License")
        assert world.pbx.requests == []
        assert _enabled(world) == {False}


class TestLicenseButtons:
    def test_verify_before_and_after_activate(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """Verify License shows Invalid License as WHMCS's error, then 'success' once activated."""
        before = php.call("fusionpbx_verifyLicense", world.params)
        php.call("fusionpbx_activateLicense", world.params)
        after = php.call("fusionpbx_verifyLicense", world.params)
        tab = php.call("fusionpbx_AdminServicesTabFields", world.params).value

        assert before.value.startswith("Invalid License")
        assert (after.value, after.type, after.warnings) == ("success", "string", "")
        assert "License Active (billing.example.net" in after.log_text
        assert tab["License"].startswith("License Active (billing.example.net")
        assert world.license_key not in after.log_text


class TestSuspension:
    def test_suspend_twice_then_unsuspend_twice(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """Suspend and Unsuspend each answer 'success' again when repeated (WHMCS retries)."""
        world.pbx.add_tenant(TENANT, EXTENSIONS, enabled=True)

        suspended = [php.call("fusionpbx_SuspendAccount", world.params).value for _ in range(2)]
        states_suspended = _enabled(world)
        unsuspended = [php.call("fusionpbx_UnsuspendAccount", world.params).value for _ in range(2)]

        assert (suspended, states_suspended) == (["success", "success"], {False})
        assert (unsuspended, _enabled(world)) == (["success", "success"], {True})
        assert [a for _m, a, _r in _logged(world)] == ["suspend"] * 2 + ["unsuspend"] * 2

    def test_suspend_works_without_a_license(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """An unlicensed bridge still suspends: a license never keeps a service running."""
        world.pbx.add_tenant(TENANT, EXTENSIONS, enabled=True)

        suspended = php.call("fusionpbx_SuspendAccount", {**world.params, "configoption1": ""})

        assert (suspended.value, _enabled(world)) == ("success", {False})

    def test_unsuspending_the_jobs_suspension_ends_it(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """Unsuspend of a service autosuspend suspended ends the suspension, VoIP Suspended None."""
        now = datetime.now(UTC)
        suspended, reason = ServiceStatus.SUSPENDED, ZERO_BALANCE_REASON
        set_service_status(world.conn, world.service_id, suspended, suspend_reason=reason)
        _set_voip_suspended(world, now)
        start_suspension(world.conn, world.client_id, "auto", now=now)

        unsuspended = php.call("fusionpbx_UnsuspendAccount", world.params)

        assert (unsuspended.value, _enabled(world)) == ("success", {True})
        assert get_client_field(world.conn, world.client_id, VOIP_SUSPENDED) == "None"
        assert open_suspension(world.conn, world.client_id) is None

    def test_a_whmcs_suspension_leaves_the_voip_state_alone(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """Unsuspending a service WHMCS suspended (overdue) keeps the client's VoIP Suspended."""
        now = datetime.now(UTC)
        set_service_status(
            world.conn, world.service_id, ServiceStatus.SUSPENDED, suspend_reason="Overdue"
        )
        _set_voip_suspended(world, now)
        start_suspension(world.conn, world.client_id, "auto", now=now)

        assert php.call("fusionpbx_UnsuspendAccount", world.params).value == "success"
        assert get_client_field(world.conn, world.client_id, VOIP_SUSPENDED) == "Yes"
        assert open_suspension(world.conn, world.client_id) is not None

    def test_terminate_disables_and_says_what_is_kept(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """Terminate answers 'success', disables the tenant, logs that its data stays."""
        world.pbx.add_tenant(TENANT, EXTENSIONS, enabled=True)

        terminated = php.call("fusionpbx_TerminateAccount", world.params)

        assert (terminated.value, _enabled(world)) == ("success", {False})
        assert "call records are kept on the PBX" in _logged(world)[-1][2]

    def test_create_and_terminate_are_safe_to_repeat(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """WHMCS's Module Queue retries: Create twice and Terminate twice all answer 'success'."""
        php.call("fusionpbx_activateLicense", world.params)

        created = [php.call("fusionpbx_CreateAccount", world.params).value for _ in range(2)]
        enabled = _enabled(world)
        terminated = [php.call("fusionpbx_TerminateAccount", world.params).value for _ in range(2)]

        assert (created, enabled) == (["success", "success"], {True})
        assert (terminated, _enabled(world)) == (["success", "success"], {False})
        assert [action for _m, action, _r in _logged(world)] == ["create"] * 2 + ["terminate"] * 2


class TestPbxWords:
    def test_a_pbx_refusal_is_the_message_whmcs_shows(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """A tenant the PBX does not know: WHMCS gets the PBX's own words, and it is logged."""
        params = {**world.params, "domain": "other.example.net | 5195550100"}

        suspended = php.call("fusionpbx_SuspendAccount", params)

        assert "not found in domain other.example.net" in suspended.value
        assert _logged(world)[-1][1:] == ("suspend", f"Failed: {suspended.value}")

    def test_a_malformed_domain_is_explained(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """A Domain without the main DID answers the format expected, not a crash."""
        suspended = php.call("fusionpbx_SuspendAccount", {**world.params, "domain": TENANT})

        assert suspended.value.startswith(f"Domain '{TENANT}' must be the tenant domain")
        assert world.pbx.requests == []

    def test_lesnet_answers_the_admins_action_item(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """LesNet has no API: Suspend answers what to do in its portal, never 'success'."""
        params = {
            **world.params,
            "moduletype": "lesnet",
            "domain": "D4E3CD2BFC791 | 12046664021",
            "customfields": {"CDR Link": "https://portal.les.net/cdr/11330_0000.txt"},
        }
        _make_lesnet(world)

        suspended = php.call("lesnet_SuspendAccount", params)

        assert suspended.value.startswith("LesNet has no API to suspend peer D4E3CD2BFC791")
        assert "Nothing was changed by the bridge." in suspended.value


class TestVodia:
    def test_suspend_and_unsuspend_a_vodia_tenant(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """The vodia module drives a Vodia PBX: extensions disabled, then enabled again."""
        vodia = FakeVodia(password="Vodia-Pass-31")
        vodia.add_tenant("pbx.vodia.test", {"8300": False, "8301": False})
        _switch_module(world, "vodia")
        save_server_settings(
            world.conn, world.server_id, key=KEY, now=datetime.now(UTC),
            secret_values={"api_password": vodia.password},
        )  # fmt: skip
        params = {**world.params, "moduletype": "vodia", "domain": "pbx.vodia.test | 5484815577",
                  "username": "8300", "serverpassword": vodia.password}  # fmt: skip
        with serve(vodia.app) as served:
            world.conn.execute(
                servers.update().values(hostname=served.host, port=served.port, username="admin")
            )
            suspended = php.call("vodia_SuspendAccount", params)
            disabled = dict(vodia.extensions["pbx.vodia.test"])
            unsuspended = php.call("vodia_UnsuspendAccount", params)

        assert (suspended.value, disabled) == ("success", {"8300": True, "8301": True})
        assert unsuspended.value == "success"
        assert vodia.extensions["pbx.vodia.test"] == {"8300": False, "8301": False}
        assert vodia.password not in suspended.log_text


def _switch_module(world: World, module: str) -> None:
    """Turn the world's product and server into ``module`` ones."""
    world.conn.execute(
        products.update().where(products.c.id == world.product_id).values(servertype=module)
    )
    world.conn.execute(servers.update().where(servers.c.id == world.server_id).values(type=module))


def _make_lesnet(world: World) -> None:
    """Turn the world's product and server into LesNet ones."""
    _switch_module(world, "lesnet")


def _set_voip_suspended(world: World, now: datetime) -> None:
    """Set the client's VoIP Suspended to Yes, as the autosuspend job does."""
    set_client_field(
        world.conn, world.client_id, VOIP_SUSPENDED, "Yes", at=now.replace(tzinfo=None)
    )
