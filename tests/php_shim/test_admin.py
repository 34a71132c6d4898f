"""The admin's server and product pages through the real PHP modules: Test Connection, product
settings (and their cache), buttons, the services tab, Collect CDRs now, and package changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bridge.rating.plan import Package
from bridge.store.packages import save_package
from tests.factories.pbx_service import World, fusionpbx_cdr
from tests.fakes import Served
from tests.php_shim.harness import PhpShim


def _save_package(world: World, name: str) -> None:
    """Store a package named ``name`` in the bridge (flat inbound rate, no tariff)."""
    package = Package("1", name=name, inbound_rate=Decimal("0.01"), bill_inbound=True)
    save_package(world.conn, package, tariff=None, now=datetime.now(UTC))


class TestServerPage:
    def test_test_connection_passes_with_the_pbxs_words(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """Test Connection answers ['success' => true, 'error' => ''] for a whitelisted PBX."""
        result = php.call("fusionpbx_TestConnection", world.server_params)

        assert (result.value, result.type, result.warnings) == (
            {"success": True, "error": ""}, "array", "",
        )  # fmt: skip

    def test_test_connection_fails_with_the_pbxs_words(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """A PBX that refuses the bridge's address: success false and its own message."""
        world.pbx.whitelisted = False

        result = php.call("fusionpbx_TestConnection", world.server_params)

        assert result.value["success"] is False
        assert "Only whitelisted IPs may access this endpoint" in result.value["error"]

    def test_the_form_is_tested_not_the_saved_server(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """A port typed on the server form is the one tested; its password stays out of logs."""
        params = {**world.server_params, "serverport": "9", "serverpassword": "Typed-Pass-99"}

        result = php.call("fusionpbx_TestConnection", params)

        assert result.value["success"] is False
        assert result.value["error"].startswith("Cannot reach the FusionPBX server")
        assert "Typed-Pass-99" not in result.log_text


class TestProductPage:
    def test_config_options_offer_the_stored_packages_and_survive_the_bridge_down(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """The fields come in configoption order, packages to pick; the cache serves them later."""
        _save_package(world, "Gold")
        _save_package(world, "Basic")

        fields = php.call("fusionpbx_ConfigOptions").value
        php.configure("http://127.0.0.1:9", cache_dir=str(php.home / "cache"))
        cached = php.call("fusionpbx_ConfigOptions")

        assert list(fields) == [
            "License Key", "VoIP Package", "Special Number Billing", "Default Domain",
            "Extension Length",
        ]  # fmt: skip
        assert fields["VoIP Package"]["Type"] == "dropdown"
        assert fields["VoIP Package"]["Options"] == {"": "(none)", "Basic": "Basic", "Gold": "Gold"}
        assert (cached.value, cached.type, cached.warnings) == (fields, "array", "")

    def test_meta_data_and_buttons(self, php: PhpShim, bridge: Served, world: World) -> None:
        """MetaData names the module; the buttons map to functions the module defines."""
        meta = php.call("vodia_MetaData").value
        buttons = php.call("vodia_AdminCustomButtonArray").value

        assert meta["DisplayName"] == "Vodia PBX (voipbridge)"
        assert buttons == {
            "Verify License": "verifyLicense",
            "Activate License": "activateLicense",
            "Collect CDRs now": "collectCdrs",
        }
        module = (php.whmcs / "modules/servers/vodia/vodia.php").read_text(encoding="utf-8")
        for suffix in buttons.values():
            assert f"function vodia_{suffix}(" in module

    def test_change_package_to_a_stored_package(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """Changing to a stored package is 'success'; to an unknown one says how to create it."""
        _save_package(world, "Gold")

        changed = php.call("fusionpbx_ChangePackage", {**world.params, "configoption2": "Gold"})
        unknown = php.call("fusionpbx_ChangePackage", {**world.params, "configoption2": "Nope"})

        assert changed.value == "success"
        assert unknown.value == (
            "No VoIP package named 'Nope'; create it with `bridge package import Nope FILE`."
        )


class TestServicePage:
    def test_services_tab_shows_the_four_facts(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """VoIP status, last collection, usage so far and license, as escaped text."""
        tab = php.call("fusionpbx_AdminServicesTabFields", world.params)

        assert tab.type == "array"
        assert list(tab.value) == ["VoIP status", "Last collection", "Usage this period", "License"]
        assert tab.value["VoIP status"].startswith("Active; VoIP Suspended: None")
        assert tab.value["Last collection"] == "Never: no calls collected from PBX One yet."
        assert tab.value["License"].startswith("Invalid License")

    def test_collect_cdrs_now_stores_the_new_calls(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """Collect CDRs now stores the PBX's new call, logs how many; the services tab shows it."""
        start = datetime.now(UTC) - timedelta(hours=1)
        world.pbx.cdrs = [fusionpbx_cdr("call-1", start)]

        collected = php.call("fusionpbx_collectCdrs", world.params)
        again = php.call("fusionpbx_collectCdrs", world.params)
        tab = php.call("fusionpbx_AdminServicesTabFields", world.params).value

        assert (collected.value, again.value) == ("success", "success")
        assert "Collected from PBX One: 1 new call(s) stored, 0 with no service." in (
            collected.log_text
        )
        assert "Collected from PBX One: 0 new call(s) stored" in again.log_text
        assert tab["Last collection"].startswith("Calls collected up to ")

    def test_collect_cdrs_now_names_what_it_set_aside(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """A record that cannot be stored: the good call is stored, the button counts the other."""
        start = datetime.now(UTC) - timedelta(hours=1)
        world.pbx.cdrs = [
            fusionpbx_cdr("call-ok", start),
            {**fusionpbx_cdr("call-bad", start), "billsec": "9" * 12},
        ]

        collected = php.call("fusionpbx_collectCdrs", world.params)

        assert collected.value == "success"
        assert (
            "Collected from PBX One: 1 new call(s) stored, 0 with no service. 1 record(s) could "
            "not be stored and were quarantined (bridge doctor lists them)."
        ) in collected.log_text

    def test_escaped_text_on_the_services_tab(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """A service the bridge cannot find: the error is shown, escaped, under one label."""
        tab = php.call("fusionpbx_AdminServicesTabFields", {**world.params, "serviceid": 999999})

        assert tab.value == {"voipbridge": "WHMCS has no service #999999."}
        html = php.call("fusionpbx_AdminServicesTabFields", {"serviceid": "<b>1</b>"}).value
        assert "<b>" not in html["voipbridge"]
