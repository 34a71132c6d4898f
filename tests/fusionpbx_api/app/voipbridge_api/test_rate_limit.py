"""Rate limits: requests per minute and failed logins per IP answer 429 with the JSON shape."""

from __future__ import annotations

from tests.fusionpbx_api.harness import API_PASSWORD, API_USERNAME, PhpFusionPbx

CHKCON = "/app/xml_cdr/chkcon.php"
STATUS = "/app/status/index.php"


def test_too_many_requests_in_a_minute_get_429(fusionpbx_api: PhpFusionPbx) -> None:
    """The fourth call in a minute with a limit of three is refused with Retry-After."""
    fusionpbx_api.write_settings(requests_per_minute="3")

    answers = [fusionpbx_api.post(CHKCON, auth=False) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    body = refused.json()
    assert body["success"] == 0
    assert body["message"].startswith("Too many requests: more than 3 requests per minute")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert body["retry_after"] == int(refused.headers["Retry-After"])
    assert 'reason="more than 3 requests per minute"' in fusionpbx_api.log_lines()[-1]


def test_limits_are_counted_per_address(fusionpbx_api: PhpFusionPbx) -> None:
    """One caller using up its limit does not lock out another address."""
    fusionpbx_api.write_settings(requests_per_minute="1")
    fusionpbx_api.write_whitelist("127.0.0.0/24\n")

    first = fusionpbx_api.post(CHKCON, auth=False, source="127.0.0.20")
    again = fusionpbx_api.post(CHKCON, auth=False, source="127.0.0.20")
    other = fusionpbx_api.post(CHKCON, auth=False, source="127.0.0.21")

    assert (first.status_code, again.status_code, other.status_code) == (200, 429, 200)


def test_repeated_failed_logins_lock_the_address_out(fusionpbx_api: PhpFusionPbx) -> None:
    """After the allowed failed logins even the right password is refused with 429."""
    fusionpbx_api.write_settings(auth_failure_limit="2", auth_failure_window="600")
    wrong = {"username": API_USERNAME, "password": "guess"}

    first = fusionpbx_api.post(STATUS, wrong).json()
    second = fusionpbx_api.post(STATUS, wrong).json()
    locked = fusionpbx_api.post(STATUS, {"username": API_USERNAME, "password": API_PASSWORD})

    assert first == second == {"success": 0, "message": "Authentication failed"}
    assert locked.status_code == 429
    assert "2 failed logins within 600 seconds" in locked.json()["message"]
    assert 540 < int(locked.headers["Retry-After"]) <= 600
