"""Fixtures for tests that need the FusionPBX-side scripts running (registered in tests/conftest).

``php_fusionpbx`` starts PHP's built-in server on the installed scripts once per test session
(see :mod:`tests.fusionpbx_api.harness`); ``fusionpbx_api`` hands it to a test after a reset, so
each test starts from the same PBX: the API user, a whitelist of 127.0.0.1, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fusionpbx_api.harness import PhpFusionPbx, run_php_fusionpbx


@pytest.fixture(scope="session", name="php_fusionpbx")
def _php_fusionpbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhpFusionPbx]:
    with run_php_fusionpbx(tmp_path_factory.mktemp("fusionpbx_api")) as pbx:
        yield pbx


@pytest.fixture(name="fusionpbx_api")
def _fusionpbx_api(php_fusionpbx: PhpFusionPbx) -> PhpFusionPbx:
    php_fusionpbx.reset()
    return php_fusionpbx
