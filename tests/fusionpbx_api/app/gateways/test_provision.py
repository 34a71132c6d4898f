"""gateways/provision.php: v_gateways rows within the tenant, killgw and rescan on the switch."""

from __future__ import annotations

import socket
from typing import Any

from tests.fusionpbx_api.harness import PhpFusionPbx

PROVISION = "/app/gateways/provision.php"
ACME = "acme.example.com"
SOFIA_CACHE = f"{socket.gethostname()}.configuration.sofia.conf"


def _provision(pbx: PhpFusionPbx, action: str, name: str = ACME, **fields: str) -> Any:
    answer = pbx.post(PROVISION, {"action": action, "gateway_name": name, **fields})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_disable_kills_the_gateway_and_enable_rescans_its_profile(
    fusionpbx_api: PhpFusionPbx,
) -> None:
    """Disable stores enabled=false and kills it by uuid; enable stores true and rescans."""
    gateway_uuid = fusionpbx_api.add_gateway(ACME, ACME, profile="external-ipv4")
    cached = fusionpbx_api.cache_dir / SOFIA_CACHE
    cached.write_text("<configuration/>", encoding="utf-8")

    disabled = _provision(fusionpbx_api, "disable", domain=ACME)

    assert disabled == {"success": 1, "changed": 1, "message": f"Gateway {ACME}@{ACME} disabled"}
    assert fusionpbx_api.gateway(ACME, ACME)["enabled"] is False  # type: ignore[index]
    assert not cached.exists()
    assert fusionpbx_api.esl.api_commands() == [
        f"sofia profile external-ipv4 killgw {gateway_uuid}"
    ]
    assert fusionpbx_api.esl.events()[0].headers["API-Command-Argument"] == f"delete {SOFIA_CACHE}"

    enabled = _provision(fusionpbx_api, "enable", domain=ACME)

    assert enabled["changed"] == 1
    assert fusionpbx_api.gateway(ACME, ACME)["enabled"] is True  # type: ignore[index]
    assert fusionpbx_api.esl.api_commands()[-1] == "sofia profile external-ipv4 rescan"


def test_a_gateway_of_the_same_name_in_another_tenant_is_left_alone(
    fusionpbx_api: PhpFusionPbx,
) -> None:
    """The lookup is within the domain, so one tenant's suspension never stops another's."""
    fusionpbx_api.add_gateway(ACME, "shared-trunk")
    other = fusionpbx_api.add_gateway("other.example.com", "shared-trunk")

    _provision(fusionpbx_api, "disable", "shared-trunk", domain=ACME)

    assert fusionpbx_api.gateway("other.example.com", "shared-trunk")["enabled"] is True  # type: ignore[index]
    assert other not in " ".join(fusionpbx_api.esl.api_commands())


def test_without_a_domain_the_name_must_be_unique(fusionpbx_api: PhpFusionPbx) -> None:
    """A name found once is used; a name in two domains is refused as ambiguous."""
    fusionpbx_api.add_gateway(ACME, "only-one")
    fusionpbx_api.add_gateway(ACME, "twice")
    fusionpbx_api.add_gateway("other.example.com", "twice")

    unique = _provision(fusionpbx_api, "disable", "only-one")
    ambiguous = _provision(fusionpbx_api, "disable", "twice")
    missing = _provision(fusionpbx_api, "disable", "nowhere", domain=ACME)

    assert unique["changed"] == 1
    assert ambiguous == {"success": 0, "message": "2 gateways are named twice; give the domain."}
    assert missing == {"success": 0, "message": f"Gateway nowhere not found in domain {ACME}"}


def test_repeated_disable_is_idempotent(fusionpbx_api: PhpFusionPbx) -> None:
    """Disabling a disabled gateway answers changed 0 and kills it again, harmlessly."""
    fusionpbx_api.add_gateway(ACME, ACME, enabled=False)

    again = _provision(fusionpbx_api, "disable", domain=ACME)

    assert (again["success"], again["changed"]) == (1, 0)
    assert again["message"] == f"Gateway {ACME}@{ACME} was already disabled"


def test_create_update_and_delete(fusionpbx_api: PhpFusionPbx) -> None:
    """A gateway is created with defaults, updated (restarted), and deleted (killed)."""
    fusionpbx_api.add_domain(ACME)

    created = _provision(
        fusionpbx_api,
        "create",
        "acme-trunk",
        domain=ACME,
        proxy="sip.carrier.example:5060",
        gateway_username="acct-77",
        gateway_password="Trunk-Secret-1",
    )
    row = fusionpbx_api.gateway(ACME, "acme-trunk")

    assert created["changed"] == 1
    assert row is not None
    assert str(row["gateway_uuid"]) == created["gateway_uuid"]
    assert (row["username"], row["password"], row["profile"], row["register"]) == (
        "acct-77",
        "Trunk-Secret-1",
        "external",
        True,
    )
    assert fusionpbx_api.esl.api_commands() == ["sofia profile external rescan"]

    updated = _provision(fusionpbx_api, "update", "acme-trunk", domain=ACME, profile="internal")

    assert updated["changed"] == 1
    assert fusionpbx_api.esl.api_commands()[1:] == [
        f"sofia profile external killgw {created['gateway_uuid']}",
        "sofia profile internal rescan",
    ]

    deleted = _provision(fusionpbx_api, "delete", "acme-trunk", domain=ACME)

    assert deleted["changed"] == 1
    assert fusionpbx_api.gateway(ACME, "acme-trunk") is None
    assert fusionpbx_api.esl.api_commands()[-1] == (
        f"sofia profile internal killgw {created['gateway_uuid']}"
    )


def test_create_needs_a_proxy_and_a_domain(fusionpbx_api: PhpFusionPbx) -> None:
    """Creating without a proxy or without a domain is refused with what is missing."""
    fusionpbx_api.add_domain(ACME)

    assert "'proxy' is required" in _provision(fusionpbx_api, "create", "t", domain=ACME)["message"]
    assert "'domain' is required" in _provision(fusionpbx_api, "create", "t", proxy="h")["message"]
    assert fusionpbx_api.select("SELECT * FROM v_gateways") == []
