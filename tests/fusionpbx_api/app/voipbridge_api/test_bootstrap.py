"""The shared code under app/voipbridge_api/: never runs as a page of its own."""

from __future__ import annotations

import httpx
import pytest

from tests.fusionpbx_api.harness import PhpFusionPbx


@pytest.mark.parametrize(
    "name",
    ["bootstrap.php", "settings.php", "database.php", "auth.php", "switch.php", "rate_limit.php"],
)
def test_library_files_answer_404_when_requested(fusionpbx_api: PhpFusionPbx, name: str) -> None:
    """Requesting a library file directly does nothing and says not found."""
    answer = httpx.post(f"{fusionpbx_api.url}/app/voipbridge_api/{name}", timeout=10)

    assert answer.status_code == 404
    assert answer.text == ""
    assert fusionpbx_api.log_lines() == []
