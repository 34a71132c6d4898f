"""The layering rules of DESIGN.md §1, checked on the source so they cannot quietly erode."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

BRIDGE = Path(__file__).resolve().parents[1] / "bridge"
_SQL_ON_WHMCS = re.compile(r"\b(select|insert|update|delete|from|join)\b[^;]*\btbl[a-z]+", re.I)


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(BRIDGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _inside(path: Path, package: str) -> bool:
    return (BRIDGE / package) in path.parents


def test_only_settings_reads_the_environment() -> None:
    """No module but bridge/settings.py touches os.environ or os.getenv."""
    offenders = [
        path.relative_to(BRIDGE.parent)
        for path, tree in _modules()
        if path.name != "settings.py"
        and any(
            isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
            for node in ast.walk(tree)
        )
    ]
    assert offenders == []


def test_whmcs_tables_are_queried_only_from_bridge_whmcs() -> None:
    """SQL text on tbl* tables and the WHMCS table objects stay inside bridge/whmcs/."""
    offenders = []
    for path, tree in _modules():
        if _inside(path, "whmcs"):
            continue
        if "bridge.whmcs.tables" in _imports(tree):
            offenders.append(f"{path.name}: imports bridge.whmcs.tables")
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and _SQL_ON_WHMCS.search(text):
                offenders.append(f"{path.name}: {text[:60]!r}")
    assert offenders == []


def test_outbound_http_lives_in_bridge_modules() -> None:
    """Only adapters in bridge/modules/ import an HTTP client."""
    offenders = [
        path.relative_to(BRIDGE.parent)
        for path, tree in _modules()
        if not _inside(path, "modules") and _imports(tree) & {"httpx", "httpx2", "requests"}
    ]
    assert offenders == []


def test_only_the_http_border_imports_httpx() -> None:
    """Adapters speak HTTP through bridge/modules/http.py, which owns timeouts and failures."""
    offenders = [
        path.relative_to(BRIDGE.parent)
        for path, tree in _modules()
        if path != BRIDGE / "modules" / "http.py" and _imports(tree) & {"httpx", "httpx2"}
    ]
    assert offenders == []


def test_the_store_and_the_whmcs_layer_never_import_adapters() -> None:
    """Data layers hold data: neither bridge/store nor bridge/whmcs reaches into a PBX adapter."""
    offenders = [
        f"{path.relative_to(BRIDGE.parent)}: {name}"
        for path, tree in _modules()
        if _inside(path, "store") or _inside(path, "whmcs")
        for name in sorted(_imports(tree))
        if name.startswith("bridge.modules")
    ]
    assert offenders == []


def test_the_collected_call_type_belongs_to_no_layer() -> None:
    """bridge/calls.py, shared by adapters, store and billing, imports only rating and errors."""
    (tree,) = [tree for path, tree in _modules() if path == BRIDGE / "calls.py"]
    assert {name for name in _imports(tree) if name.startswith("bridge")} <= {
        "bridge.errors",
        "bridge.rating.models",
    }


def test_adapters_raise_the_bridges_errors_not_ratings() -> None:
    """A PBX's bad record is the bridge's InvalidCdr or InvalidFile, never a rating error."""
    offenders = [
        f"{path.relative_to(BRIDGE.parent)}: {name}"
        for path, tree in _modules()
        if _inside(path, "modules")
        for name in sorted(_imports(tree))
        if name in ("bridge.rating.errors", "bridge.rating.tariff_csv")
    ]
    assert offenders == []


def test_building_a_message_is_pure() -> None:
    """bridge/mail/messages.py and bridge/currency.py import no database, network or file I/O."""
    pure = {BRIDGE / "mail" / "messages.py", BRIDGE / "currency.py"}
    allowed_stdlib = {"__future__", "collections.abc", "dataclasses", "decimal", "html", "re"}
    assert pure <= {path for path, _tree in _modules()}
    offenders = [
        f"{path.relative_to(BRIDGE.parent)}: {name}"
        for path, tree in _modules()
        if path in pure
        for name in sorted(_imports(tree))
        if name not in allowed_stdlib and name != "bridge.currency"
    ]
    assert offenders == []
