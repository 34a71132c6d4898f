"""gateways/provision_list.php: a tenant's gateways and their state, never their credentials."""

from __future__ import annotations

from tests.fusionpbx_api.harness import PhpFusionPbx

LIST = "/app/gateways/provision_list.php"


def test_a_domain_lists_its_own_gateways_without_secrets(fusionpbx_api: PhpFusionPbx) -> None:
    """Only the domain's gateways, sorted by name, with enabled flags and no password."""
    fusionpbx_api.add_gateway("acme.example.com", "b-trunk", enabled=False)
    fusionpbx_api.add_gateway("acme.example.com", "a-trunk")
    fusionpbx_api.add_gateway("other.example.com", "c-trunk")
    fusionpbx_api.add_gateway(None, "global-trunk")

    answer = fusionpbx_api.post(LIST, {"domain": "acme.example.com"}).json()

    assert answer["message"] == "2 gateways"
    assert [(g["gateway_name"], g["enabled"]) for g in answer["gateways"]] == [
        ("a-trunk", True),
        ("b-trunk", False),
    ]
    assert all("password" not in g and "username" not in g for g in answer["gateways"])


def test_without_a_domain_every_gateway_is_listed(fusionpbx_api: PhpFusionPbx) -> None:
    """Global gateways come first, then each domain's."""
    fusionpbx_api.add_gateway("acme.example.com", "a-trunk")
    fusionpbx_api.add_gateway(None, "global-trunk")

    answer = fusionpbx_api.post(LIST).json()

    assert [(g["domain_name"], g["gateway_name"]) for g in answer["gateways"]] == [
        (None, "global-trunk"),
        ("acme.example.com", "a-trunk"),
    ]
