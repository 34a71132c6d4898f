<?php
/*
 * voipbridge-fusionpbx-api: extensions of a tenant (v_extensions).
 *
 * Fields: action (create, update, enable, disable, delete), extension, domain, and for create
 * and update any of the columns in VBAPI_EXTENSION_FIELDS below (create also takes enabled);
 * the SIP password is extension_password (username and password are the API user's login).
 * Answers {"success": 1, "changed": 1|0, "message": ...}; changed is 0 when nothing had to
 * change (enable an enabled extension, delete a missing one), so every action may be repeated.
 * Each change is one transaction; FreeSWITCH is told after it is committed (switch.php), also
 * when nothing changed, so repeating a request whose switch step failed completes it.
 * create answers the generated password when none was given. delete removes the extension and
 * its user links (v_extension_users) only: voicemail, devices and the like stay for FusionPBX's
 * own pages to remove.
 */

require_once dirname(__DIR__) . '/voipbridge_api/bootstrap.php';

define('VBAPI_EXTENSION_FIELDS', array(
	'extension_password' => '/^[\x21-\x7e]{1,64}$/',
	'number_alias' => '/^([A-Za-z0-9*#+._-]{1,32})?$/',
	'effective_caller_id_name' => VBAPI_NAME_PATTERN,
	'effective_caller_id_number' => '/^\+?[0-9*#]{0,32}$/',
	'outbound_caller_id_name' => VBAPI_NAME_PATTERN,
	'outbound_caller_id_number' => '/^\+?[0-9*#]{0,32}$/',
	'emergency_caller_id_name' => VBAPI_NAME_PATTERN,
	'emergency_caller_id_number' => '/^\+?[0-9*#]{0,32}$/',
	'directory_first_name' => VBAPI_NAME_PATTERN,
	'directory_last_name' => VBAPI_NAME_PATTERN,
	'accountcode' => '/^[A-Za-z0-9._@-]{0,80}$/',
	'toll_allow' => '/^[A-Za-z0-9,_-]{0,80}$/',
	'call_timeout' => '/^([0-9]{1,4})?$/',
	'limit_max' => '/^([0-9]{1,4})?$/',
	'description' => VBAPI_TEXT_PATTERN,
));

$context = vbapi_start();
$db = $context['db'];
$action = vbapi_action(array('create', 'update', 'enable', 'disable', 'delete'));
$number = vbapi_required('extension', VBAPI_EXTENSION_PATTERN, 'extension number');
$domain = vbapi_domain($db, vbapi_required('domain', VBAPI_DOMAIN_PATTERN, 'domain name'));
$label = "Extension $number@{$domain['domain_name']}";
$fields = vbapi_optional_fields(VBAPI_EXTENSION_FIELDS, array('extension_password' => 'password'));

if ($action === 'update' && !$fields) {
	vbapi_refuse('Give at least one field to update: ' . implode(', ', array_keys(VBAPI_EXTENSION_FIELDS)) . '.');
}

if ($action === 'create') {
	$enabled = vbapi_optional_fields(array('enabled' => VBAPI_BOOLEAN_PATTERN));
	$values = vbapi_extension_defaults($number, $domain, $fields, $enabled, $context['user']['user_uuid']);
	$created = vbapi_transaction($db, function ($db) use ($values) {
		// Two creates of one extension at once must not both insert it.
		vbapi_query($db, 'SELECT pg_advisory_xact_lock(hashtext(:key))', array('key' => $values['domain_uuid'] . '/' . $values['extension']));
		if (vbapi_extension_row($db, $values['domain_uuid'], $values['extension'], false) !== null) {
			return false;
		}
		$columns = array_keys($values);
		vbapi_query(
			$db,
			'INSERT INTO v_extensions (' . implode(', ', $columns) . ', insert_date) VALUES (:' . implode(', :', $columns) . ', now())',
			$values
		);
		return true;
	});
	if (!$created) {
		vbapi_refuse("$label already exists; use action=update to change it.");
	}
	vbapi_log('changed', array('action' => 'create', 'extension' => $number, 'domain' => $domain['domain_name'], 'by' => $context['user']['username']));
	$problem = vbapi_apply($context, function ($esl) use ($context, $values, $domain) {
		return vbapi_apply_extension($esl, $context['settings'], array($values['extension'], $values['number_alias']), $values['user_context'], $domain['domain_name'], true);
	});
	$extra = array('extension_uuid' => $values['extension_uuid']);
	if (!array_key_exists('password', $fields)) {
		$extra['password'] = $values['password'];
	}
	vbapi_answer_change("$label created", true, $problem, $extra);
}

$result = vbapi_transaction($db, function ($db) use ($action, $domain, $number, $fields, $context) {
	$row = vbapi_extension_row($db, $domain['domain_uuid'], $number, true);
	if ($row === null) {
		return array('row' => null, 'changed' => false);
	}
	$changed = false;
	$where = array('extension_uuid' => $row['extension_uuid']);
	if ($action === 'enable' || $action === 'disable') {
		$wanted = $action === 'enable';
		if (vbapi_is_true($row['enabled']) !== $wanted) {
			vbapi_query(
				$db,
				'UPDATE v_extensions SET enabled = :enabled, update_date = now(), update_user = :user_uuid WHERE extension_uuid = :extension_uuid',
				array_merge($where, array('enabled' => $wanted ? 'true' : 'false', 'user_uuid' => $context['user']['user_uuid']))
			);
			$changed = true;
		}
	} elseif ($action === 'update') {
		$changes = array();
		foreach ($fields as $column => $value) {
			if ((string) $row[$column] !== $value) {
				$changes[$column] = $value === '' && in_array($column, array('call_timeout', 'limit_max'), true) ? null : $value;
			}
		}
		if ($changes) {
			$assignments = array();
			foreach (array_keys($changes) as $column) {
				$assignments[] = "$column = :$column";
			}
			vbapi_query(
				$db,
				'UPDATE v_extensions SET ' . implode(', ', $assignments) . ', update_date = now(), update_user = :user_uuid WHERE extension_uuid = :extension_uuid',
				array_merge($changes, $where, array('user_uuid' => $context['user']['user_uuid']))
			);
			$changed = true;
		}
	} else {
		vbapi_query($db, 'DELETE FROM v_extension_users WHERE extension_uuid = :extension_uuid', $where);
		vbapi_query($db, 'DELETE FROM v_extensions WHERE extension_uuid = :extension_uuid', $where);
		$changed = true;
	}
	return array('row' => $row, 'changed' => $changed);
});

$row = $result['row'];
if ($row === null) {
	if ($action === 'delete') {
		vbapi_reply(array('success' => 1, 'changed' => 0, 'message' => "$label does not exist; nothing to delete"));
	}
	vbapi_refuse("Extension $number not found in domain {$domain['domain_name']}");
}
$done = array('enable' => 'enabled', 'disable' => 'disabled', 'update' => 'updated', 'delete' => 'deleted');
$message = $result['changed'] ? "$label {$done[$action]}" : "$label was already " . ($action === 'update' ? 'up to date' : $done[$action]);
if ($result['changed']) {
	vbapi_log('changed', array('action' => $action, 'extension' => $number, 'domain' => $domain['domain_name'], 'by' => $context['user']['username']));
}
$names = array($row['extension'], (string) $row['number_alias']);
if (isset($fields['number_alias'])) {
	$names[] = $fields['number_alias'];
}
$user_context = $row['user_context'] === null || $row['user_context'] === '' ? $domain['domain_name'] : $row['user_context'];
$problem = vbapi_apply($context, function ($esl) use ($context, $names, $user_context, $domain, $action) {
	return vbapi_apply_extension($esl, $context['settings'], $names, $user_context, $domain['domain_name'], $action === 'delete');
});
vbapi_answer_change($message, $result['changed'], $problem);

/**
 * The extension's row (locked FOR UPDATE when $lock), or null.
 */
function vbapi_extension_row($db, $domain_uuid, $number, $lock)
{
	$columns = implode(', ', str_replace('extension_password', 'password', array_keys(VBAPI_EXTENSION_FIELDS)));
	$row = vbapi_query(
		$db,
		"SELECT extension_uuid, extension, user_context, CAST(enabled AS text) AS enabled, $columns "
		. 'FROM v_extensions WHERE domain_uuid = :domain_uuid AND extension = :extension'
		. ($lock ? ' FOR UPDATE' : ''),
		array('domain_uuid' => $domain_uuid, 'extension' => $number)
	)->fetch(PDO::FETCH_ASSOC);
	return $row === false ? null : $row;
}

/**
 * The columns of a new extension: what the request gave, FusionPBX's usual defaults otherwise.
 */
function vbapi_extension_defaults($number, $domain, $fields, $enabled, $user_uuid)
{
	$values = array_merge(array(
		'password' => vbapi_random_password(20),
		'number_alias' => '',
		'effective_caller_id_name' => $number,
		'effective_caller_id_number' => $number,
		'accountcode' => $domain['domain_name'],
		'call_timeout' => '30',
		'limit_max' => '5',
	), $fields);
	foreach (array('call_timeout', 'limit_max') as $column) {
		if ($values[$column] === '') {
			$values[$column] = null;
		}
	}
	return array_merge($values, array(
		'extension_uuid' => vbapi_uuid(),
		'domain_uuid' => $domain['domain_uuid'],
		'extension' => $number,
		'user_context' => $domain['domain_name'],
		'limit_destination' => 'error/user_busy',
		'directory_visible' => 'true',
		'directory_exten_visible' => 'true',
		'enabled' => isset($enabled['enabled']) ? $enabled['enabled'] : 'true',
		'insert_user' => $user_uuid,
	));
}

/**
 * A random SIP password of $length letters and digits (no look-alikes).
 */
function vbapi_random_password($length)
{
	$alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
	$password = '';
	for ($i = 0; $i < $length; $i++) {
		$password .= $alphabet[random_int(0, strlen($alphabet) - 1)];
	}
	return $password;
}
