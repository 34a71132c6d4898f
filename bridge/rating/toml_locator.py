"""Finding the line a TOML key was written on, for error messages (``tomllib`` gives none)."""

from __future__ import annotations

import re


class TomlLocator:
    """Finds the line of a key path: ``("top",)``, ``("table", "key")``, ``("array", n, "key")``.

    ``("array", n, ...)`` means the n-th ``[[array]]`` table (from 0); ``("table", "key")`` a key
    of the ``[table]`` table.
    """

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def at(self, path: tuple[object, ...]) -> str:
        """Return ``source:line`` for ``path`` (``source`` alone when it cannot be found)."""
        line = self._find(path)
        return f"{self.source}:{line}" if line else self.source

    def _find(self, path: tuple[object, ...]) -> int | None:
        table: tuple[str, int] | None = None
        key: str | None = None
        if path and isinstance(path[0], str) and len(path) >= 2 and isinstance(path[1], int):
            table, key = (path[0], path[1]), (str(path[2]) if len(path) > 2 else None)
        elif len(path) >= 2 and isinstance(path[1], str):
            table, key = (str(path[0]), -1), path[1]
        elif path:
            key = str(path[0])
        start, end = self._section(table)
        if start is None:
            return None
        if key is None:
            return start if table else 1
        assignment = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start, end):
            if assignment.match(self.lines[number - 1]):
                return number
        return start if table else None

    def _section(self, table: tuple[str, int] | None) -> tuple[int | None, int]:
        headers = [
            (number, line.strip())
            for number, line in enumerate(self.lines, 1)
            if line.strip().startswith("[")
        ]
        if table is None:
            first = headers[0][0] if headers else len(self.lines) + 1
            return 1, first
        name, index = table
        wanted = f"[{name}]" if index < 0 else f"[[{name}]]"
        matches = [number for number, text in headers if text.split("#")[0].strip() == wanted]
        position = 0 if index < 0 else index
        if position >= len(matches):
            return None, 0
        start = matches[position]
        later = [number for number, _ in headers if number > start]
        return start, later[0] if later else len(self.lines) + 1
