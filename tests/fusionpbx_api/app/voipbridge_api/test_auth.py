"""The API user's login against v_users: FusionPBX's hash forms, groups, disabled users."""

from __future__ import annotations

import pytest

from tests.fusionpbx_api.harness import API_DOMAIN, API_PASSWORD, API_USERNAME, PhpFusionPbx

STATUS = "/app/status/index.php"
FAILED = {"success": 0, "message": "Authentication failed"}


def _login(pbx: PhpFusionPbx, username: str, password: str) -> dict[str, object]:
    answer = pbx.post(STATUS, {"username": username, "password": password})
    assert answer.status_code == 200
    result: dict[str, object] = answer.json()
    return result


def test_the_api_user_with_its_bcrypt_password_gets_in(fusionpbx_api: PhpFusionPbx) -> None:
    """A superadmin whose password FusionPBX stored with password_hash is let in."""
    assert _login(fusionpbx_api, API_USERNAME, API_PASSWORD)["success"] == 1


@pytest.mark.parametrize(
    ("username", "password"),
    [
        (API_USERNAME, "Fusion-Secret-43"),
        (API_USERNAME, ""),
        ("", API_PASSWORD),
        ("nobody", API_PASSWORD),
        (API_USERNAME, API_PASSWORD.lower()),
    ],
)
def test_bad_credentials_are_refused_alike(
    fusionpbx_api: PhpFusionPbx, username: str, password: str
) -> None:
    """Wrong, empty and unknown credentials all get the same answer and no switch command."""
    assert _login(fusionpbx_api, username, password) == FAILED
    assert fusionpbx_api.esl.received == []


def test_failures_are_logged_without_the_password(fusionpbx_api: PhpFusionPbx) -> None:
    """The log says who failed and why, never what password was tried."""
    _login(fusionpbx_api, API_USERNAME, "Tried-This-One-77")

    line = fusionpbx_api.log_lines()[-1]
    assert 'reason="authentication failed: wrong password" username="whmcs-api"' in line
    assert "Tried-This-One-77" not in fusionpbx_api.log_file.read_text(encoding="utf-8")


def test_legacy_salted_md5_passwords_still_work(fusionpbx_api: PhpFusionPbx) -> None:
    """A user FusionPBX stored as md5(salt . password) logs in with the right password only."""
    fusionpbx_api.add_user(API_DOMAIN, "old-admin", "Legacy-Pass-1", legacy_salt="f00dsalt")

    assert _login(fusionpbx_api, "old-admin", "Legacy-Pass-1")["success"] == 1
    assert _login(fusionpbx_api, "old-admin", "Legacy-Pass-2") == FAILED


def test_users_outside_the_api_groups_are_refused(fusionpbx_api: PhpFusionPbx) -> None:
    """A plain FusionPBX user with the right password is not an API user."""
    fusionpbx_api.add_user(API_DOMAIN, "receptionist", "Front-Desk-9", groups=("user",))

    assert _login(fusionpbx_api, "receptionist", "Front-Desk-9") == FAILED
    assert "not in an API group (superadmin)" in fusionpbx_api.log_lines()[-1]


def test_api_groups_setting_admits_other_groups(fusionpbx_api: PhpFusionPbx) -> None:
    """Naming a group in api_groups lets its members in."""
    fusionpbx_api.add_user(API_DOMAIN, "billing", "Billing-Pass-3", groups=("admin",))
    fusionpbx_api.write_settings(api_groups="superadmin, admin")

    assert _login(fusionpbx_api, "billing", "Billing-Pass-3")["success"] == 1


@pytest.mark.parametrize(("enabled", "user_type"), [(False, "default"), (True, "api")])
def test_disabled_or_special_users_are_refused(
    fusionpbx_api: PhpFusionPbx, enabled: bool, user_type: str
) -> None:
    """A disabled user, or one of another user type, cannot log in even with its password."""
    fusionpbx_api.add_user(API_DOMAIN, "gone", "Gone-Pass-4", enabled=enabled, user_type=user_type)

    assert _login(fusionpbx_api, "gone", "Gone-Pass-4") == FAILED


def test_same_name_in_two_domains_is_told_apart_by_its_password_or_domain(
    fusionpbx_api: PhpFusionPbx,
) -> None:
    """Users are unique per domain: name@domain picks one; a bare name tries each."""
    fusionpbx_api.add_user("tenant-a.example.com", "ops", "Ops-A-Pass-5")
    fusionpbx_api.add_user("tenant-b.example.com", "ops", "Ops-B-Pass-6")

    assert _login(fusionpbx_api, "ops", "Ops-B-Pass-6")["success"] == 1
    assert _login(fusionpbx_api, "ops@tenant-a.example.com", "Ops-A-Pass-5")["success"] == 1
    assert _login(fusionpbx_api, "ops@tenant-a.example.com", "Ops-B-Pass-6") == FAILED
