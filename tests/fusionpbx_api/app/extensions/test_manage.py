"""extensions/manage.php: the v_extensions rows it writes and what it tells FreeSWITCH."""

from __future__ import annotations

from typing import Any

from tests.fakes.event_socket import EslCommand
from tests.fusionpbx_api.harness import PhpFusionPbx

MANAGE = "/app/extensions/manage.php"
ACME = "acme.example.com"


def _manage(pbx: PhpFusionPbx, action: str, extension: str = "2112", **fields: str) -> Any:
    answer = pbx.post(MANAGE, {"action": action, "extension": extension, "domain": ACME, **fields})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _cache_cleared(key: str) -> EslCommand:
    return EslCommand(
        "sendevent",
        "CUSTOM",
        {
            "Event-Name": "CUSTOM",
            "Event-Subclass": "fusion::file",
            "API-Command": "cache",
            "API-Command-Argument": f"delete {key}",
        },
    )


def test_disable_and_enable_write_the_row_and_clear_the_directory_cache(
    fusionpbx_api: PhpFusionPbx,
) -> None:
    """Disabling flips enabled and drops the cached directory entry; enabling flips it back."""
    fusionpbx_api.add_extension(ACME, "2112")
    cached = fusionpbx_api.cache_dir / f"directory.2112@{ACME}"
    cached.write_text("<cached directory entry/>", encoding="utf-8")

    disabled = _manage(fusionpbx_api, "disable")
    row = fusionpbx_api.extension(ACME, "2112")

    assert disabled == {"success": 1, "changed": 1, "message": f"Extension 2112@{ACME} disabled"}
    assert row is not None
    assert row["enabled"] is False
    assert row["update_date"] is not None
    assert not cached.exists()
    assert fusionpbx_api.esl.received == [
        _cache_cleared(f"directory.2112@{ACME}"),
        EslCommand("api", f"xml_flush_cache id 2112 {ACME}"),
    ]

    enabled = _manage(fusionpbx_api, "enable")

    assert enabled["changed"] == 1
    assert fusionpbx_api.extension(ACME, "2112")["enabled"] is True  # type: ignore[index]
    assert len(fusionpbx_api.esl.received) == 4


def test_repeating_an_action_changes_nothing_but_tells_the_switch_again(
    fusionpbx_api: PhpFusionPbx,
) -> None:
    """A second disable answers changed 0 and clears the cache again (a retry completes)."""
    fusionpbx_api.add_extension(ACME, "2112", enabled=False)

    again = _manage(fusionpbx_api, "disable")

    assert again == {
        "success": 1,
        "changed": 0,
        "message": f"Extension 2112@{ACME} was already disabled",
    }
    assert fusionpbx_api.esl.api_commands() == [f"xml_flush_cache id 2112 {ACME}"]


def test_the_number_alias_entry_is_cleared_too(fusionpbx_api: PhpFusionPbx) -> None:
    """An extension dialled by its alias loses that cache entry as well."""
    fusionpbx_api.add_extension(ACME, "2112", number_alias="5192229000")

    _manage(fusionpbx_api, "disable")

    assert fusionpbx_api.esl.api_commands() == [
        f"xml_flush_cache id 2112 {ACME}",
        f"xml_flush_cache id 5192229000 {ACME}",
    ]


def test_other_tenants_extensions_are_untouched(fusionpbx_api: PhpFusionPbx) -> None:
    """The same number in another domain keeps its state."""
    fusionpbx_api.add_extension(ACME, "2112")
    fusionpbx_api.add_extension("other.example.com", "2112")

    _manage(fusionpbx_api, "disable")

    assert fusionpbx_api.extension("other.example.com", "2112")["enabled"] is True  # type: ignore[index]


def test_missing_extension_or_domain_is_refused_without_switch_commands(
    fusionpbx_api: PhpFusionPbx,
) -> None:
    """An unknown extension or domain is a refusal naming it; FreeSWITCH hears nothing."""
    fusionpbx_api.add_domain(ACME)

    missing = _manage(fusionpbx_api, "disable", "2199")
    no_domain = fusionpbx_api.post(
        MANAGE, {"action": "disable", "extension": "2112", "domain": "nowhere.example.com"}
    ).json()

    assert missing == {"success": 0, "message": f"Extension 2199 not found in domain {ACME}"}
    assert no_domain == {"success": 0, "message": "Domain nowhere.example.com not found"}
    assert fusionpbx_api.esl.received == []


def test_bad_input_is_refused_by_name(fusionpbx_api: PhpFusionPbx) -> None:
    """Unknown actions and extension numbers that could reach the switch are refused."""
    fusionpbx_api.add_extension(ACME, "2112")

    assert _manage(fusionpbx_api, "suspend")["message"] == (
        "Field 'action' must be one of: create, update, enable, disable, delete."
    )
    assert _manage(fusionpbx_api, "disable", "2112\nreloadxml")["message"] == (
        "Field 'extension' is not a valid extension number."
    )
    assert fusionpbx_api.extension(ACME, "2112")["enabled"] is True  # type: ignore[index]


def test_create_writes_an_extension_with_fusionpbx_defaults(fusionpbx_api: PhpFusionPbx) -> None:
    """Create inserts the row, hands back the generated SIP password once, and reloads XML."""
    fusionpbx_api.add_domain(ACME)

    created = _manage(fusionpbx_api, "create", "1002", effective_caller_id_name="Front Desk")
    row = fusionpbx_api.extension(ACME, "1002")

    assert created["success"] == 1
    assert created["changed"] == 1
    assert row is not None
    assert row["password"] == created["password"]
    assert len(created["password"]) == 20
    assert str(row["extension_uuid"]) == created["extension_uuid"]
    assert (row["user_context"], row["accountcode"], row["enabled"]) == (ACME, ACME, True)
    assert (row["effective_caller_id_name"], row["effective_caller_id_number"]) == (
        "Front Desk",
        "1002",
    )
    assert "reloadxml" in fusionpbx_api.esl.api_commands()
    assert _manage(fusionpbx_api, "create", "1002")["message"] == (
        f"Extension 1002@{ACME} already exists; use action=update to change it."
    )


def test_create_with_a_password_does_not_echo_it(fusionpbx_api: PhpFusionPbx) -> None:
    """A caller-chosen password is stored and never sent back."""
    fusionpbx_api.add_domain(ACME)

    created = _manage(
        fusionpbx_api, "create", "1003", extension_password="Chosen-Sip-Pass1", enabled="false"
    )

    assert "password" not in created
    row = fusionpbx_api.extension(ACME, "1003")
    assert row is not None
    assert (row["password"], row["enabled"]) == ("Chosen-Sip-Pass1", False)


def test_update_changes_only_what_differs(fusionpbx_api: PhpFusionPbx) -> None:
    """Update writes the fields given; the same values again change nothing."""
    fusionpbx_api.add_extension(ACME, "2112")

    first = _manage(fusionpbx_api, "update", outbound_caller_id_number="+15192229000")
    second = _manage(fusionpbx_api, "update", outbound_caller_id_number="+15192229000")
    empty = _manage(fusionpbx_api, "update")

    assert (first["changed"], second["changed"]) == (1, 0)
    assert second["message"] == f"Extension 2112@{ACME} was already up to date"
    assert fusionpbx_api.extension(ACME, "2112")["outbound_caller_id_number"] == "+15192229000"  # type: ignore[index]
    assert empty["success"] == 0
    assert empty["message"].startswith("Give at least one field")


def test_delete_removes_the_extension_and_its_user_links(fusionpbx_api: PhpFusionPbx) -> None:
    """Delete removes the row and its v_extension_users links; a second delete is a no-op."""
    extension_uuid = fusionpbx_api.add_extension(ACME, "2112")
    fusionpbx_api.insert(
        "v_extension_users",
        {"extension_user_uuid": extension_uuid, "extension_uuid": extension_uuid},
    )

    deleted = _manage(fusionpbx_api, "delete")
    again = _manage(fusionpbx_api, "delete")

    assert deleted["changed"] == 1
    assert again["changed"] == 0
    assert fusionpbx_api.extension(ACME, "2112") is None
    assert fusionpbx_api.select("SELECT * FROM v_extension_users") == []
    assert fusionpbx_api.esl.api_commands()[-1] == "reloadxml"


def test_a_switch_that_is_down_is_reported_and_a_retry_completes(
    fusionpbx_api: PhpFusionPbx,
) -> None:
    """The database change stands; the answer says FreeSWITCH was not told; retrying tells it."""
    fusionpbx_api.add_extension(ACME, "2112")
    fusionpbx_api.esl.refuse_connections = True

    failed = _manage(fusionpbx_api, "disable")

    assert failed["success"] == 0
    assert failed["changed"] == 1
    assert "disabled in FusionPBX's database, but FreeSWITCH was not told" in failed["message"]
    assert fusionpbx_api.extension(ACME, "2112")["enabled"] is False  # type: ignore[index]

    fusionpbx_api.esl.refuse_connections = False
    retried = _manage(fusionpbx_api, "disable")

    assert (retried["success"], retried["changed"]) == (1, 0)
    assert fusionpbx_api.esl.api_commands() == [f"xml_flush_cache id 2112 {ACME}"]


def test_memcache_hosts_get_memcache_delete(fusionpbx_api: PhpFusionPbx) -> None:
    """With FusionPBX's cache in memcache, the entry is deleted there under its ':' key."""
    fusionpbx_api.write_settings(cache_method="memcache")
    fusionpbx_api.add_extension(ACME, "2112")

    _manage(fusionpbx_api, "disable")

    assert fusionpbx_api.esl.api_commands()[0] == f"memcache delete directory:2112@{ACME}"
    assert fusionpbx_api.esl.events()[0].headers["Event-Subclass"] == "fusion::memcache"
