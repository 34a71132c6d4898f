"""voipbridge installed as a wheel, outside the checkout, still runs its demo and its CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(  # noqa: S603 - fixed commands of our own
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module", name="installed")
def _installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment outside the checkout with only the built wheel installed.

    The wheel is built from a copy of the sources (pip's isolated build; a build in the checkout
    would leave build/ and egg-info behind, whose file lists then hide a missing package-data
    entry); the environment gets it without
    its dependencies, which it borrows from the test environment's site-packages through a .pth
    line, so no network is needed. The test environment's editable install is not visible there:
    a .pth-added folder's own .pth files are never processed.
    """
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(
        ROOT / "bridge", source / "bridge", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work, source, cwd=work)
    (wheel,) = work.glob("voipbridge-*.whl")
    home = work / "venv"
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    _run(python, "-m", "pip", "install", "--no-deps", "-q", wheel, cwd=work)
    site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=work
        ).strip()
    )
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return home


def _env() -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "PYTHON"))},
        "COLUMNS": "200",
    }


def test_the_wheel_is_what_runs(installed: Path, tmp_path: Path) -> None:
    """Outside the checkout, `import bridge` finds the installed wheel, not the source tree."""
    where = _run(
        installed / "bin" / "python",
        "-c",
        "import bridge; print(bridge.__file__)",
        cwd=tmp_path,
        env=_env(),
    )

    assert Path(where.strip()).is_relative_to(installed)


def test_demo_and_help_run_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    """`bridge demo --no-serve` builds its database from the packaged schema; --help works."""
    bridge = installed / "bin" / "bridge"

    demo = _run(
        bridge, "demo", "--no-serve", "--db", tmp_path / "demo.db", cwd=tmp_path, env=_env()
    )
    usage = _run(bridge, "--help", cwd=tmp_path, env=_env())

    assert "Demo WHMCS clients" in demo
    assert "Call Usage" in demo
    assert (tmp_path / "demo.db").is_file()
    assert "demo" in usage
    assert "tariff" in usage


def test_client_area_templates_ship_in_the_wheel(installed: Path, tmp_path: Path) -> None:
    """The installed bridge finds every client-area template it renders."""
    names = _run(
        installed / "bin" / "python",
        "-c",
        "from bridge.web.client_templates import ENVIRONMENT as E\n"
        "for name in ('page', 'calls', 'chart', 'rates', 'unavailable', 'preview',\n"
        "             'preview_index'):\n"
        "    print(E.get_template(f'client_area/{name}.html').filename)",
        cwd=tmp_path,
        env=_env(),
    ).split()

    assert len(names) == 7
    assert all(Path(name).is_relative_to(installed) for name in names)
