<?php
/*
 * voipbridge-fusionpbx-api: SIP gateways (v_gateways).
 *
 * Fields: action (create, update, enable, disable, delete), gateway_name (the gateway column),
 * domain, and for create and update any of VBAPI_GATEWAY_FIELDS below (create needs proxy and
 * domain); the gateway's own credentials are gateway_username and gateway_password (username
 * and password are the API user's login). The gateway is looked up by name within the domain only, so a gateway of the same
 * name in another tenant is never touched; without a domain the name must be unique on the PBX.
 * Answers {"success": 1, "changed": 1|0, "message": ...}, like extensions/manage.php, and tells
 * FreeSWITCH after the commit (killgw to stop a gateway, rescan to start it; switch.php).
 */

require_once dirname(__DIR__) . '/voipbridge_api/bootstrap.php';

define('VBAPI_GATEWAY_FIELDS', array(
	'proxy' => '/^[A-Za-z0-9.:\[\]-]{1,255}$/',
	'realm' => '/^[A-Za-z0-9.:\[\]-]{0,255}$/',
	'gateway_username' => '/^[\x21-\x7e]{0,128}$/',
	'gateway_password' => '/^[\x21-\x7e]{0,128}$/',
	'auth_username' => '/^[\x21-\x7e]{0,128}$/',
	'from_user' => '/^[\x21-\x7e]{0,128}$/',
	'from_domain' => '/^[A-Za-z0-9.:\[\]-]{0,255}$/',
	'register' => VBAPI_BOOLEAN_PATTERN,
	'register_transport' => '/^(udp|tcp|tls)?$/',
	'expire_seconds' => '/^([0-9]{1,6})?$/',
	'retry_seconds' => '/^([0-9]{1,6})?$/',
	'caller_id_in_from' => '/^(true|false)?$/',
	'profile' => '/^[A-Za-z0-9_.-]{1,64}$/',
	'context' => '/^[A-Za-z0-9_.-]{1,64}$/',
	'description' => VBAPI_TEXT_PATTERN,
));

$context = vbapi_start();
$db = $context['db'];
$action = vbapi_action(array('create', 'update', 'enable', 'disable', 'delete'));
$name = vbapi_required('gateway_name', VBAPI_GATEWAY_PATTERN, 'gateway name');
$domain = null;
if (vbapi_field('domain') !== '') {
	$domain = vbapi_domain($db, vbapi_required('domain', VBAPI_DOMAIN_PATTERN, 'domain name'));
}
$fields = vbapi_optional_fields(VBAPI_GATEWAY_FIELDS, array('gateway_username' => 'username', 'gateway_password' => 'password'));
$label = 'Gateway ' . $name . ($domain === null ? '' : '@' . $domain['domain_name']);
if ($action === 'update' && !$fields) {
	vbapi_refuse('Give at least one field to update: ' . implode(', ', array_keys(VBAPI_GATEWAY_FIELDS)) . '.');
}

if ($action === 'create') {
	if ($domain === null) {
		vbapi_refuse("Field 'domain' is required to create a gateway.");
	}
	if (!isset($fields['proxy'])) {
		vbapi_refuse("Field 'proxy' is required to create a gateway (host or host:port).");
	}
	$enabled = vbapi_optional_fields(array('enabled' => VBAPI_BOOLEAN_PATTERN));
	$values = vbapi_gateway_defaults($name, $domain, $fields, $enabled, $context['user']['user_uuid']);
	$created = vbapi_transaction($db, function ($db) use ($values) {
		vbapi_query($db, 'SELECT pg_advisory_xact_lock(hashtext(:key))', array('key' => $values['domain_uuid'] . '/gateway/' . $values['gateway']));
		$existing = vbapi_gateway_rows($db, $values['domain_uuid'], $values['gateway'], false);
		if ($existing) {
			return false;
		}
		$columns = array_keys($values);
		vbapi_query(
			$db,
			'INSERT INTO v_gateways (' . implode(', ', $columns) . ', insert_date) VALUES (:' . implode(', :', $columns) . ', now())',
			$values
		);
		return true;
	});
	if (!$created) {
		vbapi_refuse("$label already exists; use action=update to change it.");
	}
	vbapi_log('changed', array('action' => 'create', 'gateway' => $name, 'domain' => $domain['domain_name'], 'by' => $context['user']['username']));
	$problem = vbapi_apply($context, function ($esl) use ($context, $values) {
		return vbapi_apply_gateway($esl, $context['settings'], $values, false, $values['enabled'] === 'true');
	});
	vbapi_answer_change("$label created", true, $problem, array('gateway_uuid' => $values['gateway_uuid']));
}

$result = vbapi_transaction($db, function ($db) use ($action, $domain, $name, $fields, $context) {
	$rows = vbapi_gateway_rows($db, $domain === null ? null : $domain['domain_uuid'], $name, true);
	if (count($rows) !== 1) {
		return array('row' => null, 'found' => count($rows), 'changed' => false, 'before' => null);
	}
	$row = $rows[0];
	$changed = false;
	$where = array('gateway_uuid' => $row['gateway_uuid']);
	$user = array('user_uuid' => $context['user']['user_uuid']);
	if ($action === 'enable' || $action === 'disable') {
		$wanted = $action === 'enable';
		if (vbapi_is_true($row['enabled']) !== $wanted) {
			vbapi_query(
				$db,
				'UPDATE v_gateways SET enabled = :enabled, update_date = now(), update_user = :user_uuid WHERE gateway_uuid = :gateway_uuid',
				array_merge($where, $user, array('enabled' => $wanted ? 'true' : 'false'))
			);
			$row['enabled'] = $wanted ? 'true' : 'false';
			$changed = true;
		}
	} elseif ($action === 'update') {
		$changes = array();
		foreach ($fields as $column => $value) {
			if ((string) $row[$column] !== $value) {
				$changes[$column] = $value === '' && in_array($column, array('expire_seconds', 'retry_seconds', 'caller_id_in_from'), true) ? null : $value;
			}
		}
		if ($changes) {
			$assignments = array();
			foreach (array_keys($changes) as $column) {
				$assignments[] = "$column = :$column";
			}
			vbapi_query(
				$db,
				'UPDATE v_gateways SET ' . implode(', ', $assignments) . ', update_date = now(), update_user = :user_uuid WHERE gateway_uuid = :gateway_uuid',
				array_merge($changes, $where, $user)
			);
			$changed = true;
		}
	} else {
		vbapi_query($db, 'DELETE FROM v_gateways WHERE gateway_uuid = :gateway_uuid', $where);
		$changed = true;
	}
	$before = $row;
	if (isset($changes['profile'])) {
		$row['profile'] = $changes['profile'];
	}
	return array('row' => $row, 'found' => 1, 'changed' => $changed, 'before' => $before);
});

$row = $result['row'];
if ($row === null) {
	if ($result['found'] > 1) {
		vbapi_refuse("{$result['found']} gateways are named $name; give the domain.");
	}
	if ($action === 'delete') {
		vbapi_reply(array('success' => 1, 'changed' => 0, 'message' => "$label does not exist; nothing to delete"));
	}
	vbapi_refuse("Gateway $name not found in " . ($domain === null ? 'any domain' : "domain {$domain['domain_name']}"));
}
$done = array('enable' => 'enabled', 'disable' => 'disabled', 'update' => 'updated', 'delete' => 'deleted');
$message = $result['changed'] ? "$label {$done[$action]}" : "$label was already " . ($action === 'update' ? 'up to date' : $done[$action]);
if ($result['changed']) {
	vbapi_log('changed', array('action' => $action, 'gateway' => $name, 'gateway_uuid' => $row['gateway_uuid'], 'by' => $context['user']['username']));
}
$before = $result['before'];
$problem = vbapi_apply($context, function ($esl) use ($context, $action, $row, $before) {
	$settings = $context['settings'];
	if ($action === 'enable') {
		return vbapi_apply_gateway($esl, $settings, $row, false, true);
	}
	if ($action === 'update') {
		// Stop it under its old profile, start it again with the new settings if it is enabled.
		$replies = vbapi_apply_gateway($esl, $settings, $before, true, false);
		if (vbapi_is_true($row['enabled'])) {
			$replies = array_merge($replies, vbapi_apply_gateway($esl, $settings, $row, false, true));
		}
		return $replies;
	}
	return vbapi_apply_gateway($esl, $settings, $row, true, false);
});
vbapi_answer_change($message, $result['changed'], $problem);

/**
 * The gateways named $name in the domain (every domain when $domain_uuid is null), locked FOR
 * UPDATE when $lock.
 */
function vbapi_gateway_rows($db, $domain_uuid, $name, $lock)
{
	$columns = implode(', ', str_replace(
		array('gateway_username', 'gateway_password'),
		array('username', 'password'),
		array_diff(array_keys(VBAPI_GATEWAY_FIELDS), array('register', 'caller_id_in_from'))
	));
	$sql = "SELECT gateway_uuid, gateway, CAST(enabled AS text) AS enabled, CAST(register AS text) AS register, "
		. "CAST(caller_id_in_from AS text) AS caller_id_in_from, $columns FROM v_gateways WHERE gateway = :gateway";
	$parameters = array('gateway' => $name);
	if ($domain_uuid !== null) {
		$sql .= ' AND domain_uuid = :domain_uuid';
		$parameters['domain_uuid'] = $domain_uuid;
	}
	return vbapi_query($db, $sql . ($lock ? ' FOR UPDATE' : ''), $parameters)->fetchAll(PDO::FETCH_ASSOC);
}

/**
 * The columns of a new gateway: what the request gave, FusionPBX's usual defaults otherwise.
 */
function vbapi_gateway_defaults($name, $domain, $fields, $enabled, $user_uuid)
{
	$values = array_merge(array(
		'register' => 'true',
		'expire_seconds' => '800',
		'retry_seconds' => '30',
		'profile' => 'external',
		'context' => 'public',
	), $fields);
	foreach (array('expire_seconds', 'retry_seconds', 'caller_id_in_from', 'register_transport') as $column) {
		if (isset($values[$column]) && $values[$column] === '') {
			unset($values[$column]);
		}
	}
	return array_merge($values, array(
		'gateway_uuid' => vbapi_uuid(),
		'domain_uuid' => $domain['domain_uuid'],
		'gateway' => $name,
		'enabled' => isset($enabled['enabled']) ? $enabled['enabled'] : 'true',
		'insert_user' => $user_uuid,
	));
}
