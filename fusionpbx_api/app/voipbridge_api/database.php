<?php
/*
 * voipbridge-fusionpbx-api: FusionPBX's configuration file and its PostgreSQL database.
 *
 * /etc/fusionpbx/config.conf (or the file the fusionpbx_config setting names) is read the way
 * FusionPBX reads it (an ini file): database.0.host, .port, .name, .username, .password and
 * .sslmode, and switch.event_socket.host, .port and .password (older event_socket.ip_address,
 * .port and .password are understood too). Every query is a prepared statement.
 */

if (basename(__FILE__) === basename(isset($_SERVER['SCRIPT_FILENAME']) ? $_SERVER['SCRIPT_FILENAME'] : '')) {
	http_response_code(404);
	exit;
}

/**
 * FusionPBX's configuration as key => value; refuses with a clear 500 when it cannot be read.
 */
function vbapi_fusionpbx_config($settings)
{
	$file = $settings['fusionpbx_config'];
	$values = is_file($file) && is_readable($file) ? @parse_ini_file($file) : false;
	if ($values === false) {
		vbapi_log('error', array('reason' => "cannot read $file"), LOG_ERR);
		vbapi_refuse("Cannot read FusionPBX's configuration file $file; check that it exists and the web server may read it.", 500);
	}
	return $values;
}

/**
 * A value from FusionPBX's configuration: the first of $keys that is set, else $default.
 */
function vbapi_config_value($config, $keys, $default = '')
{
	foreach ($keys as $key) {
		if (isset($config[$key]) && $config[$key] !== '') {
			return (string) $config[$key];
		}
	}
	return $default;
}

/**
 * A PDO connection to FusionPBX's database, in UTC, with exceptions on error.
 */
function vbapi_database($config)
{
	$type = vbapi_config_value($config, array('database.0.type'), 'pgsql');
	if ($type !== 'pgsql') {
		vbapi_refuse("FusionPBX's database is '$type'; these scripts support PostgreSQL only.", 500);
	}
	$dsn = array('dbname=' . vbapi_config_value($config, array('database.0.name'), 'fusionpbx'), 'connect_timeout=5');
	$host = vbapi_config_value($config, array('database.0.host'));
	if ($host !== '') {
		$dsn[] = 'host=' . $host;
	}
	$port = vbapi_config_value($config, array('database.0.port'));
	if ($port !== '') {
		$dsn[] = 'port=' . $port;
	}
	$sslmode = vbapi_config_value($config, array('database.0.sslmode'));
	if ($sslmode !== '') {
		$dsn[] = 'sslmode=' . $sslmode;
	}
	try {
		$db = new PDO(
			'pgsql:' . implode(';', $dsn),
			vbapi_config_value($config, array('database.0.username'), 'fusionpbx'),
			vbapi_config_value($config, array('database.0.password')),
			array(PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_EMULATE_PREPARES => false)
		);
	} catch (PDOException $error) {
		vbapi_log('error', array('reason' => 'database: ' . $error->getMessage()), LOG_ERR);
		vbapi_refuse("Cannot connect to FusionPBX's database; see the FusionPBX server's log.", 500);
	}
	vbapi_query($db, "SET TIME ZONE 'UTC'");
	return $db;
}

/**
 * Run a prepared statement with $parameters and return it (fetch from it).
 */
function vbapi_query($db, $sql, $parameters = array())
{
	$statement = $db->prepare($sql);
	$statement->execute($parameters);
	return $statement;
}

/**
 * Run $change($db) in one transaction: committed when it returns, rolled back when it throws.
 */
function vbapi_transaction($db, $change)
{
	$db->beginTransaction();
	try {
		$result = $change($db);
		$db->commit();
	} catch (Throwable $error) {
		$db->rollBack();
		throw $error;
	}
	return $result;
}

/**
 * A boolean column's value as PHP bool: FusionPBX stores true/false (older versions the text
 * 'true'/'false'); NULL counts as false, as FusionPBX's own lookups only accept 'true'.
 */
function vbapi_is_true($value)
{
	return $value === true || $value === 't' || $value === 'true' || $value === 1 || $value === '1';
}

/**
 * The domain named $name (case-insensitive) as [domain_uuid, domain_name], or refuse.
 */
function vbapi_domain($db, $name)
{
	$row = vbapi_query(
		$db,
		'SELECT domain_uuid, domain_name FROM v_domains WHERE lower(domain_name) = lower(:name)',
		array('name' => $name)
	)->fetch(PDO::FETCH_ASSOC);
	if ($row === false) {
		vbapi_refuse("Domain $name not found");
	}
	return $row;
}

/**
 * A new random (version 4) UUID.
 */
function vbapi_uuid()
{
	$bytes = random_bytes(16);
	$bytes[6] = chr((ord($bytes[6]) & 0x0f) | 0x40);
	$bytes[8] = chr((ord($bytes[8]) & 0x3f) | 0x80);
	$hex = bin2hex($bytes);
	return substr($hex, 0, 8) . '-' . substr($hex, 8, 4) . '-' . substr($hex, 12, 4) . '-' . substr($hex, 16, 4) . '-' . substr($hex, 20);
}
