"""install.sh: the files land where WHMCS and the modules look for them; upgrades keep config."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from tests.php_shim.harness import MODULES, SHIM, install_shim


def test_install_then_upgrade_keeps_the_operators_config(tmp_path: Path) -> None:
    """First install creates config.php (mode 640) from the example; a second keeps it."""
    php = install_shim(tmp_path)
    created = php.config_file.read_text(encoding="utf-8")
    php.config_file.write_text("<?php return ['bridge_url' => 'x', 'secret' => 'mine'];\n")

    again = subprocess.run(
        ["bash", str(SHIM / "install.sh"), str(php.whmcs)], capture_output=True, text=True,
        check=True,
    )  # fmt: skip

    assert created == (SHIM / "lib/config.example.php").read_text(encoding="utf-8")
    assert "'secret' => 'mine'" in php.config_file.read_text(encoding="utf-8")
    assert f"kept {php.config_file}" in again.stdout
    assert stat.S_IMODE(php.config_file.stat().st_mode) == 0o640
    for module in MODULES:
        folder = php.whmcs / "modules/servers" / module
        assert sorted(p.name for p in folder.iterdir()) == sorted([
            "autobill.php", "autosuspend.php", "clientarea.tpl", "collect.php", "daily.php",
            f"{module}.php", "realtime.php",
        ])  # fmt: skip
    assert (php.library / ".htaccess").read_text(encoding="utf-8").count("Require all denied")
    assert (php.library / "cache").is_dir()


def test_install_refuses_a_folder_that_is_not_whmcs(tmp_path: Path) -> None:
    """A folder without modules/servers/ is refused with exit status 2 and nothing copied."""
    done = subprocess.run(
        ["bash", str(SHIM / "install.sh"), str(tmp_path)], capture_output=True, text=True,
        check=False,
    )  # fmt: skip

    assert done.returncode == 2
    assert "has no modules/servers/" in done.stderr
    assert list(tmp_path.iterdir()) == []
