"""xml_cdr/export_cdr.php: v_xml_cdr rows for a window and tenant, keyset pages, bad input."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.fusionpbx_api.harness import PhpFusionPbx

EXPORT = "/app/xml_cdr/export_cdr.php"
ACME = "acme.example.com"


def _call(uuid_text: str, start: str, domain: str = ACME, **values: Any) -> dict[str, Any]:
    return {
        "xml_cdr_uuid": uuid_text,
        "domain_name": domain,
        "direction": "outbound",
        "caller_id_number": "2112",
        "destination_number": "4165550100",
        "start_stamp": start,
        "billsec": 30,
        "leg": "a",
        "xml": "<cdr>large</cdr>",
        "json": '{"large": true}',
        "pin_number": "4321",
        **values,
    }


def _export(pbx: PhpFusionPbx, **fields: str) -> Any:
    answer = pbx.post(EXPORT, {"format": "JSON", **fields})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_date_range_includes_its_last_day_in_the_configured_zone(
    fusionpbx_api: PhpFusionPbx,
) -> None:
    """Plain dates, as in the seeds' example, cover whole days in the timezone setting."""
    fusionpbx_api.write_settings(timezone="America/Toronto")
    first = str(uuid.uuid4())
    last = str(uuid.uuid4())
    for row in (
        _call(str(uuid.uuid4()), "2024-01-01 04:59:59+00"),
        _call(first, "2024-01-01 05:00:00+00"),
        _call(last, "2024-02-01 04:59:59+00"),
        _call(str(uuid.uuid4()), "2024-02-01 05:00:00+00"),
    ):
        fusionpbx_api.insert("v_xml_cdr", row)

    rows = _export(fusionpbx_api, date_start="2024-01-01", date_end="2024-01-31")

    assert [row["xml_cdr_uuid"] for row in rows] == [first, last]
    assert rows[0]["start_stamp"] == "2024-01-01 05:00:00+00"


def test_rows_carry_billing_columns_but_not_bulk_or_pins(fusionpbx_api: PhpFusionPbx) -> None:
    """Rows keep v_xml_cdr's names and values; xml, json and pin_number stay on the PBX."""
    call = str(uuid.uuid4())
    fusionpbx_api.insert("v_xml_cdr", _call(call, "2026-03-08 10:00:00+00", billsec="95.2"))

    (row,) = _export(
        fusionpbx_api, date_start="2026-03-08T00:00:00Z", date_end="2026-03-09T00:00:00Z"
    )

    assert (row["xml_cdr_uuid"], row["billsec"], row["direction"]) == (call, "95.2", "outbound")
    assert {"xml", "json", "pin_number", "call_flow"}.isdisjoint(row)


def test_keyset_pages_neither_repeat_nor_skip(fusionpbx_api: PhpFusionPbx) -> None:
    """Following after_start/after_uuid walks every row once, even with equal start stamps."""
    stamps = ["2026-03-08 10:00:00+00"] * 3 + ["2026-03-08 10:00:01+00"] * 2
    for stamp in stamps:
        fusionpbx_api.insert("v_xml_cdr", _call(str(uuid.uuid4()), stamp))
    window = {"date_start": "2026-03-08T00:00:00+00:00", "date_end": "2026-03-09T00:00:00+00:00"}

    seen: list[str] = []
    page = _export(fusionpbx_api, limit="2", **window)
    while page:
        seen += [row["xml_cdr_uuid"] for row in page]
        last = page[-1]
        page = _export(
            fusionpbx_api,
            limit="2",
            after_start=last["start_stamp"],
            after_uuid=last["xml_cdr_uuid"],
            **window,
        )

    expected = fusionpbx_api.select(
        "SELECT xml_cdr_uuid::text AS u FROM v_xml_cdr ORDER BY start_stamp, xml_cdr_uuid"
    )
    assert seen == [row["u"] for row in expected]


def test_a_domain_limits_the_rows_to_that_tenant(fusionpbx_api: PhpFusionPbx) -> None:
    """With a domain only its calls come back; without one every tenant's."""
    fusionpbx_api.insert("v_xml_cdr", _call(str(uuid.uuid4()), "2026-03-08 10:00:00+00"))
    fusionpbx_api.insert(
        "v_xml_cdr", _call(str(uuid.uuid4()), "2026-03-08 10:00:00+00", "other.example.com")
    )
    window = {"date_start": "2026-03-08", "date_end": "2026-03-08"}

    assert [row["domain_name"] for row in _export(fusionpbx_api, domain=ACME, **window)] == [ACME]
    assert len(_export(fusionpbx_api, **window)) == 2


def test_a_recorded_window_finds_long_calls_and_late_imports(
    fusionpbx_api: PhpFusionPbx,
) -> None:
    """window=recorded filters on insert_date (start_stamp when empty) and says when each was."""
    long_call, late_import, on_time = (str(uuid.uuid4()) for _ in range(3))
    started_in_window = str(uuid.uuid4())
    fusionpbx_api.insert(
        "v_xml_cdr",
        _call(long_call, "2026-03-08 02:00:00+00", insert_date="2026-03-08 09:10:00+00"),
    )
    fusionpbx_api.insert(
        "v_xml_cdr",
        _call(late_import, "2026-03-07 23:59:00+00", insert_date="2026-03-08 09:40:00+00"),
    )
    fusionpbx_api.insert("v_xml_cdr", _call(on_time, "2026-03-08 09:20:00+00"))
    fusionpbx_api.insert(
        "v_xml_cdr",
        _call(started_in_window, "2026-03-08 09:30:00+00", insert_date="2026-03-08 10:05:00+00"),
    )
    window = {"date_start": "2026-03-08T09:00:00Z", "date_end": "2026-03-08T10:00:00Z"}

    recorded = _export(fusionpbx_api, window="recorded", **window)
    started = _export(fusionpbx_api, **window)

    assert [(row["xml_cdr_uuid"], row["recorded"]) for row in recorded] == [
        (long_call, "2026-03-08 09:10:00+00"),
        (on_time, "2026-03-08 09:20:00+00"),
        (late_import, "2026-03-08 09:40:00+00"),
    ]
    assert [row["xml_cdr_uuid"] for row in started] == [on_time, started_in_window]


def test_recorded_keyset_pages_neither_repeat_nor_skip(fusionpbx_api: PhpFusionPbx) -> None:
    """Following after_recorded/after_uuid walks every row once, even with equal stamps."""
    for n in range(5):
        fusionpbx_api.insert(
            "v_xml_cdr",
            _call(
                str(uuid.uuid4()),
                f"2026-03-08 0{n}:00:00+00",
                insert_date=f"2026-03-08 10:00:0{n // 3}+00",
            ),
        )
    window = {"date_start": "2026-03-08T10:00:00Z", "date_end": "2026-03-08T11:00:00Z"}

    seen: list[str] = []
    page = _export(fusionpbx_api, window="recorded", limit="2", **window)
    while page:
        seen += [row["xml_cdr_uuid"] for row in page]
        last = page[-1]
        page = _export(
            fusionpbx_api,
            window="recorded",
            limit="2",
            after_recorded=last["recorded"],
            after_uuid=last["xml_cdr_uuid"],
            **window,
        )

    expected = fusionpbx_api.select(
        "SELECT xml_cdr_uuid::text AS u FROM v_xml_cdr ORDER BY insert_date, xml_cdr_uuid"
    )
    assert seen == [row["u"] for row in expected]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"date_start": "2026-03-01", "date_end": "2026-03-02", "window": "hourly"},
            "Field 'window' must be",
        ),
        (
            {
                "date_start": "2026-03-01",
                "date_end": "2026-03-02",
                "window": "recorded",
                "after_recorded": "2026-03-01",
            },
            "Field 'after_uuid' is required",
        ),
        ({"date_start": "2026-02-30", "date_end": "2026-03-01"}, "Field 'date_start' must be"),
        ({"date_start": "yesterday", "date_end": "2026-03-01"}, "Field 'date_start' must be"),
        ({"date_start": "2026-03-01T25:00", "date_end": "2026-03-02"}, "impossible time"),
        ({"date_start": "2026-03-01", "date_end": "2026-03-02", "limit": "0"}, "'limit'"),
        ({"date_start": "2026-03-01", "date_end": "2026-03-02", "limit": "5001"}, "'limit'"),
        ({"date_start": "2026-03-01", "date_end": "2026-03-02", "format": "CSV"}, "format=JSON"),
        (
            {"date_start": "2026-03-01", "date_end": "2026-03-02", "after_start": "2026-03-01"},
            "Field 'after_uuid' is required",
        ),
        (
            {
                "date_start": "2026-03-01",
                "date_end": "2026-03-02",
                "after_start": "2026-03-01",
                "after_uuid": "u1' OR '1'='1",
            },
            "Field 'after_uuid' is not a valid xml_cdr_uuid",
        ),
    ],
)
def test_bad_input_is_refused_with_the_field_name(
    fusionpbx_api: PhpFusionPbx, fields: dict[str, str], message: str
) -> None:
    """Impossible dates, limits out of range, other formats and half cursors are refused."""
    answer = fusionpbx_api.post(EXPORT, fields).json()

    assert answer["success"] == 0
    assert message in answer["message"]
