"""status/index.php: database and FreeSWITCH both answering, or why not."""

from __future__ import annotations

import httpx

from tests.fusionpbx_api.harness import PhpFusionPbx

STATUS = "/app/status/index.php"


def test_status_reports_database_and_switch(fusionpbx_api: PhpFusionPbx) -> None:
    """The answer counts domains and quotes FreeSWITCH's uptime and version."""
    fusionpbx_api.add_domain("acme.example.com")

    answer = fusionpbx_api.post(STATUS).json()

    assert answer["success"] == 1
    assert answer["message"].startswith("FusionPBX online: database ok (2 domains), FreeSWITCH UP")
    assert (answer["domains"], answer["switch_version"]) == (2, "1.10.12")


def test_a_wrong_event_socket_password_is_reported(fusionpbx_api: PhpFusionPbx) -> None:
    """A switch refusing config.conf's event socket password makes status fail saying so."""
    fusionpbx_api.esl.password = "Changed-On-The-Switch"
    try:
        answer = fusionpbx_api.post(STATUS).json()
    finally:
        fusionpbx_api.esl.password = "ClueCon-Test-7"

    assert answer["success"] == 0
    assert "refused the password" in answer["message"]


def test_an_unreadable_fusionpbx_config_is_a_clear_500(fusionpbx_api: PhpFusionPbx) -> None:
    """A wrong config path answers JSON 500 naming the file, not a PHP error page."""
    fusionpbx_api.write_settings(fusionpbx_config="/nonexistent/config.conf")

    answer = fusionpbx_api.post(STATUS)

    assert answer.status_code == 500
    assert answer.json() == {
        "success": 0,
        "message": "Cannot read FusionPBX's configuration file /nonexistent/config.conf; "
        "check that it exists and the web server may read it.",
    }


def test_get_is_refused(fusionpbx_api: PhpFusionPbx) -> None:
    """Only POST is served; a GET gets 405 with the JSON error shape."""
    answer = httpx.get(fusionpbx_api.url + STATUS, timeout=10)

    assert answer.status_code == 405
    assert answer.json() == {"success": 0, "message": "Use POST."}
