"""install.sh: copies the scripts into FusionPBX's web root without clobbering, and removes them."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.fusionpbx_api.harness import API_SOURCE

INSTALL = API_SOURCE / "install.sh"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True)


def test_install_keeps_an_edited_whitelist(tmp_path: Path) -> None:
    """A second install (an upgrade) replaces the scripts but never the operator's whitelist."""
    state = tmp_path / "state"
    assert _run("--target", str(tmp_path), "--state-dir", str(state)).returncode == 0
    whitelist = tmp_path / "app/xml_cdr/chkcon_whitelist.conf"
    whitelist.write_text("203.0.113.5\n", encoding="utf-8")

    again = _run("--target", str(tmp_path), "--state-dir", str(state))

    assert again.returncode == 0
    assert whitelist.read_text(encoding="utf-8") == "203.0.113.5\n"
    assert (tmp_path / "app/status/index.php").is_file()
    assert state.is_dir()


def test_install_refuses_to_overwrite_a_file_that_is_not_ours(tmp_path: Path) -> None:
    """A FusionPBX file in the way stops the install before anything is copied."""
    theirs = tmp_path / "app/extensions/manage.php"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("<?php // someone else's\n", encoding="utf-8")

    done = _run("--target", str(tmp_path), "--state-dir", str(tmp_path / "state"))

    assert done.returncode == 2
    assert "refusing to overwrite" in done.stderr
    assert str(theirs) in done.stderr
    assert theirs.read_text(encoding="utf-8") == "<?php // someone else's\n"
    assert not (tmp_path / "app/xml_cdr/chkcon.php").exists()


def test_uninstall_removes_ours_and_keeps_config(tmp_path: Path) -> None:
    """--uninstall removes every script it installed, keeps the whitelist and FusionPBX's files."""
    state = tmp_path / "state"
    _run("--target", str(tmp_path), "--state-dir", str(state))
    fusionpbx_file = tmp_path / "app/extensions/extensions.php"
    fusionpbx_file.write_text("<?php // FusionPBX's own page\n", encoding="utf-8")

    done = _run("--target", str(tmp_path), "--state-dir", str(state), "--uninstall")

    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert done.returncode == 0
    assert left == ["app/extensions/extensions.php", "app/xml_cdr/chkcon_whitelist.conf"]
