"""registrations/check_registration.php: FreeSWITCH's sofia_contact answer, per tenant."""

from __future__ import annotations

from tests.fusionpbx_api.harness import PhpFusionPbx

CHECK = "/app/registrations/check_registration.php"


def test_registration_comes_from_the_switch(fusionpbx_api: PhpFusionPbx) -> None:
    """A registered device answers true; the same number in another tenant answers false."""
    fusionpbx_api.esl.registered.add(("acme.example.com", "2112"))

    here = fusionpbx_api.post(CHECK, {"extension": "2112", "tenant_domain": "acme.example.com"})
    there = fusionpbx_api.post(CHECK, {"extension": "2112", "tenant_domain": "other.example.com"})

    assert here.json() == {
        "success": 1,
        "registered": True,
        "message": "2112@acme.example.com is registered",
    }
    assert there.json()["registered"] is False
    assert fusionpbx_api.esl.api_commands() == [
        "sofia_contact */2112@acme.example.com",
        "sofia_contact */2112@other.example.com",
    ]


def test_a_switch_that_is_down_is_a_refusal_not_unregistered(fusionpbx_api: PhpFusionPbx) -> None:
    """Without FreeSWITCH the answer is success 0, never a false "not registered"."""
    fusionpbx_api.esl.refuse_connections = True

    answer = fusionpbx_api.post(CHECK, {"extension": "2112", "tenant_domain": "acme.example.com"})

    assert answer.json()["success"] == 0
    assert "FreeSWITCH is not answering" in answer.json()["message"]


def test_a_missing_domain_field_is_refused(fusionpbx_api: PhpFusionPbx) -> None:
    """The seeds' field names are required: tenant_domain names the tenant."""
    answer = fusionpbx_api.post(CHECK, {"extension": "2112"}).json()

    assert answer == {"success": 0, "message": "Field 'tenant_domain' is required (domain name)."}
