<?php
/*
 * voipbridge-fusionpbx-api: the IP/CIDR whitelist (chkcon_whitelist.conf).
 *
 * One IPv4 or IPv6 address or CIDR block per line; '#' starts a comment; blank lines are fine.
 * A block written with host bits set (192.168.1.20/24) means its network (192.168.1.0/24).
 * A line that is none of these is ignored and logged, never widened into a match. An IPv4
 * address written as IPv6 (::ffff:192.0.2.1) matches IPv4 entries, and the reverse.
 * A missing or unreadable file allows nobody.
 */

if (basename(__FILE__) === basename(isset($_SERVER['SCRIPT_FILENAME']) ? $_SERVER['SCRIPT_FILENAME'] : '')) {
	http_response_code(404);
	exit;
}

/**
 * The address as packed bytes (4 for IPv4, 16 for IPv6; IPv4-mapped IPv6 becomes 4), or null.
 */
function vbapi_ip_packed($ip)
{
	if (!is_string($ip) || $ip === '' || strpos($ip, '%') !== false) {
		return null;
	}
	$packed = @inet_pton($ip);
	if ($packed === false) {
		return null;
	}
	if (strlen($packed) === 16 && substr($packed, 0, 12) === str_repeat("\0", 10) . "\xff\xff") {
		return substr($packed, 12);
	}
	return $packed;
}

/**
 * Parse whitelist text into entries (array of [packed network, prefix length]) and the
 * malformed lines ("line N: text").
 */
function vbapi_whitelist_parse($text)
{
	$entries = array();
	$malformed = array();
	$number = 0;
	foreach (preg_split('/\r\n|\r|\n/', $text) as $raw) {
		$number++;
		$hash = strpos($raw, '#');
		$line = trim($hash === false ? $raw : substr($raw, 0, $hash));
		if ($line === '') {
			continue;
		}
		$entry = vbapi_whitelist_entry($line);
		if ($entry === null) {
			$malformed[] = "line $number: " . trim($raw);
		} else {
			$entries[] = $entry;
		}
	}
	return array('entries' => $entries, 'malformed' => $malformed);
}

/**
 * One entry ("IP" or "IP/prefix") as [packed network, prefix length], or null if malformed.
 */
function vbapi_whitelist_entry($line)
{
	$parts = explode('/', $line);
	if (count($parts) > 2) {
		return null;
	}
	$address = $parts[0];
	$packed = @inet_pton($address);
	if ($packed === false || strpos($address, '%') !== false) {
		return null;
	}
	$bits = strlen($packed) * 8;
	$prefix = $bits;
	if (count($parts) === 2) {
		if (!preg_match('/^[0-9]{1,3}$/', $parts[1]) || (int) $parts[1] > $bits) {
			return null;
		}
		$prefix = (int) $parts[1];
	}
	$mapped = vbapi_ip_packed($address);
	if (strlen($mapped) === 4 && $bits === 128) {
		// ::ffff:a.b.c.d/n: the IPv4 part is the last 32 bits.
		if ($prefix < 96) {
			return null;
		}
		$packed = $mapped;
		$prefix -= 96;
	}
	return array(vbapi_ip_network($packed, $prefix), $prefix);
}

/**
 * The first $prefix bits of $packed, the rest zeroed.
 */
function vbapi_ip_network($packed, $prefix)
{
	$whole = intdiv($prefix, 8);
	$network = substr($packed, 0, $whole);
	if ($whole < strlen($packed)) {
		$rest = $prefix % 8;
		$network .= chr(ord($packed[$whole]) & ((0xff << (8 - $rest)) & 0xff));
		$network .= str_repeat("\0", strlen($packed) - $whole - 1);
	}
	return $network;
}

/**
 * Whether $ip falls in one of $entries.
 */
function vbapi_whitelist_matches($ip, $entries)
{
	$packed = vbapi_ip_packed($ip);
	if ($packed === null) {
		return false;
	}
	foreach ($entries as $entry) {
		list($network, $prefix) = $entry;
		if (strlen($network) === strlen($packed) && vbapi_ip_network($packed, $prefix) === $network) {
			return true;
		}
	}
	return false;
}

/**
 * Check $ip against the whitelist file: ['allowed' => bool, 'reason' => why not,
 * 'malformed' => the ignored lines].
 */
function vbapi_whitelist_check($ip, $file)
{
	$text = is_file($file) && is_readable($file) ? @file_get_contents($file) : false;
	if ($text === false) {
		return array('allowed' => false, 'reason' => "whitelist file $file is missing or unreadable", 'malformed' => array());
	}
	$parsed = vbapi_whitelist_parse($text);
	$allowed = vbapi_whitelist_matches($ip, $parsed['entries']);
	return array(
		'allowed' => $allowed,
		'reason' => $allowed ? '' : 'not whitelisted',
		'malformed' => $parsed['malformed'],
	);
}
