"""Every FusionPBX-side PHP file parses (php -l) and uses nothing newer than PHP 7.4."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.fusionpbx_api.harness import API_SOURCE

SOURCES = sorted(API_SOURCE.rglob("*.php"))
CHECKER = Path(__file__).with_name("php74_check.php")


def test_there_are_scripts_to_check() -> None:
    """The glob finds the scripts the seeds list, so the checks below cannot pass on nothing."""
    names = {path.relative_to(API_SOURCE).as_posix() for path in SOURCES}

    assert {
        "app/xml_cdr/chkcon.php",
        "app/xml_cdr/export_cdr.php",
        "app/status/index.php",
        "app/registrations/check_registration.php",
        "app/extensions/manage.php",
        "app/gateways/provision.php",
        "app/gateways/provision_list.php",
    } <= names


def test_every_script_lints_clean() -> None:
    """php -l finds no syntax error in any file."""
    failures = []
    for path in SOURCES:
        done = subprocess.run(["php", "-l", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            failures.append(done.stdout + done.stderr)

    assert failures == []


def test_no_php8_only_syntax_or_functions() -> None:
    """No match, nullsafe ->, attributes, enums, readonly, named arguments or PHP 8 functions."""
    done = subprocess.run(
        ["php", str(CHECKER), *map(str, SOURCES)], capture_output=True, text=True, check=True
    )

    assert done.stdout == ""


def test_the_checker_catches_php8_code(tmp_path: Path) -> None:
    """The 7.4 check itself flags each PHP 8 construct it knows (so a clean run means something)."""
    sample = tmp_path / "php8.php"
    sample.write_text(
        "<?php\n"
        "$a = match ($x) { 1 => 2, default => 3 };\n"
        "$b = $c?->d;\n"
        "$e = str_contains('ab', 'a');\n"
        "$f = json_encode(value: 1);\n"
        "try { f(); } catch (Exception) { }\n"
        "$g = $h ?? throw new Exception('x');\n",
        encoding="utf-8",
    )

    done = subprocess.run(["php", str(CHECKER), str(sample)], capture_output=True, text=True)

    assert [line.split(": ", 1)[1] for line in done.stdout.splitlines()] == [
        "T_MATCH",
        "T_NULLSAFE_OBJECT_OPERATOR",
        "PHP 8 function str_contains()",
        "named argument value:",
        "catch without a variable",
        "throw as an expression",
    ]
