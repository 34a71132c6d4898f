<?php
/*
 * voipbridge-fusionpbx-api: the API user's username and password, checked against v_users.
 *
 * The user is a FusionPBX user: enabled (user_enabled true or unset), of the default type, and a
 * member of one of the api_groups (default superadmin) through v_user_groups. The username may
 * be given as "name" or, where several domains have a user of that name, "name@domain".
 * Passwords are verified the way FusionPBX stores them: a hash starting with '$' (bcrypt from
 * PHP's password_hash) with password_verify, a legacy one as md5(salt . password) compared in
 * constant time. Every failure answers the same "Authentication failed", is logged with the
 * reason, and counts towards the IP's failed-login limit.
 */

if (basename(__FILE__) === basename(isset($_SERVER['SCRIPT_FILENAME']) ? $_SERVER['SCRIPT_FILENAME'] : '')) {
	http_response_code(404);
	exit;
}

/**
 * The authenticated API user (user_uuid, username, domain_name), or refuse.
 */
function vbapi_authenticate($db, $settings, $ip)
{
	$username = vbapi_field('username');
	$password = isset($_POST['password']) && is_string($_POST['password']) ? $_POST['password'] : '';
	if ($username === '' || $password === '') {
		vbapi_auth_failed($settings, $ip, $username, 'username or password missing');
	}
	$candidates = vbapi_auth_candidates($db, $username, null);
	$at = strrpos($username, '@');
	if (!$candidates && $at !== false) {
		$candidates = vbapi_auth_candidates($db, substr($username, 0, $at), substr($username, $at + 1));
	}
	$groups = array_values(array_filter(array_map('trim', explode(',', $settings['api_groups'])), 'strlen'));
	$verified = null;
	foreach ($candidates as $row) {
		if (vbapi_password_matches($password, (string) $row['password'], (string) $row['salt'])) {
			$verified = $row;
			break;
		}
	}
	if (!$candidates) {
		// Spend the time a real check takes, so response times do not reveal which users exist.
		password_verify($password, '$2y$10$' . str_repeat('a', 53));
		vbapi_auth_failed($settings, $ip, $username, 'no enabled user of that name');
	}
	if ($verified === null) {
		vbapi_auth_failed($settings, $ip, $username, 'wrong password');
	}
	if (!vbapi_user_in_groups($db, $verified['user_uuid'], $groups)) {
		vbapi_auth_failed($settings, $ip, $username, 'user is not in an API group (' . implode(', ', $groups) . ')');
	}
	return $verified;
}

/**
 * Enabled default-type users named $username (case-insensitive), in $domain when given.
 */
function vbapi_auth_candidates($db, $username, $domain)
{
	$sql = 'SELECT u.user_uuid, u.username, u.password, u.salt, d.domain_name '
		. 'FROM v_users u JOIN v_domains d ON d.domain_uuid = u.domain_uuid '
		. 'WHERE lower(u.username) = lower(:username) '
		. "AND coalesce(CAST(u.user_enabled AS text), 'true') IN ('true', 't') "
		. "AND coalesce(u.user_type, 'default') = 'default'";
	$parameters = array('username' => $username);
	if ($domain !== null) {
		$sql .= ' AND lower(d.domain_name) = lower(:domain)';
		$parameters['domain'] = $domain;
	}
	return vbapi_query($db, $sql . ' ORDER BY d.domain_name', $parameters)->fetchAll(PDO::FETCH_ASSOC);
}

/**
 * Whether $password matches a v_users password hash (bcrypt or legacy salted md5).
 */
function vbapi_password_matches($password, $hash, $salt)
{
	if ($hash === '') {
		return false;
	}
	if ($hash[0] === '$') {
		return password_verify($password, $hash);
	}
	return hash_equals(strtolower($hash), md5($salt . $password));
}

/**
 * Whether the user belongs to one of $groups (by the membership's or the group's name).
 */
function vbapi_user_in_groups($db, $user_uuid, $groups)
{
	if (!$groups) {
		return false;
	}
	$membership = array();
	$group_names = array();
	$parameters = array('user_uuid' => $user_uuid);
	foreach ($groups as $index => $group) {
		// Each placeholder once: PDO does not promise that a repeated name binds twice.
		$membership[] = ':membership' . $index;
		$group_names[] = ':group' . $index;
		$parameters['membership' . $index] = $group;
		$parameters['group' . $index] = $group;
	}
	$row = vbapi_query(
		$db,
		'SELECT 1 FROM v_user_groups ug LEFT JOIN v_groups g ON g.group_uuid = ug.group_uuid '
		. 'WHERE ug.user_uuid = :user_uuid AND (ug.group_name IN (' . implode(', ', $membership) . ') '
		. 'OR g.group_name IN (' . implode(', ', $group_names) . '))',
		$parameters
	)->fetch();
	return $row !== false;
}

/**
 * Log a failed login, count it against the IP, and answer "Authentication failed".
 */
function vbapi_auth_failed($settings, $ip, $username, $reason)
{
	vbapi_log('refused', array('reason' => 'authentication failed: ' . $reason, 'username' => $username), LOG_WARNING);
	vbapi_rate_limit_failed_login($settings, $ip);
	vbapi_refuse('Authentication failed');
}
