"""`bridge rate` on the documented examples: JSON lines, the table, invoice text and bad input."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.errors import BridgeError
from bridge.preview import Preview, json_lines, period_days, rate_files
from bridge.rating.models import Cdr, Direction
from bridge.rating.money import COST_QUANTUM
from tests.bridge_cli import Ran, bridge_env, run_bridge

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
SYDNEY = ZoneInfo("Australia/Sydney")


def _rate(package: str, *extra: str) -> Ran:
    return run_bridge(
        "rate",
        "--tariff",
        EXAMPLES / "tariff-au.csv",
        "--package",
        EXAMPLES / package,
        "--cdrs",
        EXAMPLES / "cdrs-au.csv",
        "--tz",
        "Australia/Sydney",
        *extra,
        env=bridge_env(),
    )


class TestStandardPackage:
    def test_json_lines_carry_every_documented_field(self) -> None:
        """Each CDR is one JSON object with the documented keys, then one summary object."""
        preview = rate_files(
            EXAMPLES / "tariff-au.csv",
            EXAMPLES / "package-au.toml",
            EXAMPLES / "cdrs-au.csv",
            zone=SYDNEY,
        )

        *calls, summary = (json.loads(line) for line in json_lines(preview))

        assert len(calls) == 15  # 16 rows, one of them a b-leg
        assert set(calls[0]) == {
            "uuid", "status", "calltype", "number", "prefix", "rate",
            "billed_seconds", "free_seconds", "cost",
        }  # fmt: skip
        by_uuid = {call["uuid"][-2:]: call for call in calls}
        # 0412345678 -> 61412345678, AU Mobile 0.0800 + 10% = 0.088/min; 576 s -> 600 s billed,
        # 240 s of the 10 free minutes left -> 360 s x 0.088 / 60 = 0.528000
        assert by_uuid["06"] | {"uuid": "-"} == {
            "uuid": "-",
            "status": "billed",
            "calltype": "Standard",
            "number": "61412345678",
            "prefix": "614",
            "rate": "0.088",
            "billed_seconds": 600,
            "free_seconds": 240,
            "cost": "0.528000",
        }
        # 0011 1876 555 0123: exit code dropped, custom rate 0.15 without markup, 120 s -> 0.30
        assert (by_uuid["07"]["number"], by_uuid["07"]["rate"], by_uuid["07"]["cost"]) == (
            "18765550123",
            "0.15",
            "0.300000",
        )
        assert summary == {
            "summary": {
                "calls": 15,
                "billed_calls": 3,
                "billed_seconds": 1080,
                "cost": "0.83",
                "no_rate": 1,
                "by_status": {
                    "billed": 3,
                    "unanswered": 1,
                    "suppressed": 1,
                    "excluded": 7,
                    "inbound_not_billed": 1,
                    "no_rate": 1,
                    "no_special_match": 0,
                    "local": 1,
                },
            }
        }
        exact = sum((Decimal(call["cost"]) for call in calls), Decimal(0))
        assert exact.quantize(Decimal("0.01")) == Decimal("0.83")

    def test_table_shows_totals_the_leak_warning_and_invoice_lines(self) -> None:
        """The readable output ends with totals, a no-rate warning and the invoice lines."""
        result = _rate("package-au.toml")

        assert result.returncode == 0, result.stderr
        assert "15 calls, 3 billed" in result.stdout
        assert "1 call(s) found no rate" in result.stdout
        assert "[OUTBOUND] Australia Mobile: 1 call, 10 min (4 min free), $0.53" in result.stdout


class TestSpecialNumberProduct:
    def test_documented_special_rate_invoice_line(self) -> None:
        """Four 1300 calls of 11 billed minutes at a flat 35c read exactly as DESIGN.md shows."""
        result = _rate("package-au-1300.toml")

        assert result.returncode == 0, result.stderr
        assert "Special Rate Calls (29/12/2025 to 17/01/2026)" in result.stdout
        assert "[OUTBOUND] 1300* (flat_per_call): 4 calls, 11 min, $1.40" in result.stdout

    def test_explain_prints_the_special_rate_check(self) -> None:
        """--explain adds the documented === SPECIAL RATE CHECK === block per call."""
        result = _rate("package-au-1300.toml", "--explain")

        assert "=== SPECIAL RATE CHECK ===" in result.stdout
        assert "Checking pattern: 1300 (priority: 20) - MATCH!" in result.stdout


class TestBadInput:
    def test_bad_files_exit_nonzero_with_file_and_line(self, tmp_path: Path) -> None:
        """A bad tariff row, an unknown package key and a missing file each name file and line."""
        tariff = tmp_path / "bad.csv"
        tariff.write_text("Description,Prefix,RateValue,Increment\nUS,1,abc,6\n")
        package = tmp_path / "bad.toml"
        package.write_text('country_code = "1"\nmarkup = "5"\n')
        base = ["rate", "--cdrs", str(EXAMPLES / "cdrs-au.csv")]
        env = bridge_env()

        bad_tariff = run_bridge(
            *base, "--tariff", tariff, "--package", EXAMPLES / "package-au.toml", env=env
        )
        bad_package = run_bridge(
            *base, "--tariff", EXAMPLES / "tariff-au.csv", "--package", package, env=env
        )
        missing = run_bridge(
            *base, "--tariff", tmp_path / "nope.csv", "--package", package, env=env
        )

        assert bad_tariff.returncode == 2
        assert "bad.csv: 1 bad line(s)" in bad_tariff.stderr
        assert "line 2: RateValue 'abc' is not a number" in bad_tariff.stderr
        assert bad_package.returncode == 2
        assert "bad.toml:2: unknown key 'markup'" in bad_package.stderr
        assert missing.returncode == 2
        assert "nope.csv: No such file or directory" in missing.stderr


def _plain_json_lines(preview: Preview) -> list[str]:
    """The calls' lines as ``json.dumps`` of each call's dict writes them (the reference)."""
    return [
        json.dumps(
            {
                "uuid": call.uuid,
                "status": call.status.value,
                "calltype": call.calltype.value,
                "number": call.number,
                "prefix": call.prefix,
                "rate": None if call.rate is None else f"{call.rate.normalize():f}",
                "billed_seconds": call.billed_seconds,
                "free_seconds": call.free_seconds,
                "cost": f"{call.cost.quantize(COST_QUANTUM):f}",
            }
        )
        for call in preview.result.calls
    ]


class TestJsonLines:
    def test_lines_are_what_json_dumps_writes_for_every_example(self) -> None:
        """The templated lines equal json.dumps of each call, for both example packages."""
        for package in ("package-au.toml", "package-au-1300.toml"):
            preview = rate_files(
                EXAMPLES / "tariff-au.csv",
                EXAMPLES / package,
                EXAMPLES / "cdrs-au.csv",
                zone=SYDNEY,
            )

            lines = list(json_lines(preview))

            assert lines[:-1] == _plain_json_lines(preview)
            assert json.loads(lines[-1])["summary"]["calls"] == len(lines) - 1

    def test_awkward_ids_and_numbers_are_escaped_as_json_dumps_escapes_them(
        self, tmp_path: Path
    ) -> None:
        """Quotes, backslashes, controls and non-ASCII text in ids and numbers match json.dumps."""
        odd = ['q"uote', "back\\slash", "tab\tin", "bell\x07", "Zoë", "\U0001f600", "del\x7f", "ok"]
        export = tmp_path / "cdrs.csv"
        with export.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(
                ["xml_cdr_uuid", "direction", "caller_id_number", "destination_number",
                 "start_stamp", "billsec"]
            )  # fmt: skip
            for text in odd:
                writer.writerow([text, "outbound", "201", text, "2025-12-29 09:02:11+11", "45"])
        preview = rate_files(
            EXAMPLES / "tariff-au.csv", EXAMPLES / "package-au.toml", export, zone=SYDNEY
        )

        lines = list(json_lines(preview))

        assert len(lines) == len(odd) + 1
        assert lines[:-1] == _plain_json_lines(preview)


class TestPeriod:
    @given(
        zone=st.sampled_from(
            ["Australia/Sydney", "Australia/Lord_Howe", "America/Toronto", "Asia/Kathmandu",
             "America/Sao_Paulo", "Pacific/Apia", "UTC"]
        ),
        seconds=st.lists(
            st.integers(min_value=-(10**9), max_value=2 * 10**9), min_size=1, max_size=20
        ),
    )  # fmt: skip
    def test_first_and_last_day_match_converting_every_start(
        self, zone: str, seconds: list[int]
    ) -> None:
        """The period's first and last local day equal those found by converting every call."""
        pbx = ZoneInfo(zone)
        starts = [datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=n) for n in seconds]
        records = [
            Cdr(str(n), Direction.OUTBOUND, "", "", "1", start, 5) for n, start in enumerate(starts)
        ]

        days = sorted(start.astimezone(pbx).date() for start in starts)

        assert period_days(records, pbx) == [days[0], days[-1]]


class TestArbitraryBytes:
    @settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
    @given(
        card=st.binary(max_size=400),
        calls=st.binary(max_size=400),
        which=st.sampled_from(["card", "calls"]),
    )
    def test_any_bytes_in_either_csv_are_an_answer_or_the_bridges_error(
        self, tmp_path_factory: pytest.TempPathFactory, card: bytes, calls: bytes, which: str
    ) -> None:
        """Arbitrary bytes (not UTF-8, NULs, stray quotes) after a good header: never a crash."""
        folder = tmp_path_factory.mktemp("bytes")
        tariff = (EXAMPLES / "tariff-au.csv").read_bytes()
        cdrs = (EXAMPLES / "cdrs-au.csv").read_bytes()
        header = cdrs.split(b"\n", 1)[0] + b"\n"
        (folder / "t.csv").write_bytes(tariff + card if which == "card" else tariff)
        (folder / "c.csv").write_bytes(header + calls if which == "calls" else cdrs)

        outcome = _rate_or_refuse(folder / "t.csv", folder / "c.csv")

        assert isinstance(outcome, Preview | BridgeError)


def _rate_or_refuse(tariff: Path, cdrs: Path) -> Preview | BridgeError:
    """Return the preview of the two files, or the bridge's own error refusing them."""
    try:
        return rate_files(tariff, EXAMPLES / "package-au.toml", cdrs, zone=SYDNEY)
    except BridgeError as exc:
        return exc
