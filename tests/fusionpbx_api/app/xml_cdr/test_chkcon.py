"""chkcon.php over HTTP: the whitelist file beside it, CIDR edges from real loopback sources."""

from __future__ import annotations

import pytest

from tests.fakes.fusionpbx import DENIED, GRANTED
from tests.fusionpbx_api.harness import PhpFusionPbx

CHKCON = "/app/xml_cdr/chkcon.php"


@pytest.mark.parametrize(
    ("source", "allowed"),
    [
        ("127.0.0.3", False),
        ("127.0.0.4", True),
        ("127.0.0.5", True),
        ("127.0.0.6", False),
        ("127.0.1.9", True),
        ("127.0.2.9", False),
    ],
)
def test_cidr_blocks_admit_exactly_their_addresses(
    fusionpbx_api: PhpFusionPbx, source: str, allowed: bool
) -> None:
    """A /31 admits its two addresses and no neighbour; a /24 its own network only."""
    fusionpbx_api.write_whitelist("127.0.0.4/31\n127.0.1.0/24  # office\n")

    answer = fusionpbx_api.post(CHKCON, auth=False, source=source).json()

    assert answer == (
        {"success": 1, "message": GRANTED} if allowed else {"success": 0, "message": DENIED}
    )


def test_refusals_are_logged_with_the_address(fusionpbx_api: PhpFusionPbx) -> None:
    """Every refused call leaves a log line naming the caller, for fail2ban and the admin."""
    fusionpbx_api.write_whitelist("127.0.0.1\n")

    fusionpbx_api.post(CHKCON, auth=False, source="127.0.0.7")
    fusionpbx_api.post(CHKCON, auth=False, source="127.0.0.7")

    refused = [line for line in fusionpbx_api.log_lines() if " refused " in line]
    assert len(refused) == 2
    assert 'ip=127.0.0.7 reason="not whitelisted"' in refused[0]


def test_malformed_lines_are_ignored_and_logged(fusionpbx_api: PhpFusionPbx) -> None:
    """Broken lines never widen the whitelist: they are skipped and reported by line number."""
    fusionpbx_api.write_whitelist("127.0.0.1/\n127.0.0.0/33\n127.0.0.one\n127.0.0.8\n")

    refused = fusionpbx_api.post(CHKCON, auth=False, source="127.0.0.1").json()
    granted = fusionpbx_api.post(CHKCON, auth=False, source="127.0.0.8").json()

    assert (refused["success"], granted["success"]) == (0, 1)
    ignored = [line for line in fusionpbx_api.log_lines() if "whitelist_line_ignored" in line]
    assert 'line="line 1: 127.0.0.1/"' in ignored[0]
    assert 'line="line 3: 127.0.0.one"' in ignored[2]


def test_a_missing_whitelist_admits_nobody(fusionpbx_api: PhpFusionPbx) -> None:
    """Without chkcon_whitelist.conf every caller is refused, and the log says why."""
    fusionpbx_api.whitelist_file.unlink()

    answer = fusionpbx_api.post(CHKCON, auth=False).json()

    assert answer == {"success": 0, "message": DENIED}
    assert "is missing or unreadable" in fusionpbx_api.log_lines()[-1]


def test_no_credentials_are_needed_but_every_other_script_wants_them(
    fusionpbx_api: PhpFusionPbx,
) -> None:
    """chkcon.php answers a whitelisted caller without a login; status/index.php does not."""
    chkcon = fusionpbx_api.post(CHKCON, auth=False).json()
    status = fusionpbx_api.post("/app/status/index.php", auth=False).json()

    assert chkcon["success"] == 1
    assert status == {"success": 0, "message": "Authentication failed"}


def test_other_scripts_refuse_callers_off_the_whitelist(fusionpbx_api: PhpFusionPbx) -> None:
    """Right credentials from an address off the whitelist still get the whitelist refusal."""
    answer = fusionpbx_api.post("/app/status/index.php", source="127.0.0.9").json()

    assert answer == {"success": 0, "message": DENIED}
    assert fusionpbx_api.esl.received == []
