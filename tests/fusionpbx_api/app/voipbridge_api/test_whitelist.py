"""The whitelist matcher (whitelist.php) run by the php CLI: IPv4, IPv6, mapped and broken lines."""

from __future__ import annotations

import json
import subprocess

from tests.fusionpbx_api.harness import API_SOURCE

WHITELIST_PHP = API_SOURCE / "app/voipbridge_api/whitelist.php"
# Reads {"whitelist": TEXT, "ips": [...]} and prints {"allowed": {ip: bool}, "malformed": [...]}.
PROBE = """
require $argv[1];
$input = json_decode(stream_get_contents(STDIN), true);
$parsed = vbapi_whitelist_parse($input['whitelist']);
$allowed = array();
foreach ($input['ips'] as $ip) {
    $allowed[$ip] = vbapi_whitelist_matches($ip, $parsed['entries']);
}
echo json_encode(array('allowed' => $allowed, 'malformed' => $parsed['malformed']));
"""


def _check(whitelist: str, *ips: str) -> tuple[dict[str, bool], list[str]]:
    done = subprocess.run(
        ["php", "-r", PROBE, str(WHITELIST_PHP)],
        input=json.dumps({"whitelist": whitelist, "ips": ips}),
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(done.stdout)
    return answer["allowed"], answer["malformed"]


def test_ipv4_cidr_boundaries() -> None:
    """A block admits its first and last address and neither neighbour; /32 and /0 work."""
    allowed, _ = _check(
        "192.168.1.0/24\n10.0.0.5/32\n",
        "192.168.0.255",
        "192.168.1.0",
        "192.168.1.255",
        "192.168.2.0",
        "10.0.0.5",
        "10.0.0.4",
    )

    assert allowed == {
        "192.168.0.255": False,
        "192.168.1.0": True,
        "192.168.1.255": True,
        "192.168.2.0": False,
        "10.0.0.5": True,
        "10.0.0.4": False,
    }
    assert _check("0.0.0.0/0\n", "203.0.113.9", "2001:db8::1")[0] == {
        "203.0.113.9": True,
        "2001:db8::1": False,
    }


def test_host_bits_in_a_block_mean_its_network() -> None:
    """192.168.1.20/24, as people write it, is the whole 192.168.1.0/24."""
    allowed, malformed = _check("192.168.1.20/24\n", "192.168.1.1", "192.168.2.1")

    assert allowed == {"192.168.1.1": True, "192.168.2.1": False}
    assert malformed == []


def test_ipv6_addresses_and_blocks() -> None:
    """IPv6 entries match in any spelling, at odd prefix lengths, and never match IPv4."""
    allowed, _ = _check(
        "2001:db8:abcd::/49\n::1\n",
        "2001:db8:abcd:7fff::1",
        "2001:db8:abcd:8000::1",
        "2001:0DB8:ABCD:0000::9",
        "0:0:0:0:0:0:0:1",
        "127.0.0.1",
    )

    assert allowed == {
        "2001:db8:abcd:7fff::1": True,
        "2001:db8:abcd:8000::1": False,
        "2001:0DB8:ABCD:0000::9": True,
        "0:0:0:0:0:0:0:1": True,
        "127.0.0.1": False,
    }


def test_ipv4_mapped_ipv6_matches_ipv4_entries_both_ways() -> None:
    """A dual-stack server's ::ffff:a.b.c.d caller matches a.b.c.d entries, and the reverse."""
    allowed, _ = _check(
        "198.51.100.0/24\n::ffff:203.0.113.0/120\n",
        "::ffff:198.51.100.7",
        "203.0.113.200",
        "::ffff:192.0.2.1",
    )

    assert allowed == {
        "::ffff:198.51.100.7": True,
        "203.0.113.200": True,
        "::ffff:192.0.2.1": False,
    }


def test_malformed_lines_are_reported_and_match_nothing() -> None:
    """Bad prefixes, junk, zone ids and two addresses on a line are skipped, by line number."""
    text = (
        "# comment only\n"
        "\n"
        "10.0.0.0/33\n"
        "10.0.0.1/\n"
        "/24\n"
        "10.0.0.256\n"
        "fe80::1%eth0\n"
        "10.0.0.2 10.0.0.3\n"
        "10.0.0.0/8/8\n"
        "2001:db8::/129\n"
        "  10.9.9.9   # kept, with spaces and a comment\n"
    )

    allowed, malformed = _check(text, "10.0.0.1", "10.0.0.2", "10.9.9.9", "fe80::1")

    assert allowed == {"10.0.0.1": False, "10.0.0.2": False, "10.9.9.9": True, "fe80::1": False}
    assert [line.split(":")[0] for line in malformed] == [
        "line 3",
        "line 4",
        "line 5",
        "line 6",
        "line 7",
        "line 8",
        "line 9",
        "line 10",
    ]


def test_callers_that_are_not_addresses_never_match() -> None:
    """An empty or garbled REMOTE_ADDR matches nothing, even under 0.0.0.0/0 and ::/0."""
    allowed, _ = _check("0.0.0.0/0\n::/0\n", "", "localhost", "::ffff:", "1.2.3")

    assert set(allowed.values()) == {False}
