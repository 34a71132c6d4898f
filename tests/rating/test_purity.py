"""The rating package stays pure: no I/O, database, HTTP or service imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bridge.rating

RATING_DIR = Path(bridge.rating.__file__).parent
PACKAGE = "bridge.rating"
FORBIDDEN = (
    "sqlalchemy",
    "httpx",
    "starlette",
    "pymysql",
    "socket",
    "os",
    "subprocess",
    "bridge.whmcs",
    "bridge.db",
    "bridge.store",
    "bridge.modules",
)


def _imported_modules(source: str) -> set[str]:
    """Return every module name an ``import`` or ``from ... import`` in ``source`` names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # Resolve relative imports as seen from bridge/rating: `from .. import db` is bridge.db.
            package = PACKAGE.split(".")[: len(PACKAGE.split(".")) - node.level + 1]
            base = ".".join(package if node.level else [])
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _is_forbidden(module: str) -> bool:
    """Whether ``module`` is, or is inside, one of the forbidden packages."""
    return any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN)


class TestPurity:
    """bridge/rating imports no I/O, database, HTTP or service package."""

    @pytest.mark.parametrize("path", sorted(RATING_DIR.glob("*.py")), ids=lambda p: p.name)
    def test_rating_module_imports_nothing_impure(self, path: Path) -> None:
        """No module in bridge/rating imports a database, network, OS or service package."""
        impure = sorted(m for m in _imported_modules(path.read_text()) if _is_forbidden(m))
        assert impure == []

    @pytest.mark.parametrize(
        ("source", "found"),
        [
            ("import os", True),
            ("import os.path", True),
            ("from os import environ", True),
            ("from bridge import db", True),
            ("from bridge.whmcs.clients import get_client", True),
            ("import sqlalchemy as sa", True),
            ("import ossaudiodev", False),
            ("from bridge.rating.money import ZERO", False),
            ("from .. import db", True),
            ("from ..whmcs import clients", True),
            ("from . import money", False),
        ],
    )
    def test_the_check_catches_every_import_form(self, source: str, found: bool) -> None:
        """The scan sees plain, dotted, aliased, from- and relative imports, not look-alikes."""
        assert any(_is_forbidden(m) for m in _imported_modules(source)) is found
